"""Desk notifications go to the 值班员 on duty when they are written, escalations to the 带班领导 on duty."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, insert
from support.api_fixtures import MovableClock
from support.warning_factories import (PERSONS, add_registry, add_wide_registry, make_warning, notifications,
                                       warning_settings)

from fangxun.core.accounts import signing_secret
from fangxun.warnings.acks.acknowledging import acknowledge
from fangxun.warnings.acks.escalation import escalate_due
from fangxun.warnings.acks.tokens import ack_token
from fangxun.warnings.duty.roster_rules import DutyShift
from fangxun.warnings.duty.tables import DutyRosterEntry
from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.routing.duty_desks import leader_on_duty, staff_all
from fangxun.warnings.routing.recipients import Recipient

BEIJING = ZoneInfo("Asia/Shanghai")
# The water desk: 张三 on the duty day of 1 July (until 08:00 on the 2nd), 李四 on the 2nd; the city duty room
# has 周五 on the 2nd; the emergency desk has no roster at all.
ROSTER = [
    ("water", date(2026, 7, 1), "全天", "张三", "13900000101", "王局长", "13800000101"),
    ("water", date(2026, 7, 2), "全天", "李四", "13900000102", "赵局长", "13800000102"),
    ("city", date(2026, 7, 2), "全天", "周五", "13900000103", "钱主任", "13800000103"),
]


def beijing(hour: int, minute: int, day: int = 2) -> datetime:
    return datetime(2026, 7, day, hour, minute, tzinfo=BEIJING).astimezone(timezone.utc)


@pytest.fixture
def config(settings, sink):
    return warning_settings(settings, sink.url_for("/hook"), repeat=1)


@pytest.fixture
def clock():
    return MovableClock(fixed=beijing(7, 59))


async def add_roster(session) -> None:
    await session.execute(insert(DutyRosterEntry), [
        dict(zip(("desk", "duty_date", "shift", "officer_name", "officer_phone", "leader_name", "leader_phone"), line))
        for line in ROSTER])


@pytest.fixture
async def rostered(sessions):
    async with sessions() as session, session.begin():
        await add_registry(session, persons=PERSONS[:1])
        await add_roster(session)


def delivered_to(sink, desk_word: str) -> list[dict]:
    return [request.json for request in sink.requests if desk_word in request.json["recipient"]]


async def warn_at(sessions, config, clock, dispatch, identifier: str) -> int:
    now = clock.now()
    warning = make_warning(identifier, sent=now - timedelta(minutes=2), expires=now + timedelta(hours=12))
    result = await ingest(sessions, warning, config, now)
    await dispatch()
    return result.warning.id


async def test_a_desk_warning_reaches_the_officer_on_duty_either_side_of_the_shift_change(
        sessions, config, clock, dispatch, sink, rostered):
    await warn_at(sessions, config, clock, dispatch, "before-change")
    clock.advance(minutes=2)  # 08:01: 李四 took over at 08:00
    await warn_at(sessions, config, clock, dispatch, "after-change")

    water = delivered_to(sink, "市水利局值班室")
    assert [(body["recipient"], body["address"]) for body in water] == [
        ("市水利局值班室（值班员 张三）", "13900000101"), ("市水利局值班室（值班员 李四）", "13900000102")]
    assert "张三" in water[0]["text"] and "李四" in water[1]["text"]
    # A desk with no roster line keeps its configured contact.
    emergency = delivered_to(sink, "市应急管理局")
    assert [(body["recipient"], body["address"]) for body in emergency] == [
        ("市应急管理局（市应急管理局指挥中心）", "emergency-desk")] * 2


async def ack_all_but(sessions, keep: str, at: datetime) -> None:
    async with sessions() as session, session.begin():
        secret = await signing_secret(session)
        for row in await notifications(session):
            if row.recipient_key != keep and row.acked_at is None:
                await acknowledge(session, ack_token(secret, row.idempotency_key), at, "web")


async def test_reminder_goes_to_the_next_shift_and_escalation_to_its_leader(sessions, config, clock, dispatch, sink,
                                                                           rostered):
    clock.advance(minutes=-20)  # 07:39, 张三 on duty
    await warn_at(sessions, config, clock, dispatch, "unanswered")
    await ack_all_but(sessions, "water", clock.now())
    for minutes in (15, 15):  # 07:54 a reminder to 张三; 08:09 the escalation, 李四's shift on duty
        clock.advance(minutes=minutes)
        async with sessions() as session, session.begin():
            assert await escalate_due(session, clock.now(), config) == 1
        await dispatch()
    bodies = [request.json for request in sink.requests]
    reminder, escalation = bodies[-2:]
    assert (reminder["recipient"], reminder["address"]) == ("市水利局值班室（值班员 张三）", "13900000101")
    assert (escalation["recipient"], escalation["address"]) == ("市水利局（带班领导 赵局长）", "13800000102")
    assert "赵局长" in escalation["text"] and "张三" in escalation["text"]  # names who did not answer


async def test_a_reminder_after_the_shift_change_goes_to_the_new_officer(sessions, config, clock, dispatch, sink,
                                                                        rostered):
    clock.advance(minutes=-10)  # 07:49
    await warn_at(sessions, config, clock, dispatch, "handed-over")
    await ack_all_but(sessions, "water", clock.now())
    clock.advance(minutes=15)  # 08:04
    async with sessions() as session, session.begin():
        assert await escalate_due(session, clock.now(), config) == 1
    await dispatch()
    reminder = sink.requests[-1].json
    assert (reminder["recipient"], reminder["address"]) == ("市水利局值班室（值班员 李四）", "13900000102")


async def test_without_a_roster_line_the_leader_is_the_configured_one(sessions, config, clock, dispatch, sink):
    async with sessions() as session, session.begin():
        await add_registry(session, persons=PERSONS[:1])
    await warn_at(sessions, config, clock, dispatch, "no-roster")
    await ack_all_but(sessions, "water", clock.now())
    for _ in range(2):
        clock.advance(minutes=15)
        async with sessions() as session, session.begin():
            assert await escalate_due(session, clock.now(), config) == 1
        await dispatch()
    escalation = sink.requests[-1].json
    assert (escalation["recipient"], escalation["address"]) == ("市水利局（市水利局分管负责人）", "water-leader")


def test_the_city_desk_and_a_channel_without_phones(settings, sink):
    config = warning_settings(settings, sink.url_for("/hook"), extra_channels={
        "mail": {"kind": "email", "host": "127.0.0.1", "port": 2525, "sender": "fx@example.cn"}}).warnings
    line = DutyShift("city", date(2026, 7, 2), "全天", "周五", "13900000103", "钱主任", "13800000103")
    desk = Recipient("duty_desk", "city", "市防指办值班室", None, "city", "hook", "city-duty-desk", "unlocated")
    by_mail = desk._replace(channel="mail")
    person = Recipient("person", "410102000000:1", "甲区区长", "410102000000", "district", "hook", "139", "x")
    assert staff_all([desk, by_mail, person], config, {"city": line}) == [
        desk._replace(name="市防指办值班室（值班员 周五）", address="13900000103"),
        by_mail._replace(name="市防指办值班室（值班员 周五）"),  # e-mail takes no phone: the desk's address
        person]
    assert staff_all([desk], config, {"city": None}) == [desk]
    leader = config.departments["water"].leader
    assert leader_on_duty("市水利局", leader, config, None) == ("市水利局（市水利局分管负责人）", "water-leader")
    assert leader_on_duty("市水利局", leader, config, line) == ("市水利局（带班领导 钱主任）", "13800000103")


async def test_the_city_duty_room_goes_to_its_officer_and_then_its_leader_on_duty(sessions, config, clock, dispatch,
                                                                                 sink, rostered):
    clock.advance(minutes=30)  # 08:29 on the 2nd: 周五's day at the city duty room
    now = clock.now()
    # No area that can be placed: the city duty room is asked to place it.
    nowhere = make_warning("nowhere", geocodes=(), area_description="某水库下游", sent=now - timedelta(minutes=2),
                           expires=now + timedelta(hours=12))
    await ingest(sessions, nowhere, config, now)
    await dispatch()
    told = sink.requests[-1].json
    assert (told["recipient"], told["address"]) == ("市防指办值班室（值班员 周五）", "13900000103")
    sent = []
    for _ in range(3):  # a reminder, the escalation, the leader's reminder
        clock.advance(minutes=15)
        async with sessions() as session, session.begin():
            assert await escalate_due(session, clock.now(), config) == 1
        await dispatch()
        sent.append(sink.requests[-1].json)
    assert [(body["recipient"], body["address"]) for body in sent] == [
        ("市防指办值班室（值班员 周五）", "13900000103"), ("市防指办值班室（带班领导 钱主任）", "13800000103"),
        ("市防指办值班室（带班领导 钱主任）", "13800000103")]
    async with sessions() as session:
        [leader] = await notifications(session, purpose="escalation")
    assert (leader.recipient_kind, leader.recipient_key, leader.escalation_step) == ("duty_leader", "city", 1)
    clock.advance(minutes=15)
    async with sessions() as session, session.begin():
        assert await escalate_due(session, clock.now(), config) == 0  # nobody above the leader


async def test_the_roster_is_read_once_per_warning_whatever_the_number_of_recipients(engine, sessions, config,
                                                                                     clock):
    async with sessions() as session, session.begin():
        persons = await add_wide_registry(session, townships=4, villages_per_township=10)
        await add_roster(session)
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        if "duty_roster" in statement:
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        now = clock.now()
        result = await ingest(sessions, make_warning("wide", sent=now - timedelta(minutes=2),
                                                     expires=now + timedelta(hours=12)), config, now)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    assert result.notifications > persons > 40
    assert len(statements) == 1
