"""The 阿里云语音服务 voice channel against the simulated service, with the service's push route on a real local
server: the signature against the published example, each way a call goes, key 1 acknowledging like the link,
retries by error code, repeated, late, foreign and badly addressed pushes; on both databases."""

from __future__ import annotations

import json
import random

import pytest
from sqlalchemy import select
from support.aliyun_voice import (ACCESS_KEY_ID, ACCESS_KEY_SECRET, ANSWERS_KEY_1, ANSWERS_NO_KEY, BUSY,
                                  HANGS_UP_EARLY, KEY_ID_ENV, KEY_TIMEOUT, NO_ANSWER, REJECTED, SECRET_ENV,
                                  SWITCHED_OFF, TOKEN, TOKEN_ENV, AliyunVoice, Callee, aliyun_settings)
from support.sinks import Sink
from support.warning_factories import EAST_VILLAGE, NOON, add_registry, make_warning, notifications

from fangxun.warnings.delivery.channels.aliyun_protocol import out_id
from fangxun.warnings.delivery.channels.aliyun_signing import rpc_signature, string_to_sign
from fangxun.warnings.delivery.channels.factory import build_channels, new_http_session
from fangxun.warnings.delivery.dispatcher import Dispatcher
from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.tables import CallAttempt, Notification

VILLAGE_HEAD = (EAST_VILLAGE, "responsible", "东村支书", "13900000008", {}, "flood_plan", False)
# The example of Alibaba Cloud's signature documentation (DescribeRegions, AccessKey testid / testsecret).
PUBLISHED = {"TimeStamp": "2016-02-23T12:46:24Z", "Format": "XML", "AccessKeyId": "testid",
             "Action": "DescribeRegions", "SignatureMethod": "HMAC-SHA1",
             "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", "Version": "2014-05-26",
             "SignatureVersion": "1.0"}


def test_our_signature_is_the_published_example():
    assert string_to_sign("GET", PUBLISHED) == (
        "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1"
        "%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0"
        "%26TimeStamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26")
    assert rpc_signature("testsecret", "GET", PUBLISHED) == "CT9X0VtwR86fNWSnsc6v8YGOjuE="
    # Spaces are %20, "*" is %2A, "~" stays, Chinese is UTF-8 percent-encoded.
    assert string_to_sign("POST", {"A": "a b*~", "B": "收"}) == "POST&%2F&A%3Da%2520b%252A~%26B%3D%25E6%2594%25B6"


def test_our_call_ids_fit_out_id():
    first, second = out_id("key-1", 1), out_id("key-1", 2)
    assert len(first) == 15 and first.isalnum() and first != second and out_id("key-1", 1) == first


@pytest.fixture(autouse=True)
def aliyun_env(monkeypatch):
    for name, value in ((KEY_ID_ENV, ACCESS_KEY_ID), (SECRET_ENV, ACCESS_KEY_SECRET), (TOKEN_ENV, TOKEN)):
        monkeypatch.setenv(name, value)


@pytest.fixture
async def service():
    async with AliyunVoice() as running:
        yield running


@pytest.fixture
async def hook():
    async with Sink() as running:
        yield running


@pytest.fixture
def config(settings, hook, service):
    return aliyun_settings(settings, hook.url_for("/hook"), service.url)


@pytest.fixture
async def dispatcher(sessions, config, clock, client, service):
    """A dispatcher, and the push URL set in the simulated console: the test server of `client`."""
    service.push_url = str(client.make_url(f"/api/callbacks/voice/aliyun/{TOKEN}"))
    async with new_http_session(config.warnings.channels) as http:
        yield Dispatcher(sessions, build_channels(config.warnings.channels, http), config, clock, "v1",
                         rng=random.Random(5), ack_base_url=str(client.make_url("/")))


async def warn(sessions, config) -> None:
    async with sessions() as session, session.begin():
        await add_registry(session, [VILLAGE_HEAD])
    await ingest(sessions, make_warning(), config, NOON)


async def the_row(sessions) -> Notification:
    async with sessions() as session:
        (row,) = await notifications(session, channel="aliyun")
        return row


async def calls(sessions) -> list[CallAttempt]:
    async with sessions() as session:
        return list((await session.execute(select(CallAttempt).order_by(CallAttempt.id))).scalars())


