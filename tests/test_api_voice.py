"""POST /api/callbacks/voice/{channel} as a hostile or careless gateway meets it: no account needed, the
signature is the credential; every refusal records nothing and nothing answers 500; on both databases."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from support.voice_gateway import SECRET, SECRET_ENV, voice_settings
from support.warning_factories import EAST_VILLAGE, NOON, add_registry, make_warning, notifications

from fangxun.warnings.delivery.calls import CallLedger
from fangxun.warnings.delivery.channels.signing import body_signature
from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.tables import CallAttempt

PATH = "/api/callbacks/voice/voice"
VILLAGE_HEAD = (EAST_VILLAGE, "responsible", "东村支书", "13900000008", {}, "flood_plan", False)


@pytest.fixture(autouse=True)
def voice_secret(monkeypatch):
    monkeypatch.setenv(SECRET_ENV, SECRET)


@pytest.fixture
def config(settings):
    return voice_settings(settings, "http://127.0.0.1:9/hook", "http://127.0.0.1:9/call")


@pytest.fixture
async def call(sessions, config, clock) -> str:
    """The call id of the one 责任人's call, opened as the channel opens it."""
    async with sessions() as session, session.begin():
        await add_registry(session, [VILLAGE_HEAD])
    await ingest(sessions, make_warning(), config, NOON)
    async with sessions() as session:
        (row,) = await notifications(session, channel="voice")
    return (await CallLedger(sessions, clock.now).open(row.idempotency_key, "voice", row.address)).call_id


def report(call: str, **changes) -> bytes:
    document = {"call_id": call, "status": "answered", "keys": "1", "duration_s": 31,
                "ended_at": "2026-06-01T10:01:00+08:00", **changes}
    return json.dumps(document).encode()


def signed(body: bytes, secret: str = SECRET) -> dict:
    return {"X-Fangxun-Signature": body_signature(secret, body), "Content-Type": "application/json"}


async def stored(sessions) -> CallAttempt:
    async with sessions() as session:
        return (await session.execute(select(CallAttempt))).scalar_one()


async def acked(sessions) -> bool:
    async with sessions() as session:
        (row,) = await notifications(session, channel="voice")
    return row.acked_at is not None


async def assert_nothing_recorded(sessions) -> None:
    row = await stored(sessions)
    assert (row.status, row.result_at, row.callback, row.keys) == ("requested", None, None, "")
    assert not await acked(sessions)


async def test_a_signed_result_needs_no_account_and_acknowledges(client, sessions, call, clock):
    body = report(call)
    response = await client.post(PATH, data=body, headers=signed(body))
    assert response.status == 200
    assert await response.json() == {"call_id": call, "recorded": True, "duplicate": False, "status": "answered",
                                     "acknowledged": True}
    row = await stored(sessions)
    assert (row.status, row.keys, row.duration_s, row.callback) == ("answered", "1", 31.0, body.decode())
    assert row.ended_at.isoformat() == "2026-06-01T02:01:00+00:00" and row.result_at == clock.now()
    assert await acked(sessions)


@pytest.mark.parametrize("headers", [
    {},
    {"X-Fangxun-Signature": ""},
    {"X-Fangxun-Signature": "sha256="},
    {"X-Fangxun-Signature": "sha256=" + "0" * 64},
    {"X-Fangxun-Signature": "md5=abc"},
    {"X-Fangxun-Signature": "sha256=" + "é" * 64},
])
async def test_a_missing_or_wrong_signature_is_401_and_records_nothing(client, sessions, call, headers):
    response = await client.post(PATH, data=report(call), headers=headers)
    assert response.status == 401 and (await response.json())["error"] == "unauthorized"
    await assert_nothing_recorded(sessions)


async def test_a_signature_of_another_secret_or_another_body_is_401(client, sessions, call):
    body = report(call)
    for headers in (signed(body, "another-secret"), signed(report(call, keys="")), signed(body + b" ")):
        response = await client.post(PATH, data=body, headers=headers)
        assert response.status == 401
    await assert_nothing_recorded(sessions)


async def test_an_unknown_call_or_channel_is_404(client, sessions, call):
    body = report("fxc-" + "0" * 32)
    response = await client.post(PATH, data=body, headers=signed(body))
    assert response.status == 404 and (await response.json())["field"] == "call_id"
    body = report(call)
    for path in ("/api/callbacks/voice/nosuch", "/api/callbacks/voice/hook"):  # hook is a webhook, not a voice channel
        response = await client.post(path, data=body, headers=signed(body))
        assert response.status == 404
    await assert_nothing_recorded(sessions)


