"""Accepting a warning: one transaction, the exact recipients, idempotency, area matching."""

from __future__ import annotations

from datetime import timedelta

import pytest
import shapely
from sqlalchemy import func, select, update
from support.warning_factories import (CITY, DISTRICT_A, DISTRICT_B, EAST_VILLAGE, NOON, STREET_1, STREET_3, TOWN_2,
                                       WEST_VILLAGE, contact_id, make_warning, notifications, warning_settings)

from fangxun.core.accounts import signing_secret
from fangxun.core.clock import Clock
from fangxun.plans.models import AdminUnit
from fangxun.warnings.acks.tokens import ack_token, token_hash
from fangxun.warnings.delivery import notices
from fangxun.warnings.delivery.outbox import compose
from fangxun.warnings.intake.accept import accept, ingest
from fangxun.warnings.intake.expansion_runner import ExpansionRunner
from fangxun.warnings.intake.expansion_store import EXPANSION_LEASE
from fangxun.warnings.routing.recipients import NO_ADDRESS
from fangxun.warnings.tables import Notification, Warning, WarningUnit

HOOK = "http://127.0.0.1:9/hook"


@pytest.fixture
def config(settings):
    return warning_settings(settings, HOOK)


async def expected_people(session) -> set[tuple]:
    """Worked out by hand from PERSONS: (kind, key, channel, address, status)."""
    async def person(unit, name, address, status="pending"):
        return ("person", f"{unit}:{await contact_id(session, unit, name)}", "hook", address, status)

    return {
        ("department", "weather", "hook", "weather-desk", "pending"),
        ("department", "water", "hook", "water-desk", "pending"),
        ("department", "emergency", "hook", "emergency-desk", "pending"),
        await person(DISTRICT_A, "甲区区长", "13900000001"),
        await person(DISTRICT_A, "甲区副区长", "13900000002"),
        await person(DISTRICT_B, "乙区区长", "13900000003"),
        await person(STREET_1, "一号街道主任", "13900000005"),
        await person(TOWN_2, "二号镇镇长", "13900000006"),
        await person(TOWN_2, "二号镇副镇长", "town2-deputy@hook"),
        await person(STREET_3, "三号街道主任", "", "failed"),
        await person(EAST_VILLAGE, "东村支书", "13900000008"),
        await person(EAST_VILLAGE, "东村主任", "13900000009"),
    }


async def test_red_rainstorm_reaches_exactly_the_routed_departments_and_persons(sessions, config, registry):
    async with sessions() as session, session.begin():
        result = await accept(session, make_warning(), config, NOON)
    assert result.created and result.notifications == 12 and result.unreachable == 1
    assert result.units_without_persons == [WEST_VILLAGE]
    async with sessions() as session:
        rows = await notifications(session, result.warning.id)
        got = {(n.recipient_kind, n.recipient_key, n.channel, n.address, n.status) for n in rows}
        assert got == await expected_people(session)
        assert len(rows) == len(got)  # no duplicates
        unreachable = [n for n in rows if n.status == "failed"]
        assert [n.last_error for n in unreachable] == [NO_ADDRESS]
        assert all(n.next_attempt_at == NOON for n in rows if n.status == "pending")
        units = dict((await session.execute(select(WarningUnit.unit_code, WarningUnit.fraction)
                                            .where(WarningUnit.warning_id == result.warning.id))).all())
        assert set(units) == {CITY, DISTRICT_A, DISTRICT_B, STREET_1, TOWN_2, STREET_3, EAST_VILLAGE, WEST_VILLAGE}
        assert set(units.values()) == {1.0}
        stored = await session.get(Warning, result.warning.id)
        assert (stored.status, stored.thread_id, stored.colour, stored.msg_type) == \
            ("active", stored.id, "red", "Alert")


