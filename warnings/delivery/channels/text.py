"""Fitting message text into a receiver's size limit without losing the ack link (pure)."""

from __future__ import annotations

ELLIPSIS = "…"


def cut_utf8(text: str, max_bytes: int) -> str:
    """The longest prefix of `text` whose UTF-8 encoding fits in `max_bytes`."""
    if max_bytes <= 0:
        return ""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    # "ignore" drops the partial character left at the cut.
    return encoded[:max_bytes].decode("utf-8", "ignore")


def fit_bytes(head: str, body: str, tail: str, max_bytes: int) -> str:
    """head + body + tail within `max_bytes` of UTF-8: the body is cut first, then the head."""
    whole = head + body + tail
    if len(whole.encode("utf-8")) <= max_bytes:
        return whole
    mark = len(ELLIPSIS.encode("utf-8"))
    room = max_bytes - len(head.encode("utf-8")) - len(tail.encode("utf-8")) - mark
    if room >= 0:
        return head + cut_utf8(body, room) + ELLIPSIS + tail
    # Even the head does not fit beside the tail: keep the tail (the ack link) whole.
    return cut_utf8(head, max_bytes - len(tail.encode("utf-8")) - mark) + ELLIPSIS + tail


def fit_chars(head: str, body: str, tail: str, max_chars: int) -> str:
    """head + body + tail within `max_chars` characters (SMS counts characters, not bytes)."""
    whole = head + body + tail
    if len(whole) <= max_chars:
        return whole
    room = max_chars - len(head) - len(tail) - len(ELLIPSIS)
    if room >= 0:
        return head + body[:room] + ELLIPSIS + tail
    return head[: max(0, max_chars - len(tail) - len(ELLIPSIS))] + ELLIPSIS + tail
