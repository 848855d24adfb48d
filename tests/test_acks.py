"""叫应: acknowledging by token (before and after the deadline), reminders and escalation up the chain."""

from __future__ import annotations

from datetime import timedelta

import pytest
from support.sinks import Answer, Sink
from support.warning_factories import (DISTRICT_A, DISTRICT_B, EAST_VILLAGE, NOON, PERSONS, STREET_3, TOWN_2,
                                       add_registry, make_warning, notifications, warning_settings)

from fangxun.core.accounts import signing_secret
from fangxun.core.errors import NotFound
from fangxun.warnings.acks.acknowledging import acknowledge
from fangxun.warnings.acks.escalation import escalate_due
from fangxun.warnings.acks.tokens import ack_token
from fangxun.warnings.delivery.channels.factory import build_channels, new_http_session
from fangxun.warnings.delivery.dispatcher import Dispatcher
from fangxun.warnings.delivery.outbox import compose
from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.tables import Notification, Warning

REACHABLE = [p for p in PERSONS if p[2] != "三号街道主任"]


@pytest.fixture
def config(settings, sink):
    return warning_settings(settings, sink.url_for("/hook"), repeat=1)


async def token_of(sessions, row: Notification) -> str:
    async with sessions() as session, session.begin():
        return ack_token(await signing_secret(session), row.idempotency_key)


async def ack(sessions, row: Notification, at, via="web") -> Notification:
    token = await token_of(sessions, row)
    async with sessions() as session, session.begin():
        return await acknowledge(session, token, at, via)


async def escalate(sessions, at, config) -> int:
    async with sessions() as session, session.begin():
        return await escalate_due(session, at, config)


async def rows(sessions, **where) -> list[Notification]:
    async with sessions() as session:
        return await notifications(session, **where)


async def message(sessions, row: Notification) -> tuple[str, str]:
    """(title, text) as the recipient reads them."""
    async with sessions() as session:
        return compose(row.payload, (await session.get(Warning, row.warning_id)).messages, row.recipient_name)


async def one(sessions, **where) -> Notification:
    found = await rows(sessions, **where)
    assert len(found) == 1, found
    return found[0]


async def start(sessions, config, dispatch, persons=REACHABLE, colour="red"):
    async with sessions() as session, session.begin():
        await add_registry(session, persons)
    result = await ingest(sessions, make_warning(colour=colour), config, NOON)
    await dispatch()
    return result.warning.id


async def test_ack_before_and_after_the_deadline(sessions, config, dispatch, clock):
    warning_id = await start(sessions, config, dispatch)
    desk = await one(sessions, recipient_key="water")
    village = await one(sessions, address="13900000008")
    assert desk.ack_deadline == NOON + timedelta(minutes=15)

    on_time = await ack(sessions, desk, NOON + timedelta(minutes=14), via="web")
    assert (on_time.acked_at, on_time.acked_via, on_time.acked_late) == (NOON + timedelta(minutes=14), "web", False)
    late = await ack(sessions, village, NOON + timedelta(minutes=20), via="api")
    assert (late.acked_at, late.acked_via, late.acked_late) == (NOON + timedelta(minutes=20), "api", True)

    # Idempotent: a second click changes nothing.
    again = await ack(sessions, desk, NOON + timedelta(minutes=30), via="api")
    assert (again.acked_at, again.acked_via, again.acked_late) == (NOON + timedelta(minutes=14), "web", False)
    assert again.warning_id == warning_id


async def test_unknown_and_malformed_tokens(sessions, config, dispatch):
    await start(sessions, config, dispatch)
    for token in ("A" * 16, "short", "", "../../etc/passwd", "é" * 16):
        async with sessions() as session:
            with pytest.raises(NotFound):
                await acknowledge(session, token, NOON, "web")


async def test_tokens_are_short_url_safe_distinct_and_stable(sessions, config, dispatch):
    await start(sessions, config, dispatch)
    all_rows = await rows(sessions)
    tokens = [await token_of(sessions, row) for row in all_rows]
    assert len(set(tokens)) == len(tokens)
    assert all(len(t) == 16 and t.replace("-", "").replace("_", "").isalnum() for t in tokens)
    assert tokens == [await token_of(sessions, row) for row in all_rows]


