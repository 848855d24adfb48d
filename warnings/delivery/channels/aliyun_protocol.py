"""阿里云语音服务 (dyvmsapi 2017-05-25) as the voice channel speaks it, pure: the IvrCall request, what its answer
means (taken, retried, refused) and the VoiceReport call records pushed to us, turned into the voice
channel's own CallReport.

A plain SingleCallByTts call cannot be used: key 1 must acknowledge, and the documented call record of a
notification call has no key the callee is asked for. IvrCall plays the message with a key menu
(MenuKeyMap) and its record carries the keys pressed (dtmf).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import datetime
from typing import Annotated, NamedTuple

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter

from fangxun.warnings.delivery.channels.base import ChannelResult
from fangxun.warnings.delivery.channels.classify import SNIPPET_CHARS, parse_json_object, redact
from fangxun.warnings.delivery.channels.voice_protocol import ACK_KEY, REPEAT_KEY, CallReport

VERSION = "2017-05-25"
ACTION = "IvrCall"
DEFAULT_ENDPOINT = "https://dyvmsapi.aliyuncs.com/"
# OutId: 1-15 bytes, given back in the call record.
OUT_ID_CHARS = 15
# Answers worth the same request again later: flow control, throttling, the service's own trouble.
RETRIED_CODES = frozenset({"isv.BUSINESS_LIMIT_CONTROL", "Throttling", "Throttling.User", "Throttling.Api",
                           "ServiceUnavailable", "InternalError", "isp.SYSTEM_ERROR", "isp.RAM_PERMISSION_DENY_TEMP"})
# The documented call status codes (呼叫状态码) of a one-party call, as our statuses. "early" is 200001:
# the callee hung up before the message was heard through.
STATUS_CODES = {
    "200000": "answered",   # 用户听完语音
    "200001": "early",      # 用户提前挂机未完整收听
    "200002": "busy",       # 用户占线
    "200003": "no_answer",  # 用户收到呼叫但未接听
    "200004": "failed",     # 用户号码不合法
    "200005": "rejected",   # 被叫用户无法接通（运营商问题或者被叫拒接等）
    "200006": "failed",     # 语音播放失败
    "200007": "failed",     # 用户无法接通（不在服务区）
    "200008": "answered",   # 获取按键超时: heard, no key pressed in time
    "200010": "failed",     # 关机
    "200011": "failed",     # 停机
    "200121": "failed",     # 呼叫超并发
}
_DIGITS = re.compile(r"\d+(?:\.\d+)?")
_KEYS = re.compile(r"[^0-9*#]")
_BEIJING_TIME = "%Y-%m-%d %H:%M:%S"


def out_id(idempotency_key: str, number: int) -> str:
    """Our id of call `number` of a notification, short enough for OutId (15 characters, 75 bits of a hash):
    the same for every request of that call, and names no person or unit."""
    digest = hashlib.sha256(f"{idempotency_key}#{number}".encode()).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:OUT_ID_CHARS]


def ivr_params(*, region_id: str, called_show_number: str, to: str, tts_code: str, tts_param: str, text: str,
               play_times: int, key_timeout_ms: int, ack_tts_code: str, call: str) -> dict[str, str]:
    """The IvrCall parameters: the message template read with `text`, key 1 → the confirmation template (收到),
    key 2 → the message again (重听); OutId our call id. MenuKeyMap goes flat (MenuKeyMap.N.Key …), as RPC
    lists do."""
    message = json.dumps({tts_param: text}, ensure_ascii=False, separators=(",", ":"))
    return {"RegionId": region_id, "CalledShowNumber": called_show_number, "CalledNumber": to,
            "StartCode": tts_code, "StartTtsParams": message, "PlayTimes": str(play_times),
            "Timeout": str(key_timeout_ms), "OutId": call,
            "MenuKeyMap.1.Key": ACK_KEY, "MenuKeyMap.1.Code": ack_tts_code,
            "MenuKeyMap.2.Key": REPEAT_KEY, "MenuKeyMap.2.Code": tts_code, "MenuKeyMap.2.TtsParams": message}


def classify_answer(status: int, body: bytes, secrets: list[str]) -> ChannelResult:
    """What an answer to IvrCall means: Code OK (HTTP 200) took the call; flow control, throttling and 5xx are
    retried; anything else (invalid parameters, template, number, signature, account) is a refusal for good."""
    data = parse_json_object(body) or {}
    code = str(data.get("Code") or "")
    if 200 <= status < 300 and code == "OK":
        return ChannelResult(ok=True, retry=False, detail=f"HTTP {status}, CallId {data.get('CallId', '')}",
                             status=status)
    message = redact(str(data.get("Message") or ""), secrets)[:SNIPPET_CHARS]
    detail = f"HTTP {status}, {code or 'no Code'}" + (f": {message}" if message else "")
    retry = code in RETRIED_CODES or code.startswith("Throttling") or status >= 500 or status == 429
    return ChannelResult(ok=False, retry=retry, detail=detail, status=status)


def _number(value: object) -> object:
    """duration arrives as "10", 10 or "10秒": the seconds."""
    if isinstance(value, int | float):
        return value
    found = _DIGITS.search(str(value or ""))
    return float(found.group()) if found else 0


class VoiceRecord(BaseModel):
    """One call record (VoiceReport) of the pushed JSON array; fields we do not use are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    call_id: str = Field(max_length=200)
    status_code: str = Field(max_length=20)
    out_id: str | None = Field(None, max_length=200)
    status_msg: str = Field("", max_length=500)
    duration: Annotated[float, BeforeValidator(_number), Field(ge=0, le=86400)] = 0
    dtmf: str | None = Field(None, max_length=200)
    start_time: str | None = Field(None, max_length=40)
    end_time: str | None = Field(None, max_length=40)
    # Present on the intermediate status messages (VoiceCallReport), absent on a call record.
    status_time: str | None = Field(None, max_length=40)


