"""Redial by colour and group answers, end to end: the voice channel against the simulated voice gateway, the
service's callback route, escalate_due driven with a moved clock; on both databases."""

from __future__ import annotations

import random
from collections import deque
from datetime import timedelta

import pytest
from sqlalchemy import select
from support.sinks import Sink
from support.voice_gateway import ANSWERS_KEY_1, ANSWERS_NO_KEY, NO_ANSWER, SECRET, SECRET_ENV, VoiceGateway
from support.warning_factories import (DISTRICT_A, EAST_VILLAGE, NOON, TOWN_2, add_registry, make_warning,
                                       notifications, warning_settings)

from fangxun.warnings.acks.escalation import escalate_due
from fangxun.warnings.delivery.channels.factory import build_channels, new_http_session
from fangxun.warnings.delivery.dispatcher import Dispatcher
from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.tables import CallAttempt, Notification

HEAD, DEPUTY, LANDLINE = "13900000008", "13900000009", "0371-60000008"
TOWN_HEAD, TOWN_DEPUTY, DISTRICT_HEAD = "13900000006", "13900000007", "13900000001"


def person(unit, role, name, phone, channels=None):
    return (unit, role, name, phone, channels or {}, "flood_plan", False)


VILLAGE = [person(EAST_VILLAGE, "responsible", "东村支书", HEAD)]
TOWNSHIP = [person(TOWN_2, "responsible", "二号镇镇长", TOWN_HEAD),
            person(TOWN_2, "deputy", "二号镇副镇长", TOWN_DEPUTY),
            person(DISTRICT_A, "responsible", "甲区区长", DISTRICT_HEAD)]


@pytest.fixture(autouse=True)
def voice_secret(monkeypatch):
    monkeypatch.setenv(SECRET_ENV, SECRET)


@pytest.fixture
async def gateway():
    async with VoiceGateway(hold=True) as running:
        yield running


@pytest.fixture
async def hook():
    async with Sink() as running:
        yield running


def redial_settings(settings, hook, gateway, **overrides):
    """Village 责任人 called through `voice` on 暴雨 (departments on the webhook); escalation follows the calls."""
    voice = {"kind": "voice", "url": gateway.url, "secret_env": SECRET_ENV, "timeout_seconds": 2,
             "concurrency": 4, "rate_per_second": None}
    return warning_settings(settings, hook.url_for("/hook"), extra_channels={"voice": voice},
                            default_route={"departments": ["emergency"], "person_levels": [],
                                           "department_channel": "", "person_channels": ["voice"],
                                           "template": "default"},
                            routes=[{"events": ["暴雨"], "person_levels": ["village"], "template": "rainstorm"}],
                            **overrides)


@pytest.fixture
def config(settings, hook, gateway, request):
    """The settings; a test may set `group_answer` by indirect parametrisation."""
    rules = getattr(request, "param", None)
    return redial_settings(settings, hook, gateway, **({"group_answer": rules} if rules else {}))


class Phones:
    """The people at the numbers: what each does on its next calls (then `default`), answered through the
    gateway's signed callbacks."""

    def __init__(self, gateway: VoiceGateway, default=NO_ANSWER, **script):
        self.gateway, self.default = gateway, default
        self.script = {number: deque(callees) for number, callees in script.items()}

    def answer(self, number: str, *callees) -> None:
        self.script.setdefault(number, deque()).extend(callees)

    async def ring(self) -> None:
        """Every call placed and not yet reported ends as its callee does."""
        for call, callback in list(self.gateway.held.items()):
            to = self.gateway.placed[call]["to"]
            queue = self.script.get(to)
            callback.body = self.gateway.report(call, queue.popleft() if queue else self.default)
            await self.gateway.release(call)