async def test_escalation_through_the_whole_village_chain(sessions, config, dispatch, clock):
    warning_id = await start(sessions, config, dispatch)
    village = await one(sessions, address="13900000008", purpose="notice")
    for row in await rows(sessions, purpose="notice"):
        if row.id != village.id:
            await ack(sessions, row, NOON + timedelta(minutes=5))

    async def step(minutes: int) -> int:
        clock.moved[0] = timedelta(minutes=minutes)
        created = await escalate(sessions, clock.now(), config)
        assert await escalate(sessions, clock.now(), config) == 0  # running twice creates nothing twice
        await dispatch()
        return created

    assert await step(14) == 0
    # 15 min without 叫应: one reminder to the same person, same address.
    assert await step(15) == 1
    reminder = await one(sessions, purpose="reminder")
    assert (reminder.recipient_key, reminder.address, reminder.escalated_from_id, reminder.escalation_step) == \
        (village.recipient_key, village.address, village.id, 0)
    title, text = await message(sessions, reminder)
    assert reminder.status == "delivered" and title.startswith("【第1次提醒·请叫应】【紧急】暴雨红色预警")
    assert text.startswith("东村支书：")
    assert reminder.ack_deadline == NOON + timedelta(minutes=30)
    assert await step(29) == 0  # the reminder has its own 15 minutes
    # Still nothing: up to the township's 责任人 (step 1).
    assert await step(30) == 2
    township = await rows(sessions, purpose="escalation", escalation_step=1)
    assert {(r.unit_code, r.level, r.address) for r in township} == {
        (TOWN_2, "township", "13900000006"), (TOWN_2, "township", "town2-deputy@hook")}
    assert {r.escalated_from_id for r in township} == {village.id}
    for row in township:
        title, text = await message(sessions, row)
        assert title.startswith("【逾期未叫应·逐级上报】【紧急】暴雨红色预警")
        assert text.startswith("东村支书 收到预警后逾期未叫应") and f"\n\n{row.recipient_name}：" in text

    # One township person answers; the other does not and is escalated on their own.
    deputy = next(r for r in township if r.address == "town2-deputy@hook")
    await ack(sessions, deputy, NOON + timedelta(minutes=35))
    assert await step(45) == 1  # reminder of 二号镇镇长
    assert await step(60) == 2  # up to district A (step 2)
    district = await rows(sessions, purpose="escalation", escalation_step=2)
    assert {r.unit_code for r in district} == {DISTRICT_A} and len(district) == 2
    assert await step(75) == 2  # reminders
    assert await step(90) == 1  # both unanswered district persons go to the city duty desk (step 3) ...
    desk = await one(sessions, purpose="escalation", escalation_step=3)
    assert (desk.recipient_kind, desk.address) == ("duty_desk", "city-duty-desk")
    assert len(desk.payload["escalated_from_ids"]) == 2  # ... in one message naming both
    assert (await message(sessions, desk))[1].startswith("甲区区长、甲区副区长 收到预警后逾期未叫应")
    assert await step(105) == 1  # the desk is reminded ...
    assert await step(120) == 0  # ... and that is the top of the chain
    assert await step(600) == 0

    total = await rows(sessions, warning_id=warning_id)
    assert all(r.status == "delivered" for r in total)


async def test_rows_waiting_on_a_reminder_or_at_the_top_are_not_read_again_each_run(sessions, config, dispatch,
                                                                                    clock):
    await start(sessions, config, dispatch)
    for row in await rows(sessions, purpose="notice"):
        if row.recipient_key != "water":
            await ack(sessions, row, NOON + timedelta(minutes=5))
    assert await escalate(sessions, NOON + timedelta(minutes=15), config) == 1  # the desk is reminded
    clock.moved[0] = timedelta(minutes=15)
    await dispatch()
    assert await escalate(sessions, NOON + timedelta(minutes=20), config) == 0
    desk = await one(sessions, purpose="notice", recipient_key="water")
    assert desk.ack_check_after == NOON + timedelta(minutes=30)  # the reminder's own deadline
    assert await escalate(sessions, NOON + timedelta(minutes=30), config) == 1  # up to the leader
    clock.moved[0] = timedelta(minutes=30)
    await dispatch()
    assert await escalate(sessions, NOON + timedelta(minutes=45), config) == 1  # the leader is reminded
    clock.moved[0] = timedelta(minutes=45)
    await dispatch()
    assert await escalate(sessions, NOON + timedelta(minutes=60), config) == 0  # nobody above a leader ...
    leader = await one(sessions, purpose="escalation")
    assert leader.ack_check_after == NOON + timedelta(minutes=60, days=1)  # ... so not looked at for a day


