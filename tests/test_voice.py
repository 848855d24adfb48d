"""The voice channel against the simulated voice gateway, with the service's callback route on a real local
server: each way a call can go, retries under one call id, key 1 acknowledging like the link, late and
repeated results; on both databases."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest
from sqlalchemy import select
from support.sinks import Sink
from support.voice_gateway import (ANSWERS_KEY_1, ANSWERS_NO_KEY, BUSY, FAILS, HANGS_UP_EARLY, NO_ANSWER, SECRET,
                                   SECRET_ENV, Callee, VoiceGateway, voice_settings)
from support.warning_factories import EAST_VILLAGE, NOON, TOWN_2, add_registry, make_warning, notifications

from fangxun.core.accounts import signing_secret
from fangxun.warnings.acks.acknowledging import acknowledge
from fangxun.warnings.acks.by_call import CallResult, answer_calls
from fangxun.warnings.acks.escalation import escalate_due
from fangxun.warnings.acks.tokens import ack_token
from fangxun.warnings.delivery.calls import CallLedger, Result, mark_accepted, mark_refused, record_results
from fangxun.warnings.delivery.channels.base import DispatchContext, OutgoingMessage
from fangxun.warnings.delivery.channels.factory import build_channels, new_http_session
from fangxun.warnings.delivery.channels.signing import verify_body_signature
from fangxun.warnings.delivery.channels.voice import VoiceChannel
from fangxun.warnings.delivery.channels.voice_protocol import KEYS, CallReport, call_id, call_outcome
from fangxun.warnings.delivery.dispatcher import Dispatcher
from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.tables import CallAttempt, Notification

VILLAGE_HEAD = (EAST_VILLAGE, "responsible", "东村支书", "13900000008", {}, "flood_plan", False)
TOWN_HEAD = (TOWN_2, "responsible", "二号镇镇长", "13900000006", {}, "flood_plan", False)


@pytest.fixture(autouse=True)
def voice_secret(monkeypatch):
    """The channel's secret where the callback route reads it (the dispatcher gets it the same way)."""
    monkeypatch.setenv(SECRET_ENV, SECRET)


@pytest.fixture
async def gateway():
    async with VoiceGateway() as running:
        yield running


@pytest.fixture
async def hook():
    async with Sink() as running:
        yield running


@pytest.fixture
def config(settings, hook, gateway):
    return voice_settings(settings, hook.url_for("/hook"), gateway.url)


@pytest.fixture
async def dispatcher(sessions, config, clock, client):
    """A dispatcher whose callback base is the test server of `client` (the service's callback route)."""
    async with new_http_session(config.warnings.channels) as http:
        yield Dispatcher(sessions, build_channels(config.warnings.channels, http), config, clock, "v1",
                         rng=random.Random(5), ack_base_url=str(client.make_url("/")))


async def warn(sessions, config, persons=(VILLAGE_HEAD,)) -> int:
    """A red rainstorm warning over the city with `persons` registered; its id."""
    async with sessions() as session, session.begin():
        await add_registry(session, list(persons))
    return (await ingest(sessions, make_warning(), config, NOON)).warning.id


async def voice_rows(sessions) -> list[Notification]:
    async with sessions() as session:
        return await notifications(session, channel="voice")


async def calls(sessions) -> list[CallAttempt]:
    async with sessions() as session:
        return list((await session.execute(select(CallAttempt).order_by(CallAttempt.id))).scalars())