async def test_the_same_result_twice_is_recorded_once(client, sessions, call, clock):
    body = report(call)
    first = await client.post(PATH, data=body, headers=signed(body))
    recorded = await stored(sessions)
    clock.advance(minutes=1)
    second = await client.post(PATH, data=body, headers=signed(body))
    other = report(call, status="no_answer", keys="", duration_s=0)
    third = await client.post(PATH, data=other, headers=signed(other))
    assert [first.status, second.status, third.status] == [200, 200, 200]
    assert [(await r.json())["recorded"] for r in (first, second, third)] == [True, False, False]
    again = await stored(sessions)
    assert (again.status, again.result_at, again.callback) == ("answered", recorded.result_at, body.decode())


@pytest.mark.parametrize(("body", "field"), [
    (b'{"call_id": "%s", "status": "ok"}', "status"),
    (b'{"call_id": "%s", "status": "answered", "duration_s": "31"}', "duration_s"),
    (b'{"call_id": "%s", "status": "answered", "duration_s": NaN}', None),
    (b'{"call_id": "%s", "status": "answered", "keys": 1}', "keys"),
    (b'{"call_id": "%s", "status": "answered", "keys": ["1"]}', "keys"),
    (b'{"call_id": "%s", "status": "answered", "ended_at": "yesterday"}', "ended_at"),
    (b'{"call_id": "%s", "status": "answered", "ended_at": {"$date": 1}}', "ended_at"),
    (b'{"call_id": ["%s"], "status": "answered"}', "call_id"),
    (b'{"status": "answered", "x": "%s"}', "call_id"),
])
async def test_a_bad_field_is_400_naming_it_and_records_nothing(client, sessions, call, body, field):
    body = body.replace(b"%s", call.encode())
    response = await client.post(PATH, data=body, headers=signed(body))
    assert response.status == 400
    answer = await response.json()
    if field is not None:
        assert answer["field"] == field and answer["detail"].startswith(field)
    await assert_nothing_recorded(sessions)


@pytest.mark.parametrize(("body", "detail"), [
    (b"", "JSON"),
    (b"not json", "JSON"),
    (b'{"call_id": "x", ', "JSON"),
    (b"\xff\xfe\x00{", "JSON"),
    (b'["answered"]', "JSON 对象"),
    (b"null", "JSON 对象"),
    (b"[" * 7000 + b"]" * 7000, "JSON"),  # deep nesting within the size limit
    (b'{"call_id": "x", "status": "answered", "deep": ' + b"[" * 5000 + b"]" * 5000 + b"}", "JSON"),
])
async def test_malformed_json_is_400_never_500(client, sessions, call, body, detail):
    response = await client.post(PATH, data=body, headers=signed(body))
    assert response.status == 400 and detail in (await response.json())["detail"]
    await assert_nothing_recorded(sessions)


async def test_a_huge_body_is_413_announced_or_not(client, sessions, call):
    body = report(call, padding="x" * 20000)
    response = await client.post(PATH, data=body, headers=signed(body))
    assert response.status == 413

    async def chunks():
        for _ in range(40):
            yield b"x" * 1024

    response = await client.post(PATH, data=chunks(), headers=signed(b""))
    assert response.status == 413
    await assert_nothing_recorded(sessions)


async def test_fields_we_do_not_know_are_ignored(client, sessions, call):
    body = report(call, carrier={"line": "CMCC", "cost": 0.1}, tts_engine="x")
    response = await client.post(PATH, data=body, headers=signed(body))
    assert response.status == 200 and (await stored(sessions)).status == "answered"


async def test_without_the_secret_in_the_environment_it_is_503(client, sessions, call, monkeypatch):
    monkeypatch.delenv(SECRET_ENV)
    body = report(call)
    response = await client.post(PATH, data=body, headers=signed(body))
    assert response.status == 503 and SECRET not in await response.text()
    await assert_nothing_recorded(sessions)


async def test_other_methods_are_405(client, call):
    for method in ("GET", "PUT", "DELETE"):
        response = await client.request(method, PATH)
        assert response.status == 405