@pytest.mark.parametrize(("callee", "status", "answered", "acked"), [
    (ANSWERS_KEY_1, "answered", True, True),
    (Callee("200000", "21", 70), "answered", True, True),  # heard again, then confirmed
    (ANSWERS_NO_KEY, "answered", True, False),
    (Callee("200000", "", 8), "answered", True, False),  # Alibaba says heard through: not early
    (HANGS_UP_EARLY, "hung_up_early", True, False),
    (Callee("200001", "1", 9), "answered", True, True),  # key 1 before hanging up
    (KEY_TIMEOUT, "answered", True, False),
    (Callee("200008", "", 5), "hung_up_early", True, False),  # our rule where Alibaba says nothing
    (NO_ANSWER, "no_answer", False, False),
    (BUSY, "busy", False, False),
    (REJECTED, "rejected", False, False),
    (SWITCHED_OFF, "failed", False, False),
    (Callee("200003", "1", 0), "no_answer", False, False),  # a key on an unanswered call counts for nothing
])
async def test_each_way_a_call_goes_is_recorded(sessions, config, service, dispatcher, clock, callee, status,
                                                answered, acked):
    await warn(sessions, config)
    service.callee(callee)
    await dispatcher.run_until_idle()
    await service.settled()
    assert [push.responses for push in service.pushes] == [[(200, {"code": 0, "msg": "接收成功"})]]
    row = await the_row(sessions)
    (call,) = await calls(sessions)
    assert (call.notification_id, call.channel, call.to_number) == (row.id, "aliyun", "13900000008")
    assert call.call_id == out_id(row.idempotency_key, 1)
    assert (call.status, call.answered, call.keys, call.duration_s) == (status, answered, callee.dtmf,
                                                                        callee.duration)
    assert json.loads(call.callback)["out_id"] == call.call_id and call.accepted_at == clock.now()
    assert row.status == "delivered"
    assert (row.acked_at is not None, row.acked_via) == ((True, "voice") if acked else (False, None))


async def test_the_request_is_a_signed_ivr_call_with_the_key_menu(sessions, config, service, dispatcher):
    await warn(sessions, config)
    service.hold = True
    await dispatcher.run_until_idle()
    (request,) = service.requests
    params = request.params
    assert request.signed and params["Signature"]
    assert (params["Action"], params["Version"], params["SignatureMethod"], params["SignatureVersion"],
            params["Format"], params["AccessKeyId"]) == ("IvrCall", "2017-05-25", "HMAC-SHA1", "1.0", "JSON",
                                                         ACCESS_KEY_ID)
    (call,) = await calls(sessions)
    assert params["OutId"] == call.call_id and params["CalledNumber"] == "13900000008"
    assert (params["CalledShowNumber"], params["StartCode"], params["PlayTimes"]) == ("057100000000", "TTS_100001", "2")
    assert (params["MenuKeyMap.1.Key"], params["MenuKeyMap.1.Code"]) == ("1", "TTS_100002")
    assert (params["MenuKeyMap.2.Key"], params["MenuKeyMap.2.Code"]) == ("2", "TTS_100001")
    text = json.loads(params["StartTtsParams"])["text"]
    assert params["MenuKeyMap.2.TtsParams"] == params["StartTtsParams"]
    assert text.startswith("【紧急】暴雨红色预警") and text.endswith("按1确认收到，按2重听。") and "http" not in text
    assert ACCESS_KEY_SECRET not in json.dumps(params)


@pytest.mark.parametrize(("status", "code", "retried"), [
    (200, "isv.BUSINESS_LIMIT_CONTROL", True),
    (400, "Throttling.User", True),
    (503, "ServiceUnavailable", True),
    (500, None, True),
    ("timeout", None, True),
    (400, "isv.INVALID_PARAMETERS", False),
    (200, "isv.TEMPLATE_MISSING_PARAMETERS", False),
    (403, "Forbidden.NoPermission", False),
])
async def test_answers_are_retried_by_their_code(sessions, config, service, dispatcher, clock, status, code,
                                                 retried):
    await warn(sessions, config)
    service.script(status, code)
    await dispatcher.run_until_idle()
    clock.advance(minutes=5)
    await dispatcher.run_until_idle()
    await service.settled()
    row = await the_row(sessions)
    (call,) = await calls(sessions)
    if retried:  # the same call (OutId) asked again, then placed and answered with key 1
        assert [request.params["OutId"] for request in service.requests] == [call.call_id] * 2
        assert row.status == "delivered" and row.attempts == 2 and row.acked_via == "voice"
        assert call.status == "answered" and call.request_error is None
    else:
        assert len(service.requests) == 1 and not service.placed
        assert row.status == "failed" and row.attempts == 1 and (code in row.last_error)
        assert (call.status, call.accepted_at, call.result_at) == ("failed", None, None)