async def test_a_department_desk_goes_to_its_leader(sessions, config, dispatch, clock):
    await start(sessions, config, dispatch)
    for row in await rows(sessions, purpose="notice"):
        if row.recipient_key != "water":
            await ack(sessions, row, NOON + timedelta(minutes=5))
    assert await escalate(sessions, NOON + timedelta(minutes=15), config) == 1
    clock.moved[0] = timedelta(minutes=15)
    await dispatch()
    assert await escalate(sessions, NOON + timedelta(minutes=30), config) == 1
    leader = await one(sessions, purpose="escalation")
    assert (leader.recipient_kind, leader.recipient_key, leader.address, leader.escalation_step) == \
        ("department_leader", "water", "water-leader", 1)
    clock.moved[0] = timedelta(minutes=30)
    await dispatch()
    assert await escalate(sessions, NOON + timedelta(minutes=45), config) == 1  # reminder of the leader
    clock.moved[0] = timedelta(minutes=45)
    await dispatch()
    assert await escalate(sessions, NOON + timedelta(minutes=60), config) == 0  # nobody above a leader


async def test_acknowledging_a_reminder_answers_the_original(sessions, config, dispatch, clock):
    await start(sessions, config, dispatch)
    await escalate(sessions, NOON + timedelta(minutes=15), config)
    clock.moved[0] = timedelta(minutes=15)
    await dispatch()
    reminder = (await rows(sessions, purpose="reminder"))[0]
    await ack(sessions, reminder, NOON + timedelta(minutes=20), via="sms")
    async with sessions() as session:
        original = await session.get(Notification, reminder.escalated_from_id)
        reminder = await session.get(Notification, reminder.id)
    assert (original.acked_at, original.acked_via, original.acked_late) == (NOON + timedelta(minutes=20), "sms", True)
    assert (reminder.acked_late, reminder.status) == (False, "delivered")
    # Nothing more comes of the answered pair.
    before = len(await rows(sessions))
    await escalate(sessions, NOON + timedelta(hours=3), config)
    assert not [r for r in await rows(sessions) if r.id > before and r.escalated_from_id == original.id]


async def test_an_unreachable_person_is_escalated_at_once(sessions, config, dispatch):
    await start(sessions, config, dispatch, persons=PERSONS)
    unreachable = await one(sessions, unit_code=STREET_3)
    assert unreachable.status == "failed"
    assert await escalate(sessions, NOON, config) == 1
    up = await one(sessions, purpose="escalation")
    assert (up.unit_code, up.recipient_name, up.escalated_from_id, up.escalation_step) == \
        (DISTRICT_B, "乙区区长", unreachable.id, 1)
    assert (await message(sessions, up))[0].startswith("【无法送达·逐级上报】")


async def test_a_level_with_nobody_on_record_is_skipped_over(sessions, config, dispatch, clock):
    persons = [p for p in REACHABLE if p[0] != TOWN_2]
    await start(sessions, config, dispatch, persons=persons)
    for row in await rows(sessions, purpose="notice"):
        if row.unit_code != EAST_VILLAGE:
            await ack(sessions, row, NOON + timedelta(minutes=5))
    await escalate(sessions, NOON + timedelta(minutes=15), config)
    clock.moved[0] = timedelta(minutes=15)
    await dispatch()
    # Both villagers go to each of the two persons of district A: one message each, naming both.
    assert await escalate(sessions, NOON + timedelta(minutes=30), config) == 2
    up = await rows(sessions, purpose="escalation")
    assert {(r.unit_code, r.escalation_step) for r in up} == {(DISTRICT_A, 2)}
    assert all(len(r.payload["escalated_from_ids"]) == 2 for r in up)


async def test_dead_deliveries_escalate_and_answered_or_closed_warnings_do_not(sessions, settings, clock):
    async with Sink(Answer(503)) as failing:
        config = warning_settings(settings, failing.url_for("/hook"), retry={"max_attempts": 1, "base_seconds": 1,
                                                                           "max_seconds": 1, "jitter": 0})
        async with new_http_session(config.warnings.channels) as http:
            dispatcher = Dispatcher(sessions, build_channels(config.warnings.channels, http), config, clock, "w1")
            await start(sessions, config, dispatcher.run_until_idle, persons=REACHABLE)
    dead = await rows(sessions, status="dead")
    assert len(dead) == 11
    # Every dead one goes up at once: 3 desks to 3 leaders; 3 district persons to the city desk (one
    # message); 3 township persons to district A's 2; 2 villagers to 二号镇's 2.
    assert await escalate(sessions, NOON, config) == 3 + 1 + 2 + 2
    assert await escalate(sessions, NOON, config) == 0


async def test_no_escalation_for_a_cancelled_warning(sessions, config, dispatch):
    await start(sessions, config, dispatch)
    cancel = make_warning("zz-x", msg_type="Cancel", references=(make_warning(),), geocodes=())
    await ingest(sessions, cancel, config, NOON + timedelta(minutes=10))
    await dispatch()
    assert await escalate(sessions, NOON + timedelta(hours=2), config) == 0