async def one_call(sessions) -> CallAttempt:
    found = await calls(sessions)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(("callee", "status", "answered", "acked"), [
    (ANSWERS_KEY_1, "answered", True, True),
    (Callee("answered", "21", 61.0), "answered", True, True),  # heard again, then acknowledged
    (Callee("answered", "1", 4.0), "answered", True, True),  # key 1 at once: heard enough
    (ANSWERS_NO_KEY, "answered", True, False),
    (Callee("answered", "2", 70.0), "answered", True, False),  # heard twice, never pressed 1
    (HANGS_UP_EARLY, "hung_up_early", True, False),
    (Callee("answered", "", 19.9), "hung_up_early", True, False),
    (NO_ANSWER, "no_answer", False, False),
    (BUSY, "busy", False, False),
    (Callee("rejected", "", 0.0), "rejected", False, False),
    (FAILS, "failed", False, False),
    (Callee("no_answer", "1", 0.0), "no_answer", False, False),  # a key on an unanswered call counts for nothing
])
async def test_each_way_a_call_goes_is_recorded(sessions, config, gateway, dispatcher, clock, callee, status,
                                                answered, acked):
    await warn(sessions, config)
    gateway.callee(callee)
    await dispatcher.run_until_idle()
    await gateway.settled()
    assert [callback.responses for callback in gateway.callbacks] == [[200]]
    (row,) = await voice_rows(sessions)
    call = await one_call(sessions)
    assert (call.notification_id, call.channel, call.to_number, call.call_number) == (row.id, "voice", "13900000008", 1)
    assert call.call_id == call_id(row.idempotency_key, 1)
    assert (call.status, call.answered, call.keys, call.duration_s) == (status, answered, callee.keys,
                                                                        callee.duration_s)
    assert call.requested_at == clock.now() and call.accepted_at == clock.now() and call.result_at == clock.now()
    assert json.loads(call.callback)["call_id"] == call.call_id and call.ended_at is not None
    assert row.status == "delivered"
    assert (row.acked_at is not None, row.acked_via) == ((True, "voice") if acked else (False, None))


async def test_the_request_is_signed_and_reads_the_message_without_its_link(sessions, config, gateway, dispatcher,
                                                                          client):
    await warn(sessions, config)
    gateway.hold = True
    await dispatcher.run_until_idle()
    (request,) = gateway.requests
    assert request.signed and verify_body_signature(SECRET, request.body, request.headers["X-Fangxun-Signature"])
    document = request.json
    assert set(document) == {"call_id", "to", "text", "repeat", "keys", "callback_url"}
    assert document["to"] == "13900000008" and document["repeat"] == 2 and document["keys"] == KEYS == {
        "1": "ack", "2": "repeat"}
    assert document["callback_url"] == str(client.make_url("/api/callbacks/voice/voice"))
    text = document["text"]
    assert text.startswith("【紧急】暴雨红色预警") and "东村支书" in text and "100毫米" in text
    assert text.endswith("按1确认收到，按2重听。")
    assert "http" not in text and "/ack/" not in text and "点击" not in text
    assert request.headers["Idempotency-Key"] == document["call_id"]


async def test_a_gateway_that_does_not_know_our_secret_refuses_and_nothing_is_retried(sessions, config, clock):
    # The gateway checks the signature: with another secret it answers 401, a refusal for good.
    async with VoiceGateway("another-secret") as other:
        channels = {**config.warnings.channels, "voice": config.warnings.channels["voice"].model_copy(
            update={"url": other.url})}
        changed = config.model_copy(update={"warnings": config.warnings.model_copy(update={"channels": channels})})
        async with new_http_session(channels) as http:
            await warn(sessions, changed)
            await Dispatcher(sessions, build_channels(channels, http), changed, clock, "v2",
                             ack_base_url="http://127.0.0.1:9/").run_until_idle()
        assert len(other.requests) == 1 and not other.requests[0].signed and not other.placed
    (row,) = await voice_rows(sessions)
    call = await one_call(sessions)
    assert row.status == "failed" and "HTTP 401" in row.last_error and call.call_id in row.last_error
    assert call.status == "failed" and call.accepted_at is None and "HTTP 401" in call.request_error


async def test_429_500_and_a_timeout_are_retried_as_one_call(sessions, config, gateway, dispatcher, clock):
    await warn(sessions, config)
    gateway.script(429).script(500).script("timeout").callee(ANSWERS_KEY_1)
    for _ in range(4):
        await dispatcher.run_until_idle()
        clock.advance(minutes=2)  # past each backoff
    await gateway.settled()
    (row,) = await voice_rows(sessions)
    call = await one_call(sessions)
    # Four requests of the one call id; the gateway placed it once and reported once.
    assert len(gateway.requests_of(call.call_id)) == 4 and list(gateway.placed) == [call.call_id]
    assert row.status == "delivered" and row.attempts == 4 and row.acked_via == "voice"
    assert call.status == "answered" and call.accepted_at is not None and call.request_error is None


