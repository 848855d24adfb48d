"""Pure rules that turn a receiver's answer into a ChannelResult; no I/O here."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

from fangxun.warnings.delivery.channels.base import ChannelResult

SNIPPET_CHARS = 160
MASK = "***"


def retry_status(status: int) -> bool:
    """Whether an HTTP status is worth retrying: 429 and 5xx are, everything else is not."""
    return status == 429 or status >= 500


def classify_status(
    status: int, body: bytes = b"", *, secrets: Iterable[str] = (), retry_after: str | None = None
) -> ChannelResult | None:
    """The failure result of a non-2xx status, or None for 2xx (the body decides then)."""
    if 200 <= status < 300:
        return None
    detail = f"HTTP {status}"
    text = body_snippet(body, secrets)
    if text:
        detail = f"{detail}: {text}"
    return ChannelResult(
        ok=False,
        retry=retry_status(status),
        detail=detail,
        status=status,
        retry_after=parse_retry_after(retry_after) if retry_status(status) else None,
    )


def classify_errcode(
    status: int, body: bytes, retryable: frozenset[int], *, secrets: Iterable[str] = ()
) -> ChannelResult:
    """The result of a 2xx answer whose JSON body carries `errcode` (WeCom, DingTalk)."""
    data = parse_json_object(body)
    code = data.get("errcode") if data else None
    if code is None or code == 0:
        return ChannelResult(ok=True, retry=False, detail=f"HTTP {status}", status=status)
    message = redact(str(data.get("errmsg") or ""), secrets)[:SNIPPET_CHARS]
    detail = f"errcode {code}: {message}" if message else f"errcode {code}"
    return ChannelResult(ok=False, retry=code in retryable, detail=detail, status=status)


def classify_code(status: int, body: bytes, *, secrets: Iterable[str] = ()) -> ChannelResult:
    """The result of a 2xx answer from the SMS gateway: `{"code": 0}` or no body is success."""
    data = parse_json_object(body)
    code = data.get("code", 0) if data else 0
    if code in (0, "0"):
        return ChannelResult(ok=True, retry=False, detail=f"HTTP {status}", status=status)
    message = redact(str(data.get("message") or data.get("msg") or ""), secrets)[:SNIPPET_CHARS]
    detail = f"gateway code {code}: {message}" if message else f"gateway code {code}"
    return ChannelResult(ok=False, retry=False, detail=detail, status=status)


def parse_json_object(body: bytes) -> dict | None:
    """The body as a JSON object, or None when it is empty, not JSON or not an object."""
    if not body.strip():
        return None
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta seconds or an HTTP date), if it is readable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
        return max(0.0, (when - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError, OverflowError):
        return None


def body_snippet(body: bytes, secrets: Iterable[str] = ()) -> str:
    """A short single-line excerpt of a response body, secrets masked before it is cut."""
    text = body.decode("utf-8", "replace")
    text = " ".join(redact(text, secrets).split())
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1] + "…"


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret masked, also in its URL-encoded forms."""
    forms = set()
    for secret in secrets:
        if secret and len(secret) >= 4:
            forms.update({secret, quote(secret, safe=""), quote_plus(secret), quote(secret)})
    # Longest first, so a secret that contains another is masked whole.
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, MASK)
    return text


def url_secrets(url: str) -> list[str]:
    """The parts of a URL that may carry a credential: the URL, its query, user info, long path parts."""
    parts = urlsplit(url)
    found = [url, parts.query]
    found += [value for _, value in parse_qsl(parts.query)]
    found += [pair.partition("=")[2] for pair in parts.query.split("&")]
    found.append(parts.password or "")
    # Some receivers put the token in the path (…/hooks/<token>).
    found += [segment for segment in parts.path.split("/") if len(segment) >= 16]
    return [item for item in found if item]
