"""The signed session cookie of the pages: the server-side session's token, the user name and the expiry under an
HMAC-SHA256 signature (the signature turns forgeries away before any database look-up)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

COOKIE_NAME = "fangxun_session"
_VERSION = "v2"  # v1 (no session token) is refused: its sessions could not be ended


@dataclass(frozen=True)
class SessionClaims:
    """What a valid cookie says."""

    username: str
    token: str
    expires: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, message: str) -> str:
    # A key of its own for cookies, so the shared secret can sign other things without cross-use.
    key = hmac.new(secret, b"fangxun session cookie", hashlib.sha256).digest()
    return _b64(hmac.new(key, message.encode(), hashlib.sha256).digest())


def sign_session(secret: bytes, username: str, token: str, now: datetime, hours: float) -> str:
    """A cookie value naming the session `token` of `username`, valid for `hours` from `now`."""
    expires = int((now + timedelta(hours=hours)).timestamp())
    payload = _b64(json.dumps({"u": username, "s": token, "e": expires}, separators=(",", ":")).encode())
    message = f"{_VERSION}.{payload}"
    return f"{message}.{_mac(secret, message)}"


def read_session(secret: bytes, value: str | None, now: datetime) -> SessionClaims | None:
    """The claims of a well-signed, unexpired cookie; None for anything else."""
    if not value or value.count(".") != 2:
        return None
    version, payload, signature = value.split(".")
    if version != _VERSION or not hmac.compare_digest(
            signature.encode(), _mac(secret, f"{version}.{payload}").encode()):
        return None
    try:
        data = json.loads(_unb64(payload))
        claims = SessionClaims(username=str(data["u"]), token=str(data["s"]), expires=int(data["e"]))
    except (ValueError, KeyError, TypeError):
        return None
    return claims if claims.expires > now.timestamp() else None


def secure_cookie(request_secure: bool, public_url: str) -> bool:
    """Whether the cookie is sent over HTTPS only: the request came by HTTPS, or people reach the service at an
    https public_url (a TLS front that talks plain HTTP to us)."""
    return request_secure or public_url.lower().startswith("https://")
