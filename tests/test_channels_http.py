"""One retry table every HTTP channel passes against a real local server, leaking no secret."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from support.sinks import Sink, http_fixture, refused_url, sink_fixture  # noqa: F401 (fixtures)

from fangxun.warnings.delivery.channels.base import Channel, ChannelResult, OutgoingMessage
from fangxun.warnings.delivery.channels.dingtalk import DingTalkChannel
from fangxun.warnings.delivery.channels.sms import SmsChannel
from fangxun.warnings.delivery.channels.webhook import WebhookChannel
from fangxun.warnings.delivery.channels.wecom import WeComChannel

WEBHOOK_SECRET = "whsec-2f9c8e1d7a6b5c4d"
WEBHOOK_PATH_TOKEN = "T0KENinPATH9f8e7d6c"
WECOM_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
DING_TOKEN = "d1ngAccessT0ken5e4f3a2b1c0d"
DING_SECRET = "SEC0f1e2d3c4b5a69788796a5b4c3d2e1f0aa"
SMS_TOKEN = "smsBearer-77aa66bb55cc44dd"
SECRETS = [WEBHOOK_SECRET, WEBHOOK_PATH_TOKEN, WECOM_KEY, DING_TOKEN, DING_SECRET, SMS_TOKEN]

MESSAGE = OutgoingMessage(
    recipient_name="金水区防汛办",
    address="13800000000",
    title="郑州市气象台发布暴雨红色预警信号",
    text="预计未来3小时内金水区降雨量将达100毫米以上，请做好防范。",
    ack_url="https://fangxun.example/ack/Zx8kP2",
    idempotency_key="w42-金水区防汛办-sms-1",
    payload={"warning_id": 42, "colour": "red"},
)


@dataclass(frozen=True)
class Under:
    """A channel kind under test: how to build it at a base URL and what its success looks like."""

    kind: str
    path: str
    build: Callable[..., Channel]
    ok_json: object


def _webhook(http, base, timeout):
    return WebhookChannel(
        "hook", http, f"{base}/hooks/{WEBHOOK_PATH_TOKEN}", secret=WEBHOOK_SECRET, timeout_seconds=timeout
    )


def _wecom(http, base, timeout):
    return WeComChannel(
        "wecom", http, f"{base}/cgi-bin/webhook/send?key={WECOM_KEY}", timeout_seconds=timeout
    )


def _dingtalk(http, base, timeout):
    url = f"{base}/robot/send?access_token={DING_TOKEN}"
    return DingTalkChannel("ding", http, url, secret=DING_SECRET, timeout_seconds=timeout)


def _sms(http, base, timeout):
    return SmsChannel("sms", http, f"{base}/sms/send", SMS_TOKEN, timeout_seconds=timeout)


KINDS = {
    "webhook": Under("webhook", f"/hooks/{WEBHOOK_PATH_TOKEN}", _webhook, None),
    "wecom": Under("wecom", "/cgi-bin/webhook/send", _wecom, {"errcode": 0, "errmsg": "ok"}),
    "dingtalk": Under("dingtalk", "/robot/send", _dingtalk, {"errcode": 0, "errmsg": "ok"}),
    "sms": Under("sms", "/sms/send", _sms, {"code": 0, "message": "ok"}),
}


@dataclass(frozen=True)
class Case:
    """One row: what the sink answers, and what the channel must conclude."""

    name: str
    status: int | str | None
    ok: bool
    retry: bool
    json: object = None
    body: str | None = None
    headers: dict | None = None
    echo: bool = False
    kinds: tuple[str, ...] = tuple(KINDS)


def body_case(kind: str, name: str, json: dict, *, retry: bool = False) -> Case:
    """A 200 answer whose body reports a failure, for one kind."""
    return Case(f"{kind} {name}", 200, ok=False, retry=retry, json=json, kinds=(kind,))


TABLE = [
    Case("200", 200, ok=True, retry=False, json="OK_JSON"),
    Case("202 empty", 202, ok=True, retry=False),
    Case("204", 204, ok=True, retry=False),
    Case("429", 429, ok=False, retry=True),
    Case("500", 500, ok=False, retry=True),
    Case("502", 502, ok=False, retry=True),
    Case("503", 503, ok=False, retry=True),
    Case("504", 504, ok=False, retry=True),
    Case("400", 400, ok=False, retry=False),
    Case("401", 401, ok=False, retry=False),
    Case("403", 403, ok=False, retry=False),
    Case("404", 404, ok=False, retry=False),
    Case("413", 413, ok=False, retry=False),
    Case("302 is not followed", 302, ok=False, retry=False, headers={"Location": "/elsewhere"}),
    Case("slow beyond the timeout", "slow", ok=False, retry=True),
    Case("connection refused", None, ok=False, retry=True),
    Case("400 echoing the request", 400, ok=False, retry=False, echo=True),
    Case("500 echoing the request", 500, ok=False, retry=True, echo=True),
    # Errors inside a 2xx body: WeCom and DingTalk answer 200 with an errcode; the SMS gateway with a code.
    body_case("wecom", "rate limit", {"errcode": 45009, "errmsg": "api freq out of limit"}, retry=True),
    body_case("wecom", "busy", {"errcode": -1, "errmsg": "system busy"}, retry=True),
    body_case("wecom", "bad key", {"errcode": 93000, "errmsg": f"invalid webhook url key={WECOM_KEY}"}),
    body_case("wecom", "too long", {"errcode": 40058, "errmsg": "markdown.content exceed max length"}),
    body_case("dingtalk", "too fast", {"errcode": 130101, "errmsg": "send too fast"}, retry=True),
    body_case("dingtalk", "bad sign", {"errcode": 310000, "errmsg": "sign not match"}),
    body_case("dingtalk", "bad token", {"errcode": 300001, "errmsg": f"token {DING_TOKEN} invalid"}),
    body_case("sms", "refusal", {"code": 1002, "message": "号码格式错误"}),
    Case("sms plain-text 200", 200, ok=True, retry=False, body="OK", kinds=("sms",)),
    Case("webhook any 2xx body", 200, ok=True, retry=False, json={"errcode": 1}, kinds=("webhook",)),
]

ROWS = [pytest.param(KINDS[kind], case, id=f"{kind}-{case.name}") for case in TABLE for kind in case.kinds]


def leaked(result: ChannelResult, sink: Sink | None, base: str) -> list[str]:
    """Every secret-bearing string found in the result's detail."""
    forbidden = list(SECRETS) + [base + "/"]
    for request in sink.requests if sink else []:
        forbidden += [request.headers.get("X-Fangxun-Signature", "")[7:], request.query.get("sign", "")]
        forbidden.append(request.query_string)
    return [item for item in forbidden if item and item in result.detail]