async def test_a_service_that_does_not_take_our_signature_refuses_for_good(sessions, config, clock, client):
    async with AliyunVoice("another-secret") as other:
        channels = {"aliyun": config.warnings.channels["aliyun"].model_copy(update={"endpoint": other.url})}
        async with new_http_session(channels) as http:
            await warn(sessions, config)
            await Dispatcher(sessions, build_channels({**config.warnings.channels, **channels}, http), config, clock,
                             "v2", ack_base_url="http://127.0.0.1:9/").run_until_idle()
        assert len(other.requests) == 1 and not other.requests[0].signed and not other.placed
    row = await the_row(sessions)
    assert row.status == "failed" and "SignatureDoesNotMatch" in row.last_error
    assert ACCESS_KEY_SECRET not in row.last_error


async def test_repeated_late_and_foreign_pushes_change_nothing(sessions, config, service, dispatcher, clock):
    await warn(sessions, config)
    service.hold = True
    service.callee(ANSWERS_KEY_1)
    await dispatcher.run_until_idle()
    (push,) = await service.release()
    row = await the_row(sessions)
    (first,) = await calls(sessions)
    assert push.responses == [(200, {"code": 0, "msg": "接收成功"})] and row.acked_via == "voice"
    clock.advance(minutes=1)
    record = json.loads(push.body)[0]
    later = service.record(first.call_id, NO_ANSWER)  # another record of the same call, arriving after
    intermediate = {"call_id": record["call_id"], "status_code": "200003", "status_time": "2026-06-01 10:00:50",
                    "out_id": first.call_id, "dtmf": ""}
    foreign = service.record("zzzzzzzzzzzzzzz", ANSWERS_KEY_1)
    assert await service.push([record, later, intermediate, foreign]) == (200, {"code": 0, "msg": "接收成功"})
    (call,) = await calls(sessions)
    after = await the_row(sessions)
    assert (call.status, call.keys, call.result_at, call.callback) == ("answered", "1", first.result_at,
                                                                     first.callback)
    assert (after.acked_at, after.acked_via) == (row.acked_at, "voice")


async def test_a_record_arriving_before_the_acceptance_is_noted_still_counts(sessions, config, service, dispatcher):
    # Out of order: the record may come before we wrote down that Alibaba took the call.
    await warn(sessions, config)
    service.hold = True
    await dispatcher.run_until_idle()
    (call,) = await calls(sessions)
    assert await service.push([service.record(call.call_id, ANSWERS_KEY_1)]) == (200, {"code": 0, "msg": "接收成功"})
    assert (await the_row(sessions)).acked_via == "voice"


async def test_a_push_with_the_wrong_token_or_channel_records_nothing(sessions, config, service, dispatcher, client):
    await warn(sessions, config)
    service.hold = True
    await dispatcher.run_until_idle()
    (call,) = await calls(sessions)
    record = service.record(call.call_id, ANSWERS_KEY_1)
    status, reply = await service.push([record], token="not-the-token")
    assert status == 401 and reply["error"] == "unauthorized"
    status, _ = await service.push([record], url=str(client.make_url(f"/api/callbacks/voice/nosuch/{TOKEN}")))
    assert status == 404
    status, reply = await service.push({"not": "an array"})
    assert status == 400
    (after,) = await calls(sessions)
    assert after.result_at is None and (await the_row(sessions)).acked_at is None


async def test_an_unknown_call_is_answered_and_recorded_nowhere(sessions, config, service, dispatcher):
    # `dispatcher` sets the push URL; Alibaba would push a record of a call we do not know three more times.
    status, reply = await service.push([service.record("abcdefghijklmno", ANSWERS_KEY_1)])
    assert (status, reply) == (200, {"code": 0, "msg": "接收成功"}) and await calls(sessions) == []


async def test_without_the_token_set_the_push_is_refused_for_later(sessions, config, service, dispatcher,
                                                                  monkeypatch):
    monkeypatch.delenv(TOKEN_ENV)
    status, _ = await service.push([service.record("abcdefghijklmno", ANSWERS_KEY_1)])
    assert status == 503
