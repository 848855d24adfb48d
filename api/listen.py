"""The listening sockets of `serve`, bound before the application starts so the address (and a port the OS
chose for port 0) is known to the links the service hands out."""

from __future__ import annotations

import socket

from fangxun.core.errors import FangxunError
from fangxun.core.public_base import host_port


def bind(host: str, port: int) -> list[socket.socket]:
    """A socket for every address `host` resolves to ("" or 0.0.0.0/:: for every interface), as asyncio's own
    server would bind them; with port 0 they all share the port the OS gave the first one."""
    try:
        infos = socket.getaddrinfo(host or None, port, socket.AF_UNSPEC, socket.SOCK_STREAM, 0, socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise FangxunError(f"无法监听 {host_port(host, port)}：找不到该主机（{exc.strerror}）") from exc
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
        raise FangxunError(f"无法监听 {host_port(host, port)}：{exc.strerror or exc}") from exc
    if not sockets:
        raise FangxunError(f"无法监听 {host_port(host, port)}：本机不支持该地址")
    return sockets


def bound_port(sockets: list[socket.socket]) -> int:
    """The port the sockets listen on."""
    return sockets[0].getsockname()[1]


def bound_addresses(sockets: list[socket.socket]) -> list[str]:
    """The addresses the sockets hold."""
    return [sock.getsockname()[0] for sock in sockets]