async def test_a_4xx_is_not_retried_and_the_call_is_recorded_failed(sessions, config, gateway, dispatcher, clock):
    await warn(sessions, config)
    gateway.script(400)
    await dispatcher.run_until_idle()
    clock.advance(minutes=5)
    await dispatcher.run_until_idle()
    (row,) = await voice_rows(sessions)
    call = await one_call(sessions)
    assert len(gateway.requests) == 1 and not gateway.placed
    assert row.status == "failed" and row.attempts == 1
    assert (call.status, call.accepted_at, call.result_at) == ("failed", None, None)
    assert "HTTP 400" in call.request_error


async def test_a_repeated_callback_is_recorded_once(sessions, config, gateway, dispatcher, clock):
    await warn(sessions, config)
    gateway.hold = True
    gateway.callee(ANSWERS_KEY_1)
    await dispatcher.run_until_idle()
    (callback,) = await gateway.release()
    first = await one_call(sessions)
    clock.advance(minutes=1)
    status, reply = await gateway.post(callback.url, callback.body)
    assert callback.responses == [200] and status == 200
    assert reply == {"call_id": first.call_id, "recorded": False, "duplicate": True, "status": "answered",
                     "acknowledged": False}
    again = await one_call(sessions)
    assert (again.result_at, again.callback, again.status) == (first.result_at, first.callback, "answered")
    (row,) = await voice_rows(sessions)
    assert row.acked_at == first.result_at


async def test_a_badly_signed_callback_records_nothing_and_the_good_one_still_counts(sessions, config, gateway,
                                                                                     dispatcher):
    await warn(sessions, config)
    gateway.hold = True
    await dispatcher.run_until_idle()
    callback = gateway.held[next(iter(gateway.held))]
    for signature in ("bad", None):
        status, reply = await gateway.post(callback.url, callback.body, signature=signature)
        assert status == 401 and reply["error"] == "unauthorized"
    call = await one_call(sessions)
    assert (call.status, call.result_at, call.callback) == ("requested", None, None)
    (row,) = await voice_rows(sessions)
    assert row.acked_at is None
    await gateway.release()
    assert (await one_call(sessions)).status == "answered" and (await voice_rows(sessions))[0].acked_via == "voice"


async def test_key_1_acknowledges_like_the_link_and_cancels_the_reminder(sessions, config, gateway, dispatcher,
                                                                         clock):
    await warn(sessions, config)
    gateway.hold = True
    await dispatcher.run_until_idle()
    clock.advance(minutes=16)  # past the red deadline: a reminder is due
    async with sessions() as session, session.begin():
        await escalate_due(session, clock.now(), config)  # (the department desks' reminders go by webhook)
    reminder = (await voice_rows(sessions))[1]
    assert reminder.purpose == "reminder" and reminder.status == "pending"
    await gateway.release()
    notice, reminder = await voice_rows(sessions)
    assert (notice.acked_at, notice.acked_via, notice.acked_late) == (clock.now(), "voice", True)
    assert reminder.status == "cancelled" and reminder.last_error == "已叫应，无需再提醒"


async def test_a_late_result_of_an_older_call_undoes_nothing(sessions, config, gateway, dispatcher, clock):
    await warn(sessions, config)
    gateway.hold = True
    gateway.callee(NO_ANSWER, ANSWERS_KEY_1)
    await dispatcher.run_until_idle()  # the notice's call, whose result is late
    clock.advance(minutes=16)
    async with sessions() as session, session.begin():
        await escalate_due(session, clock.now(), config)
    await dispatcher.run_until_idle()  # the reminder's call
    older, newer = await calls(sessions)
    await gateway.release(newer.call_id)
    acked_at = clock.now()
    clock.advance(minutes=3)
    await gateway.release(older.call_id)
    older, newer = await calls(sessions)
    assert (older.status, newer.status) == ("no_answer", "answered")
    notice, reminder = await voice_rows(sessions)
    assert (notice.acked_at, notice.acked_via) == (acked_at, "voice")
    assert (reminder.acked_at, reminder.acked_via) == (acked_at, "voice")


