"""The listening sockets of `serve`, bound before the application starts so the address (and a port the OS
chose for port 0) is known to the links the service hands out. An address that cannot be listened on (a busy
port, a privileged one, an unknown host) is one Chinese line: bad input, so `fangxun serve` exits 2."""

from __future__ import annotations

import errno
import socket

from fangxun.core.errors import BadInput
from fangxun.core.os_errors import reason
from fangxun.core.public_base import host_port


def bind(host: str, port: int) -> list[socket.socket]:
    """A socket for every address `host` resolves to ("" or 0.0.0.0/:: for every interface), as asyncio's own
    server would bind them; with port 0 they all share the port the OS gave the first one."""
    try:
        infos = socket.getaddrinfo(host or None, port, socket.AF_UNSPEC, socket.SOCK_STREAM, 0, socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise BadInput(f"无法监听 {host_port(host, port)}：{reason(exc)}") from exc
    sockets: list[socket.socket] = []
    seen = set()
    try:
        for family, kind, proto, _, address in infos:
            if (family, address[0]) in seen:
                continue
            seen.add((family, address[0]))
            try:
                sock = socket.socket(family, kind, proto)
            except OSError:  # a family this machine does not have (IPv6 turned off): asyncio skips it too
                continue
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            if port == 0 and len(sockets) > 1:
                address = (address[0], sockets[0].getsockname()[1], *address[2:])
            sock.bind(address)
    except OSError as exc:
        for sock in sockets:
            sock.close()
        raise BadInput(f"无法监听 {host_port(host, port)}：{_busy(exc, port)}") from exc
    if not sockets:
        raise BadInput(f"无法监听 {host_port(host, port)}：本机不支持该地址")
    return sockets


def _busy(exc: OSError, port: int) -> str:
    """Why binding failed, with what to do about the common cases."""
    if exc.errno == errno.EADDRINUSE:
        return "端口已被占用（另一个程序正在使用它）；请换一个端口，如 --port " + str(port + 1 if 0 < port < 65535 else 8081)
    if exc.errno in (errno.EACCES, errno.EPERM) and 0 < port < 1024:
        return "权限不足（1024 以下的端口需要管理员权限）；请换一个端口，如 --port 8080"
    return reason(exc)


def bound_port(sockets: list[socket.socket]) -> int:
    """The port the sockets listen on."""
    return sockets[0].getsockname()[1]


def bound_addresses(sockets: list[socket.socket]) -> list[str]:
    """The addresses the sockets hold."""
    return [sock.getsockname()[0] for sock in sockets]
