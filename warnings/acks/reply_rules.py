"""SMS replies (上行短信) as pure rules: which replies are 叫应, phone numbers compared across their spellings, and
numbers masked for the wall screen. Pure: no I/O."""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import UTC, datetime

# What every SMS that takes replies ends with.
REPLY_HINT = "回复1确认收到"
# A whole reply (spaces anywhere, punctuation and symbols around it left out) that means 收到.
ACK_WORDS = frozenset({"1", "收到", "确认", "已收到", "确认收到"})
# Unicode categories trimmed off both ends of a reply: punctuation, symbols (！ ~ 👍), separators, controls.
_EDGE_CATEGORIES = ("P", "S", "Z", "C")
# Left out of a phone number wherever they are: what people and gateways put between its digits.
_PHONE_SEPARATORS = " -()."
MIN_PHONE_DIGITS, MAX_PHONE_DIGITS = 3, 20


def reply_words(text: str) -> str:
    """`text` as it is compared: NFKC (full-width digits, letters and spaces become plain), every space
    removed, punctuation and symbols trimmed from both ends."""
    folded = "".join(unicodedata.normalize("NFKC", text).split())
    start, end = 0, len(folded)
    while start < end and unicodedata.category(folded[start])[0] in _EDGE_CATEGORIES:
        start += 1
    while end > start and unicodedata.category(folded[end - 1])[0] in _EDGE_CATEGORIES:
        end -= 1
    return folded[start:end]


def is_ack_reply(text: str) -> bool:
    """Whether a reply acknowledges (叫应): 1, 收到 or 确认 (also 已收到, 确认收到), alone, in any width, with
    spaces and with punctuation around it ("１", " 1 ", "收到！"); anything else is a report."""
    return reply_words(text) in ACK_WORDS


def phone_key(number: str) -> str | None:
    """A phone number as compared: its digits, without the country code of China (+86, 0086, or 86 before an
    11-digit mobile number); a landline keeps its trunk 0 (+86 371 … is 0371 …). None when it is no number."""
    text = unicodedata.normalize("NFKC", number).strip()
    for separator in _PHONE_SEPARATORS:
        text = text.replace(separator, "")
    plus = text.startswith("+")
    digits = text[1:] if plus else text
    if not digits.isascii() or not digits.isdigit():
        return None
    if plus or digits.startswith("00"):
        international = digits.removeprefix("00") if not plus else digits
        if international.startswith("86"):
            national = international[2:]
            digits = national if national.startswith(("1", "0")) else "0" + national
        else:
            digits = "00" + international  # a foreign number: kept whole, never equal to a Chinese one
    elif len(digits) == 13 and digits.startswith("861"):
        digits = digits[2:]
    if not MIN_PHONE_DIGITS <= len(digits) <= MAX_PHONE_DIGITS:
        return None
    return digits


def phone_spellings(key: str) -> tuple[str, ...]:
    """The compact spellings (separators left out) a stored address of the number `key` may have: national,
    and with +86, 86 or 0086 in front (without a landline's trunk 0)."""
    if key.startswith("00"):
        return (key, "+" + key[2:])
    international = key[1:] if key.startswith("0") else key
    return tuple(dict.fromkeys((key, "+86" + international, "86" + international, "0086" + international)))


def answerable(status: str, attempts: int, acked: bool) -> bool:
    """Whether a 收到 by SMS answers a notification: not yet acknowledged, not withdrawn, and sent or tried at
    least once (a row still waiting for its first attempt, say in quiet hours, has not reached anyone)."""
    if acked or status == "cancelled":
        return False
    return status != "pending" or attempts > 0


def mask_phone(number: str) -> str:
    """A number for the wall screen: 139****0008 (the first three and last four digits)."""
    key = phone_key(number) or number
    if len(key) <= 7:
        return key[:2] + "*" * max(0, len(key) - 2)
    return key[:3] + "*" * (len(key) - 7) + key[-4:]


def reply_fingerprint(key: str, text: str, received_at: datetime) -> str:
    """What makes two inbound messages the same: the number, the text and the moment it was received."""
    return hashlib.sha256(f"{key}\n{received_at.astimezone(UTC).isoformat()}\n{text}".encode()).hexdigest()
