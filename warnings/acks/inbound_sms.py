"""The SMS gateway's inbound message (上行短信) `{"from", "text", "received_at"}`, read and checked field by field
(pure: no I/O)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from fangxun.core.errors import BadInput
from fangxun.core.times import parse_local_time
from fangxun.warnings.acks.reply_rules import phone_key, reply_fingerprint

MAX_FROM_CHARS = 32
MAX_TEXT_CHARS = 1000  # a long SMS is sent as up to a dozen parts of 67 characters
# Control characters (PostgreSQL cannot store NUL at all); line breaks and tabs are kept.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class InboundSms:
    """One inbound message as the gateway posted it, with the number as compared (reply_rules.phone_key)."""

    sender: str
    phone: str
    text: str
    received_at: datetime  # aware UTC

    @property
    def fingerprint(self) -> str:
        """The same message posted twice has the same fingerprint."""
        return reply_fingerprint(self.phone, self.text, self.received_at)


def _bad(field: str, detail: str) -> BadInput:
    return BadInput(f"{field}：{detail}" if field else detail, extra={"field": field})


def _text(document: dict, field: str, limit: int) -> str:
    value = document.get(field)
    if value is None:
        raise _bad(field, "缺少必填字段")
    if not isinstance(value, str):
        raise _bad(field, "应为文本")
    if not value.strip():
        raise _bad(field, "不能为空")
    if len(value) > limit:
        raise _bad(field, f"超过最大长度 {limit} 字")
    if _CONTROL.search(value):
        raise _bad(field, "含有不允许的控制字符")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate ("\ud800") in the JSON
        raise _bad(field, "含有无效字符") from None
    return value


def parse_inbound(body: bytes) -> InboundSms:
    """The message in `body` (UTF-8 JSON); BadInput naming the first bad field. Other fields are ignored."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _bad("", "请求体不是有效的 JSON") from None
    if not isinstance(document, dict):
        raise _bad("", "请求体应为 JSON 对象")
    sender = _text(document, "from", MAX_FROM_CHARS).strip()
    phone = phone_key(sender)
    if phone is None:
        raise _bad("from", f"不是有效的电话号码：{sender!r}")
    text = _text(document, "text", MAX_TEXT_CHARS).strip()
    try:
        received_at = parse_local_time(document.get("received_at"), "received_at", dates=False)
    except OverflowError:
        raise _bad("received_at", "时间超出范围") from None
    return InboundSms(sender=sender, phone=phone, text=text, received_at=received_at)