async def test_messages_are_rendered_per_recipient_with_a_slot_for_the_ack_link(sessions, config, registry):
    async with sessions() as session, session.begin():
        result = await accept(session, make_warning(), config, NOON)
    async with sessions() as session:
        village = (await notifications(session, result.warning.id, address="13900000008"))[0]
        desk = (await notifications(session, result.warning.id, recipient_key="water"))[0]
        secret = await signing_secret(session)
        messages = (await session.get(Warning, result.warning.id)).messages
    title, text = compose(village.payload, messages, village.recipient_name)
    assert title.startswith("【紧急】暴雨红色预警")
    assert text.startswith("东村支书：") and compose(desk.payload, messages, "x")[1].startswith("x：")
    assert "{ack_url}" in text  # filled in at send time: no token stored in clear
    assert set(messages) == {"rainstorm_severe"}  # rendered once, shared by every notification
    assert village.payload["role"] == "responsible" and village.level == "village"
    assert desk.recipient_name == "市水利局（市水利局值班室）"
    # The stored hash is that of the token derived from the idempotency key.
    assert village.ack_token_hash == token_hash(ack_token(secret, village.idempotency_key))
    assert len(ack_token(secret, village.idempotency_key)) == 16


async def test_yellow_rain_goes_to_departments_and_district_persons_only(sessions, config, registry):
    async with sessions() as session, session.begin():
        result = await accept(session, make_warning(colour="yellow"), config, NOON)
    async with sessions() as session:
        rows = await notifications(session, result.warning.id)
    assert sorted({n.level for n in rows if n.recipient_kind == "person"}) == ["district"]
    assert len(rows) == 3 + 3
    assert result.units_without_persons == []


async def test_the_same_message_twice_is_a_no_op(sessions, config, registry):
    warning = make_warning()
    first = await ingest(sessions, warning, config, NOON)
    again = await ingest(sessions, warning, config, NOON + timedelta(minutes=1))
    assert first.created and not again.created
    assert again.warning.id == first.warning.id and again.notifications == 0
    async with sessions() as session:
        assert (await session.execute(select(func.count()).select_from(Warning))).scalar_one() == 1
        assert (await session.execute(select(func.count()).select_from(Notification))).scalar_one() == 12


async def _resumed(sessions, config, warning_id: int) -> None:
    """The expansion of `warning_id` taken over after its writer's lease lapsed, and written to its end."""
    runner = ExpansionRunner(sessions, config, Clock(fixed=NOON + EXPANSION_LEASE * 2), "after-restart")
    assert await runner.pick_up() == [warning_id]
    await runner.wait_idle()


async def test_a_failure_in_the_middle_of_a_chunk_keeps_the_warning_and_none_of_the_chunk(sessions, config, registry,
                                                                                         monkeypatch):
    calls = []
    real = notices.insert_notification_chunks

    async def insert_then_fail(session, chunks):
        rows = [row for chunk in chunks for row in chunk]
        await real(session, [rows[:2]])
        calls.append(len(rows))
        raise RuntimeError("disk full")

    monkeypatch.setattr(notices, "insert_notification_chunks", insert_then_fail)
    result = await ingest(sessions, make_warning(), config, NOON)
    assert calls == [3, 3]  # the first chunk (the department desks): with the warning, then once more on its own
    assert result.created and result.expansion.state == "expanding" and result.notifications == 0
    async with sessions() as session:
        assert (await session.execute(select(func.count()).select_from(Warning))).scalar_one() == 1
        assert (await session.execute(select(func.count()).select_from(WarningUnit))).scalar_one() > 0
        assert (await session.execute(select(func.count()).select_from(Notification))).scalar_one() == 0
    monkeypatch.setattr(notices, "insert_notification_chunks", real)
    await _resumed(sessions, config, result.warning.id)
    async with sessions() as session:
        assert (await session.execute(select(func.count()).select_from(Notification))).scalar_one() == 12


async def test_a_failure_while_the_rows_stream_into_the_insert_undoes_that_chunk(sessions, config, registry,
                                                                                 monkeypatch):
    # Rows are made chunk by chunk as the insert (PostgreSQL: one COPY) takes them; one failing to be made
    # after the first rows went in undoes that chunk, never the accepted warning.
    real, made = notices.token_hash, []

    def hash_then_fail(token):
        made.append(token)
        if len(made) == 8:
            raise RuntimeError("broken")
        return real(token)

    monkeypatch.setattr(notices, "ROWS_PER_CHUNK", 3)
    monkeypatch.setattr(notices, "token_hash", hash_then_fail)
    result = await ingest(sessions, make_warning(), config, NOON)
    assert result.expansion.state == "expanding" and result.notifications == 3  # the desks' chunk stands
    async with sessions() as session:
        assert (await session.execute(select(func.count()).select_from(Warning))).scalar_one() == 1
        assert (await session.execute(select(func.count()).select_from(Notification))).scalar_one() == 3
    monkeypatch.setattr(notices, "token_hash", real)
    await _resumed(sessions, config, result.warning.id)
    async with sessions() as session:
        keys = (await session.execute(select(Notification.idempotency_key))).scalars().all()
    assert len(keys) == len(set(keys)) == 12


