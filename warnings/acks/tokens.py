"""Ack tokens (叫应 links): derived from a notification's idempotency key, only their hash stored. Pure: no I/O."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

TOKEN_LENGTH = 16  # base64url characters: 96 bits
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16}$")
ACK_PATH = "/ack/"


def ack_token(secret: bytes, idempotency_key: str) -> str:
    """The notification's ack token: HMAC of its idempotency key, so a resend carries the same link."""
    digest = hmac.digest(secret, b"ack:" + idempotency_key.encode(), "sha256")
    return base64.urlsafe_b64encode(digest).decode()[:TOKEN_LENGTH]


def token_hash(token: str) -> str:
    """What is stored of a token: its SHA-256 (hex)."""
    return hashlib.sha256(token.encode()).hexdigest()


def ack_url(base_url: str, token: str) -> str:
    """The link a recipient opens to acknowledge."""
    return base_url.rstrip("/") + ACK_PATH + token