@pytest.fixture
async def run(sessions, config, clock, client, gateway):
    """One scheduler turn at the clock's time: escalate_due, then the dispatcher, then the calls end."""
    async with new_http_session(config.warnings.channels) as http:
        dispatcher = Dispatcher(sessions, build_channels(config.warnings.channels, http), config, clock, "r1",
                                rng=random.Random(5), ack_base_url=str(client.make_url("/")))

        async def turn(phones: Phones) -> int:
            async with sessions() as session, session.begin():
                created = await escalate_due(session, clock.now(), config)
            await dispatcher.run_until_idle()
            await phones.ring()
            return created

        yield turn


async def warn(sessions, config, persons, colour="red") -> int:
    async with sessions() as session, session.begin():
        await add_registry(session, persons)
    return (await ingest(sessions, make_warning(colour=colour), config, NOON)).warning.id


async def calls(sessions) -> list[tuple[str, str, object]]:
    """(number, status, requested_at) of every call, in order."""
    async with sessions() as session:
        return [(c.to_number, c.status, c.requested_at) for c in (await session.execute(
            select(CallAttempt).order_by(CallAttempt.requested_at, CallAttempt.id))).scalars()]


async def rows(sessions, **where) -> list[Notification]:
    async with sessions() as session:
        return [row for row in await notifications(session, **where) if row.channel == "voice"]


async def test_red_unanswered_is_redialled_three_times_a_minute_apart_then_the_township_is_called_at_once(
        sessions, config, clock, run, gateway):
    phones = Phones(gateway)
    await warn(sessions, config, VILLAGE + TOWNSHIP)
    await run(phones)  # the notice's call: no answer
    for _ in range(3):
        assert await run(phones) == 0  # less than a minute since the last call ended: wait
        clock.advance(minutes=1)
        assert await run(phones) == 1  # one redial, called
    made = await calls(sessions)
    assert [(number, status) for number, status, _ in made] == [(HEAD, "no_answer")] * 4
    assert [at for _, _, at in made] == [NOON + timedelta(minutes=n) for n in range(4)]
    # The third redial unanswered: escalated at once (3 minutes in, not at the 15-minute deadline).
    await run(phones)
    notice, *redials = await rows(sessions, unit_code=EAST_VILLAGE)
    assert [r.purpose for r in redials] == ["reminder"] * 3
    assert [r.payload["title_prefix"] for r in redials] == [f"【第{n}次重拨·请按1确认】" for n in (1, 2, 3)]
    assert notice.escalated_at == NOON + timedelta(minutes=3) and notice.acked_at is None
    escalations = await rows(sessions, purpose="escalation")
    assert {(row.recipient_name, row.escalation_step, row.created_at) for row in escalations} == {
        ("二号镇镇长", 1, NOON + timedelta(minutes=3)), ("二号镇副镇长", 1, NOON + timedelta(minutes=3))}
    assert all(row.escalated_from_id == notice.id and "东村支书" in row.payload["note"]
               and row.payload["title_prefix"] == "【多次电话未叫应·逐级上报】" for row in escalations)
    town_calls = [(number, at) for number, _, at in await calls(sessions) if number in (TOWN_HEAD, TOWN_DEPUTY)]
    assert sorted(town_calls) == [(TOWN_HEAD, NOON + timedelta(minutes=3)), (TOWN_DEPUTY, NOON + timedelta(minutes=3))]


async def test_answered_without_key_1_is_not_answered_and_key_1_on_the_second_redial_stops_everything(
        sessions, config, clock, run, gateway):
    phones = Phones(gateway, **{HEAD: [NO_ANSWER, ANSWERS_NO_KEY, ANSWERS_KEY_1]})
    await warn(sessions, config, VILLAGE + TOWNSHIP)
    await run(phones)
    for _ in range(2):
        clock.advance(minutes=1)
        await run(phones)
    for _ in range(5):  # and long after: past the ack deadline too
        clock.advance(minutes=5)
        await run(phones)
    assert [(number, status) for number, status, _ in await calls(sessions)] == [
        (HEAD, "no_answer"), (HEAD, "answered"), (HEAD, "answered")]
    notice, first, second = await rows(sessions)
    assert (notice.acked_at, notice.acked_via) == (NOON + timedelta(minutes=2), "voice")
    assert second.acked_via == "voice" and notice.escalated_at is None
    async with sessions() as session:
        assert [row for row in await notifications(session) if row.purpose == "escalation"] == []