async def test_test_messages_are_stored_but_notify_nobody(sessions, config, registry):
    result = await ingest(sessions, make_warning(status="Test"), config, NOON)
    assert result.created and result.notifications == 0


async def test_a_warning_already_expired_on_arrival_is_stored_closed(sessions, config, registry):
    result = await ingest(sessions, make_warning(expires=NOON - timedelta(minutes=1)), config, NOON)
    assert result.warning.status == "expired" and result.notifications == 0


async def test_blue_and_yellow_wait_for_the_end_of_quiet_hours(sessions, config, registry):
    night = NOON.replace(hour=15)  # 23:00 in Shanghai
    later = night + timedelta(hours=12)
    yellow = await ingest(sessions, make_warning("y", colour="yellow", sent=night, expires=later), config, night)
    red = await ingest(sessions, make_warning("r", colour="red", sent=night, expires=later), config, night)
    async with sessions() as session:
        held = {n.next_attempt_at for n in await notifications(session, yellow.warning.id)}
        now = {n.next_attempt_at for n in await notifications(session, red.warning.id) if n.status == "pending"}
    assert held == {NOON.replace(hour=23)}  # 07:00 the next morning in Shanghai
    assert now == {night}


async def test_polygons_and_circles_match_units_by_geometry(sessions, config, registry):
    # Boxes: district A is the west half of the city, its 二号镇 the south half of A, 东村 the west
    # half of 二号镇; the polygon covers half of 东村's box and a sliver of 西村.
    boxes = {CITY: (113.0, 34.0, 114.0, 35.0), DISTRICT_A: (113.0, 34.0, 113.5, 35.0),
             DISTRICT_B: (113.5, 34.0, 114.0, 35.0), STREET_1: (113.0, 34.5, 113.5, 35.0),
             TOWN_2: (113.0, 34.0, 113.5, 34.5), STREET_3: (113.5, 34.0, 114.0, 35.0),
             EAST_VILLAGE: (113.0, 34.0, 113.25, 34.5), WEST_VILLAGE: (113.25, 34.0, 113.5, 34.5)}
    async with sessions() as session, session.begin():
        for code, box in boxes.items():
            await session.execute(update(AdminUnit).where(AdminUnit.code == code)
                                  .values(geometry=shapely.to_wkb(shapely.box(*box))))
    ring = ((113.0, 34.0), (113.26, 34.0), (113.26, 34.25), (113.0, 34.25), (113.0, 34.0))
    result = await ingest(sessions, make_warning(geocodes=(), polygons=(ring,)), config, NOON)
    async with sessions() as session:
        units = dict((await session.execute(select(WarningUnit.unit_code, WarningUnit.fraction)
                                            .where(WarningUnit.warning_id == result.warning.id))).all())
        people = {n.unit_code for n in await notifications(session, result.warning.id, recipient_kind="person")}
    assert set(units) == {CITY, DISTRICT_A, TOWN_2, EAST_VILLAGE, WEST_VILLAGE}
    assert units[EAST_VILLAGE] == pytest.approx(0.5, abs=0.01)
    assert units[WEST_VILLAGE] == pytest.approx(0.02, abs=0.01)
    assert people == {DISTRICT_A, TOWN_2, EAST_VILLAGE}
    assert result.units_without_persons == [WEST_VILLAGE]

    circle = await ingest(sessions, make_warning("c", geocodes=(), circles=((113.75, 34.5, 5.0),)), config, NOON)
    async with sessions() as session:
        people = {n.unit_code for n in await notifications(session, circle.warning.id, recipient_kind="person")}
    assert people == {DISTRICT_B, STREET_3}
