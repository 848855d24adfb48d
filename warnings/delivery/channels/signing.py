"""Signatures: our webhook's HMAC header, the gateways' body signature and DingTalk's timestamp+secret scheme
(pure, no I/O)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote_plus

SIGNATURE_PREFIX = "sha256="


def _key(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def webhook_signature(secret: str | bytes, timestamp: int | str, body: bytes) -> str:
    """The `X-Fangxun-Signature` value: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">."""
    mac = hmac.new(_key(secret), f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return SIGNATURE_PREFIX + mac.hexdigest()


def verify_webhook_signature(
    secret: str | bytes,
    timestamp: int | str,
    body: bytes,
    header: str | None,
    now: float,
    tolerance: float = 300,
) -> bool:
    """Whether `header` signs `body` at `timestamp` with `secret`, within `tolerance` s of `now`."""
    if not header or not header.startswith(SIGNATURE_PREFIX):
        return False
    try:
        stamp = int(str(timestamp).strip())
    except ValueError:
        return False
    if abs(now - stamp) > tolerance:
        return False
    expected = webhook_signature(secret, stamp, body)
    return hmac.compare_digest(expected.encode("ascii"), header.strip().encode("ascii", "replace"))


def body_signature(secret: str | bytes, body: bytes) -> str:
    """The `X-Fangxun-Signature` of the voice and SMS gateway protocol: sha256=<hex HMAC-SHA256 of the raw body>."""
    return SIGNATURE_PREFIX + hmac.new(_key(secret), body, hashlib.sha256).hexdigest()


def verify_body_signature(secret: str | bytes, body: bytes, header: str | None) -> bool:
    """Whether `header` is body_signature(secret, body) (constant-time comparison)."""
    if not header or not header.strip().startswith(SIGNATURE_PREFIX):
        return False
    expected = body_signature(secret, body)
    return hmac.compare_digest(expected.encode("ascii"), header.strip().encode("ascii", "replace"))


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's sign before URL encoding: base64(HMAC-SHA256(secret, "<timestamp>\\n<secret>"))."""
    mac = hmac.new(_key(secret), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int) -> tuple[str, str]:
    """The robot URL with `timestamp` and the URL-encoded `sign` appended, and the raw sign."""
    sign = dingtalk_sign(secret, timestamp_ms)
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}timestamp={timestamp_ms}&sign={quote_plus(sign)}", sign