@pytest.mark.parametrize(("under", "case"), ROWS)
async def test_retry_table(under: Under, case: Case, sink, http):
    if case.status is None:
        base, used = refused_url("").rstrip("/"), None
    else:
        base, used = sink.url, sink
        json = under.ok_json if case.json == "OK_JSON" else case.json
        sink.script(
            case.status,
            json=json,
            body=case.body,
            headers=case.headers,
            echo=case.echo,
            delay=1.0 if case.status == "slow" else 0,
        )
    channel = under.build(http, base, 0.3 if case.status == "slow" else 5)

    result = await channel.send(MESSAGE)

    assert (result.ok, result.retry) == (case.ok, case.retry), result
    assert result.detail and isinstance(result.detail, str)
    assert not leaked(result, used, base), result.detail
    if used:
        assert len(sink.requests) == 1 and sink.requests[0].method == "POST"
        assert sink.requests[0].path == under.path
    if isinstance(case.status, int):
        assert result.status == case.status


@pytest.mark.parametrize("under", KINDS.values(), ids=KINDS)
async def test_retry_after_is_passed_on(under: Under, sink, http):
    sink.script(429, headers={"Retry-After": "17"})
    result = await under.build(http, sink.url, 5).send(MESSAGE)
    assert result.retry and result.retry_after == 17


@pytest.mark.parametrize("under", KINDS.values(), ids=KINDS)
async def test_a_huge_error_body_is_cut(under: Under, sink, http):
    sink.script(500, body="错" * 500_000)
    result = await under.build(http, sink.url, 5).send(MESSAGE)
    assert result.retry and len(result.detail) < 300