RECORDS = TypeAdapter(list[VoiceRecord])


def parse_records(body: bytes) -> list[VoiceRecord]:
    """The pushed records; pydantic's ValidationError names the bad item and field (json_invalid: not JSON)."""
    return RECORDS.validate_json(body)


def is_call_record(record: VoiceRecord) -> bool:
    """A call record (VoiceReport), not an intermediate status (VoiceCallReport: status_time, no end, no
    duration): only a call's final record may be its result."""
    return not (record.status_time and record.end_time is None and "duration" not in record.model_fields_set)


class Translated(NamedTuple):
    """A record as the voice channel's report, and the least seconds heard for an answer without key 1 to
    count as heard through: 0 when Alibaba says the message was heard through (200000), infinite when it
    says the callee hung up early (200001), the channel's min_heard_seconds otherwise."""

    report: CallReport
    min_heard_seconds: float


def translate(record: VoiceRecord, min_heard_seconds: float) -> Translated | None:
    """The record as our CallReport (keyed by our call id, the OutId); None when it names no call of ours."""
    if not record.out_id or len(record.out_id) > OUT_ID_CHARS or not record.out_id.isalnum():
        return None
    status = STATUS_CODES.get(record.status_code)
    if status is None:  # a code the table does not know: answered if the call was connected
        status = "answered" if record.start_time else "failed"
    keys = _KEYS.sub("", record.dtmf or "")[:32]
    report = CallReport(call_id=record.out_id, status="answered" if status == "early" else status,
                        keys=keys, duration_s=record.duration, ended_at=_beijing(record.end_time))
    heard = {"200000": 0.0, "200001": float("inf")}.get(record.status_code, min_heard_seconds)
    return Translated(report, heard)


def _beijing(text: str | None) -> datetime | None:
    """"2017-06-01 10:00:00" (Beijing time, naive: CallReport reads it as such); None when empty or unreadable."""
    try:
        return datetime.strptime(text.strip(), _BEIJING_TIME) if text and text.strip() else None
    except ValueError:
        return None