async def test_a_later_key_1_of_an_older_call_keeps_the_first_answer(sessions, config, gateway, dispatcher, clock):
    await warn(sessions, config)
    gateway.hold = True
    await dispatcher.run_until_idle()
    clock.advance(minutes=16)
    async with sessions() as session, session.begin():
        await escalate_due(session, clock.now(), config)
    await dispatcher.run_until_idle()
    older, newer = await calls(sessions)
    await gateway.release(newer.call_id)
    first_answer = clock.now()
    clock.advance(minutes=2)
    await gateway.release(older.call_id)
    assert [call.status for call in await calls(sessions)] == ["answered", "answered"]
    assert {row.acked_at for row in await voice_rows(sessions)} == {first_answer}


async def test_an_acknowledged_notification_is_not_called(sessions, config, gateway, dispatcher):
    await warn(sessions, config)
    (row,) = await voice_rows(sessions)
    async with sessions() as session, session.begin():
        await acknowledge(session, ack_token(await signing_secret(session), row.idempotency_key), NOON, "page")
    await dispatcher.run_until_idle()
    assert gateway.requests == [] and await calls(sessions) == []
    (row,) = await voice_rows(sessions)
    assert (row.status, row.acked_via) == ("delivered", "page")


async def test_several_people_are_called_each_once(sessions, config, gateway, dispatcher):
    await warn(sessions, config, persons=(VILLAGE_HEAD, TOWN_HEAD))
    gateway.callee(ANSWERS_KEY_1, NO_ANSWER)
    await dispatcher.run_until_idle()
    await gateway.settled()
    rows = await voice_rows(sessions)
    found = await calls(sessions)
    assert len(rows) == len(found) == len(gateway.placed) == len(gateway.requests) == 2
    assert sorted(call.to_number for call in found) == ["13900000006", "13900000008"]
    assert sorted(call.status for call in found) == ["answered", "no_answer"]
    assert sorted(bool(row.acked_at) for row in rows) == [False, True]


# --- the ledger's rules, without the network ----------------------------------------------------------------

async def test_a_result_before_the_accepting_answer_and_a_late_refusal_change_nothing(sessions, config, clock):
    await warn(sessions, config)
    (row,) = await voice_rows(sessions)
    ledger = CallLedger(sessions, clock.now)
    opened = await ledger.open(row.idempotency_key, "voice", "13900000008")
    report = CallReport(call_id=opened.call_id, status="answered", keys="", duration_s=30)
    async with sessions() as session, session.begin():
        (recorded,) = await record_results(session, [Result("voice", report, call_outcome(report, 20), "{}")],
                                           clock.now())
        assert recorded.first and recorded.status == "answered"
        await mark_accepted(session, opened.call_id, clock.now())
        await mark_refused(session, opened.call_id, "HTTP 400")
    call = await one_call(sessions)
    assert (call.status, call.request_error) == ("answered", None) and call.accepted_at == clock.now()
    # Asked again (a resend after a crash): the same call, known to the gateway, not requested again.
    again = await ledger.open(row.idempotency_key, "voice", "13900000008")
    assert (again.call_id, again.accepted) == (opened.call_id, True)


async def test_a_refused_call_is_followed_by_a_new_call_id(sessions, config, clock):
    await warn(sessions, config)
    (row,) = await voice_rows(sessions)
    ledger = CallLedger(sessions, clock.now)
    first = await ledger.open(row.idempotency_key, "voice", "13900000008")
    assert (await ledger.open(row.idempotency_key, "voice", "13900000008")) == first  # not yet answered: the same
    await ledger.refused(first.call_id, "HTTP 400")
    second = await ledger.open(row.idempotency_key, "voice", "13900000008")
    assert (second.number, second.call_id) == (2, call_id(row.idempotency_key, 2)) and second.call_id != first.call_id


