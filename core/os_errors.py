"""The common operating-system errors in Chinese, so a message to a user never ends in English ("Address already in
use", "No such file or directory"). Pure: no I/O."""

from __future__ import annotations

import errno
import socket

_ERRNO_TEXTS = {
    errno.EADDRINUSE: "地址已被占用（另一个程序正在使用该端口）",
    errno.EADDRNOTAVAIL: "本机没有这个地址",
    errno.EACCES: "权限不足",
    errno.EPERM: "不允许的操作（权限不足）",
    errno.ENOENT: "文件或目录不存在",
    errno.ENOTDIR: "路径中有一部分不是目录",
    errno.EISDIR: "这是一个目录，不是文件",
    errno.EEXIST: "文件已存在",
    errno.ENOSPC: "磁盘空间不足",
    errno.EROFS: "文件系统只读",
    errno.ECONNREFUSED: "连接被拒绝（对方没有在该端口监听）",
    errno.ECONNRESET: "连接被对方断开",
    errno.ETIMEDOUT: "连接超时",
    errno.EHOSTUNREACH: "无法到达该主机",
    errno.ENETUNREACH: "网络不可达",
    errno.EMFILE: "打开的文件过多",
}
_RESOLVER_TEXTS = {
    socket.EAI_NONAME: "找不到该主机",
    socket.EAI_AGAIN: "暂时无法解析该主机名（域名服务器无应答）",
    socket.EAI_FAIL: "无法解析该主机名",
    socket.EAI_FAMILY: "不支持该地址类型",
    socket.EAI_SERVICE: "端口无效",
}
if hasattr(socket, "EAI_NODATA"):
    _RESOLVER_TEXTS[socket.EAI_NODATA] = "找不到该主机"


def reason(exc: OSError) -> str:
    """Why `exc` happened, in Chinese when it is a common error; else the system's own words."""
    if isinstance(exc, socket.gaierror):
        return _RESOLVER_TEXTS.get(exc.errno, f"无法解析主机名（{exc.strerror or exc}）")
    if isinstance(exc, TimeoutError) and exc.errno is None:
        return _ERRNO_TEXTS[errno.ETIMEDOUT]
    text = _ERRNO_TEXTS.get(exc.errno)
    if text is None:
        return exc.strerror or str(exc) or type(exc).__name__
    return text


def os_error_text(exc: OSError) -> str:
    """`exc` as one Chinese line: the file it names (both, for a rename) and the reason."""
    files = [str(name) for name in (exc.filename, exc.filename2) if name is not None]
    return f"{' → '.join(files)}：{reason(exc)}" if files else reason(exc)
