"""What `serve` and `dispatch` say at start about the 叫应 links in messages: where they point and whether
anyone but this machine can open them. Pure: no I/O."""

from __future__ import annotations

from fangxun.core.public_base import CONFIGURED, GUESSED, PUBLIC_URL, PublicBase
from fangxun.warnings.acks.tokens import ACK_PATH

SET_PUBLIC_URL = "请在配置文件 [server] public_url 中填写他人可访问的地址"


def example_link(base: PublicBase) -> str:
    """The shape of a 叫应 link under `base`."""
    return f"{base.url}{ACK_PATH}…"


def link_lines(base: PublicBase) -> list[str]:
    """The lines about the links a process with `base` puts in messages."""
    link = example_link(base)
    if base.local_only:
        return [f"注意：消息中的叫应链接为 {link}，只能在本机打开；{SET_PUBLIC_URL}"]
    if base.source == GUESSED:
        return [f"注意：服务监听所有网卡（{base.listen}）且未配置 [server] public_url，消息中的叫应链接按本机地址"
                f"生成为 {link}；他人无法打开时，{SET_PUBLIC_URL}"]
    if base.source == PUBLIC_URL:
        return [f"叫应链接：{link}（取自配置 [server] public_url）"]
    if base.source == CONFIGURED:
        return [f"叫应链接：{link}（未配置 [server] public_url，按配置的 host/port 生成，须与 fangxun serve 的实际地址一致）"]
    return [f"叫应链接：{link}（按监听地址生成）"]


def separate_dispatch_lines(served: PublicBase, dispatched: PublicBase) -> list[str]:
    """For `serve --no-dispatch`: the links a separate `fangxun dispatch` will send, when they miss this service."""
    if dispatched.url == served.url:
        return []
    return [f"注意：另行运行的 fangxun dispatch 按配置的 host/port 生成叫应链接 {example_link(dispatched)}，"
            f"与本服务的地址 {served.url} 不同，链接将打不开；{SET_PUBLIC_URL}，或在配置文件 [server] 中写明"
            f"本服务的 host 和 port"]
