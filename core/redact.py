"""Masking credentials in text bound for a log: 叫应 tokens in paths, secrets in query strings and forms, bearer
tokens, passwords in URLs, and the secret values this process has read (pure: no I/O)."""

from __future__ import annotations

import re
import threading

MASK = "***"
# Values shorter than this are not masked wherever they appear: a short one would blot out common words.
MIN_SECRET_LENGTH = 8

_SEGMENT = r"[^/?#\s\"'<>]+"
_PATTERNS = (
    # 叫应 links (the token is the credential) and 阿里云's report URL (its last segment is the channel's token).
    (re.compile(rf"(/(?:api/acks|ack)/){_SEGMENT}"), rf"\g<1>{MASK}"),
    (re.compile(rf"(/api/callbacks/voice/{_SEGMENT}/){_SEGMENT}"), rf"\g<1>{MASK}"),
    # Query strings and form bodies: …?key=…&access_token=…, password=… (robot URLs carry their key so).
    (re.compile(r"(?i)((?:^|[?&;\s\"'])(?:[a-z0-9_.-]*(?:token|secret|password|passwd|pwd|apikey|api_key|"
                r"accesskey|access_key|signature|credential)[a-z0-9_.-]*|key|sign|auth|session|fangxun_session)=)"
                r"[^&;\s\"'#]*"), rf"\g<1>{MASK}"),
    # "password": "…" in a dict or JSON text.
    (re.compile(r"(?i)([\"'][a-z0-9_]*(?:token|secret|password|passwd)[a-z0-9_]*[\"']\s*:\s*[\"'])[^\"']*"),
     rf"\g<1>{MASK}"),
    # Authorization headers and their like.
    (re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]+"), rf"\g<1>{MASK}"),
    (re.compile(r"(?i)(\bauthorization[\"']?\s*[:=]\s*[\"']?[a-z]+\s+)[^\s\"']+"), rf"\g<1>{MASK}"),
    # user:password@ in URLs (database URLs, proxies).
    (re.compile(r"([a-z][a-z0-9+.-]*://[^:/@\s\"']+:)[^@/\s\"']+@"), rf"\g<1>{MASK}@"),
)

_known: set[str] = set()
_known_lock = threading.Lock()
_known_pattern: re.Pattern | None = None


def register_secret(value: str | None) -> None:
    """Mask `value` wherever it appears in a log line from now on (values shorter than MIN_SECRET_LENGTH are
    left alone: the patterns above still mask them where they stand as a credential)."""
    global _known_pattern
    if not value or len(value) < MIN_SECRET_LENGTH or value in _known:
        return
    with _known_lock:
        _known.add(value)
        # Longest first, so a secret containing another is masked whole.
        _known_pattern = re.compile("|".join(re.escape(item) for item in sorted(_known, key=len, reverse=True)))


def redact(text: str) -> str:
    """`text` with every credential it shows replaced by ***."""
    if _known_pattern is not None:
        text = _known_pattern.sub(MASK, text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
