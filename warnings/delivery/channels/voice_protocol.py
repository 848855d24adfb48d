"""The generic voice gateway protocol, pure: call ids, the call request, the result callback and what a
result means (answered, hung up early, acknowledged by key 1).

Call request: POST {gateway url}, JSON {"call_id", "to", "text", "repeat", "keys": {"1": "ack",
"2": "repeat"}, "callback_url"}, header X-Fangxun-Signature: sha256=<hex HMAC-SHA256 of the raw body>.
Result callback: POST {callback_url}, JSON {"call_id", "status", "keys", "duration_s", "ended_at"}, signed
the same way.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Annotated, Literal, NamedTuple
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fangxun.core.times import BEIJING

SIGNATURE_HEADER = "X-Fangxun-Signature"
CALLBACK_PREFIX = "/api/callbacks/voice/"
CALLBACK_ROUTE = CALLBACK_PREFIX + "{channel}"
ACK_KEY, REPEAT_KEY = "1", "2"
KEYS = {ACK_KEY: "ack", REPEAT_KEY: "repeat"}
# What a gateway reports, and what a call attempt's row may say besides.
REPORTED = ("answered", "no_answer", "busy", "rejected", "failed")
REQUESTED, HUNG_UP_EARLY = "requested", "hung_up_early"
CALL_STATUSES = (REQUESTED, *REPORTED, HUNG_UP_EARLY)
CALL_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def call_id(idempotency_key: str, number: int) -> str:
    """The id of call `number` of a notification: the same for every request of that call, so a request
    repeated after a timeout or a crash is one call at the gateway (and names no person or unit)."""
    digest = hashlib.sha256(f"{idempotency_key}#{number}".encode()).hexdigest()
    return f"fxc-{digest[:32]}"


def callback_url(base_url: str, channel: str) -> str:
    """Where the gateway posts the results of `channel`'s calls."""
    return base_url.rstrip("/") + CALLBACK_PREFIX + quote(channel, safe="")


def call_request(call: str, to: str, text: str, repeat: int, callback: str) -> bytes:
    """The raw JSON body of a call request (signed as it is)."""
    return _ENCODER.encode({"call_id": call, "to": to, "text": text, "repeat": repeat, "keys": KEYS,
                            "callback_url": callback}).encode()


class CallReport(BaseModel):
    """A gateway's result callback; fields we do not know are ignored (a gateway may add its own)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    call_id: Annotated[str, Field(strict=True, pattern=CALL_ID_PATTERN)]
    status: Literal[REPORTED]
    # Keys pressed in order ("21": heard again, then acknowledged).
    keys: Annotated[str, Field(strict=True, max_length=32, pattern=r"^[0-9*#]*$")] = ""
    duration_s: Annotated[float, Field(strict=True, ge=0, le=86400, allow_inf_nan=False)] = 0
    # Without a zone it is Beijing time; absent: when we received the callback.
    ended_at: Annotated[datetime | None, Field(strict=True)] = None

    @field_validator("ended_at")
    @classmethod
    def _aware_utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        try:
            return (value if value.tzinfo else value.replace(tzinfo=BEIJING)).astimezone(UTC)
        except (OverflowError, ValueError):
            raise ValueError("时间超出可表示的范围") from None


def parse_report(body: bytes) -> CallReport:
    """The callback in `body`; pydantic's ValidationError names the bad field (json_invalid: not JSON)."""
    return CallReport.model_validate_json(body)


class CallOutcome(NamedTuple):
    """What a reported call comes to: the status to store, whether it was answered, whether it acknowledges."""

    status: str
    answered: bool
    acknowledges: bool


def call_outcome(report: CallReport, min_heard_seconds: float) -> CallOutcome:
    """Answered with key 1 acknowledges; answered for less than `min_heard_seconds` without key 1 was hung
    up early (the text was not heard through); anything else is as reported."""
    if report.status != "answered":
        return CallOutcome(report.status, False, False)
    if ACK_KEY in report.keys:
        return CallOutcome("answered", True, True)
    if report.duration_s < min_heard_seconds:
        return CallOutcome(HUNG_UP_EARLY, True, False)
    return CallOutcome("answered", True, False)