async def test_a_channel_without_a_dispatcher_refuses_to_call(http_session_voice):
    result = await http_session_voice.send(OutgoingMessage("a", "139", "t", "x", "", "k"))
    assert (result.ok, result.retry) == (False, False) and "dispatcher" in result.detail


@pytest.fixture
async def http_session_voice():
    import aiohttp

    async with aiohttp.ClientSession() as http:
        yield VoiceChannel("voice", http, "http://127.0.0.1:9/call", SECRET)


async def test_attach_takes_the_callback_base_from_the_configuration_first(sessions, clock):
    import aiohttp

    async with aiohttp.ClientSession() as http:
        channel = VoiceChannel("县 语音", http, "http://127.0.0.1:9/call", SECRET,
                               callback_base_url="https://gw-side.example/fx/")
        channel.attach(DispatchContext(sessions, clock.now, "https://fx.example"))
        assert channel._callback_url == "https://gw-side.example/fx/api/callbacks/voice/%E5%8E%BF%20%E8%AF%AD%E9%9F%B3"
        plain = VoiceChannel("voice", http, "http://127.0.0.1:9/call", SECRET)
        plain.attach(DispatchContext(sessions, clock.now, "https://fx.example/"))
        assert plain._callback_url == "https://fx.example/api/callbacks/voice/voice"


async def test_one_batch_of_results_records_each_call_once(sessions, config, gateway, dispatcher, clock):
    await warn(sessions, config, persons=(VILLAGE_HEAD, TOWN_HEAD))
    gateway.hold = True
    await dispatcher.run_until_idle()
    first, second = (call.call_id for call in await calls(sessions))

    def result(call: str, status: str, keys: str = "", seconds: float = 0, channel: str = "voice") -> CallResult:
        return CallResult(channel, CallReport(call_id=call, status=status, keys=keys, duration_s=seconds), "{}", 20)

    batch = [result(first, "answered", "1", 30), result(first, "no_answer"), result("fxc-unknown", "busy"),
             result(second, "answered", "1", 30, channel="other-voice"), result(second, "answered", "", 8)]
    async with sessions() as session, session.begin():
        answers = await answer_calls(session, batch, clock.now())
    assert [answer and (answer.recorded, answer.status, answer.acknowledged) for answer in answers] == [
        (True, "answered", True), (False, "answered", False), None, None, (True, "hung_up_early", False)]
    by_call = {call.call_id: call for call in await calls(sessions)}
    assert (by_call[first].status, by_call[second].status) == ("answered", "hung_up_early")
    acked = {row.id: row.acked_via for row in await voice_rows(sessions)}
    assert acked == {by_call[first].notification_id: "voice", by_call[second].notification_id: None}


async def test_a_drill_call_reads_the_drill_words_and_key_1_answers_it(sessions, config, gateway, dispatcher):
    from fangxun.warnings.drills.start import drill_options, run_drill

    async with sessions() as session, session.begin():
        await add_registry(session, [VILLAGE_HEAD])
    started = await run_drill(sessions, config, drill_options(config, EAST_VILLAGE, "village", "voice"), NOON,
                              started_by="duty")
    gateway.callee(ANSWERS_KEY_1)
    await dispatcher.run_until_idle()
    await gateway.settled()
    (request,) = gateway.requests
    assert request.json["to"] == "13900000008"
    assert request.json["text"] == (
        "【演练】东村防汛叫应演练。【演练】本条为防汛叫应演练消息，不是真实预警，除回复确认（叫应）外无需采取任何行动。"
        "东村支书。您是 东村 防汛责任人（《410102002001flood_plan》）。"
        "东村防汛指挥部正在组织汛前叫应演练，检验各级责任人和值班席位能否及时联系到。按1确认收到，按2重听。")
    (row,) = await voice_rows(sessions)
    assert (row.drill_id, row.warning_id, row.acked_via) == (started.drill.id, None, "voice")