async def test_orange_is_redialled_twice_two_minutes_apart(sessions, config, clock, run, gateway):
    phones = Phones(gateway)
    await warn(sessions, config, VILLAGE + TOWNSHIP, colour="orange")
    await run(phones)
    for _ in range(2):
        clock.advance(minutes=1)
        assert await run(phones) == 0
        clock.advance(minutes=1)
        assert await run(phones) == 1
    await run(phones)  # the second redial unanswered: escalated at once
    made = [(number, at) for number, _, at in await calls(sessions)]
    assert made[:3] == [(HEAD, NOON + timedelta(minutes=n)) for n in (0, 2, 4)]
    assert sorted(made[3:]) == [(TOWN_HEAD, NOON + timedelta(minutes=4)), (TOWN_DEPUTY, NOON + timedelta(minutes=4))]


async def test_then_the_landline_and_the_deputy_are_called_the_deputys_key_1_answers(sessions, config, clock, run,
                                                                                    gateway):
    village = [person(EAST_VILLAGE, "responsible", "东村支书", HEAD, {"landline": LANDLINE}),
               person(EAST_VILLAGE, "deputy", "东村副支书", DEPUTY)]
    phones = Phones(gateway, **{DEPUTY: [ANSWERS_KEY_1, ANSWERS_KEY_1]})  # the deputy's own notice, then the A call
    await warn(sessions, config, village + TOWNSHIP)
    await run(phones)
    for _ in range(5):
        clock.advance(minutes=1)
        await run(phones)
    async with sessions() as session:
        notice = next(row for row in await notifications(session, purpose="notice", recipient_name="东村支书"))
        group = [notice.id] + [row.id for row in await notifications(session, escalated_from_id=notice.id,
                                                                     purpose="reminder")]
        numbers = list((await session.execute(select(CallAttempt.to_number).where(
            CallAttempt.notification_id.in_(group)).order_by(CallAttempt.requested_at, CallAttempt.id))).scalars())
        notice = await session.get(Notification, notice.id)
    assert numbers == [HEAD] * 4 + [LANDLINE, DEPUTY]
    assert (notice.acked_via, notice.escalated_at) == ("voice", None)


@pytest.mark.parametrize("config", [["each", "one"], ["each", "each"]], indirect=True, ids=["one", "each"])
async def test_one_answer_of_the_township_is_enough_or_each_must_answer(sessions, config, gateway, clock, run):
    rule = config.warnings.group_answer[1]
    phones = Phones(gateway, **{TOWN_DEPUTY: [ANSWERS_KEY_1]})  # the village and the 镇长 never answer
    await warn(sessions, config, VILLAGE + TOWNSHIP)
    await run(phones)
    for _ in range(12):
        clock.advance(minutes=1)
        await run(phones)
    async with sessions() as session:
        escalations = [row for row in await notifications(session) if row.purpose == "escalation"]
    town_head = next(row for row in escalations if row.recipient_name == "二号镇镇长")
    town_deputy = next(row for row in escalations if row.recipient_name == "二号镇副镇长")
    assert town_deputy.acked_via == "voice" and town_head.acked_at is None
    further = [row for row in escalations if row.escalation_step == 2]
    head_calls = [number for number, _, _ in await calls(sessions) if number == TOWN_HEAD]
    if rule == "one":  # the deputy's answer stands for the township: no redial, nothing further up
        assert head_calls == [TOWN_HEAD] and further == [] and town_head.escalated_at is None
    else:  # the 镇长 is redialled three times, then the district is told
        assert head_calls == [TOWN_HEAD] * 4 and town_head.escalated_at is not None
        assert [(row.recipient_name, row.escalated_from_id) for row in further] == [("甲区区长", town_head.id)]
