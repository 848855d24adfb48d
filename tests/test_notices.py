"""The one writer of notification rows: first notices, reminders and escalations get the rows they always had."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from support.warning_factories import (DISTRICT_B, EAST_VILLAGE, NOON, STREET_3, make_warning, notifications,
                                       warning_settings)

from fangxun.core.accounts import signing_secret
from fangxun.warnings.acks.escalation import escalate_due
from fangxun.warnings.acks.tokens import ack_token, token_hash
from fangxun.warnings.delivery.notices import NewNotice, escalation_key, notice_key, reminder_key, signed_writer
from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.routing.recipients import NO_ADDRESS, Recipient
from fangxun.warnings.tables import Notification, Warning
from fangxun.warnings.vocabulary import FOLLOW_UP_OFFSET, PRIORITIES

NIGHT = NOON.replace(hour=15)  # 23:00 in Shanghai: quiet hours hold blue and yellow until 07:00


@pytest.fixture
def config(settings):
    return warning_settings(settings, "http://127.0.0.1:9/hook", repeat=1)


class _Holder:
    worker_id, lease = "w1", timedelta(minutes=2)


async def _warning_id(sessions, config, colour="red") -> int:
    return (await ingest(sessions, make_warning(colour=colour), config, NOON)).warning.id


def _recipient_columns(row: Notification) -> tuple:
    return (row.recipient_kind, row.recipient_key, row.recipient_name, row.unit_code, row.level, row.channel,
            row.address)


async def test_first_notices_carry_their_key_token_hash_priority_and_due_time(sessions, config, registry):
    warning_id = await _warning_id(sessions, config, colour="orange")
    async with sessions() as session:
        secret = await signing_secret(session)
        rows = await notifications(session, warning_id)
        warning = await session.get(Warning, warning_id)
    assert rows and {row.purpose for row in rows} == {"notice"}
    for row in rows:
        recipient = Recipient(row.recipient_kind, row.recipient_key, row.recipient_name, row.unit_code, row.level,
                              row.channel, row.address, row.payload["message"])
        assert row.idempotency_key == notice_key(warning_id, recipient)
        assert row.ack_token_hash == token_hash(ack_token(secret, row.idempotency_key))
        assert row.priority == PRIORITIES["orange"]
        assert (row.escalation_step, row.escalated_from_id, row.created_at) == (0, None, NOON)
        assert row.payload["message"] in warning.messages
        assert {key: row.payload[key] for key in ("warning_id", "thread_id", "identifier", "colour", "purpose")} == {
            "warning_id": warning_id, "thread_id": warning.thread_id, "identifier": warning.identifier,
            "colour": "orange", "purpose": "notice"}
        if row.address:
            assert (row.status, row.next_attempt_at, row.last_error) == ("pending", NOON, None)
        else:  # 三号街道主任: nobody can reach him
            assert (row.status, row.next_attempt_at, row.last_error) == ("failed", None, NO_ADDRESS)


async def test_reminders_and_escalations_are_made_by_the_same_writer(sessions, config, registry):
    warning_id = await _warning_id(sessions, config)
    now = NOON + timedelta(minutes=16)
    async with sessions() as session, session.begin():
        # Delivered at noon, nobody answered within the 15 minutes red allows.
        await session.execute(update(Notification).where(Notification.status == "pending").values(
            status="delivered", delivered_at=NOON, ack_deadline=NOON + timedelta(minutes=15)))
        secret = await signing_secret(session)
    async with sessions() as session, session.begin():
        created = await escalate_due(session, now, config)
    async with sessions() as session:
        notices = {row.recipient_name: row for row in await notifications(session, warning_id, purpose="notice")}
        reminders = await notifications(session, warning_id, purpose="reminder")
        escalations = await notifications(session, warning_id, purpose="escalation")
    assert created == len(reminders) + len(escalations) == len(notices)

    source = notices["东村支书"]
    reminder, = [row for row in reminders if row.escalated_from_id == source.id]
    assert reminder.idempotency_key == reminder_key(warning_id, source.id, 1) == f"fx-{warning_id}-n{source.id}-r1"
    assert reminder.ack_token_hash == token_hash(ack_token(secret, reminder.idempotency_key))
    assert (reminder.purpose, reminder.escalation_step) == ("reminder", 0)
    # A red reminder is claimed after every first notice, even a blue one.
    assert reminder.priority == FOLLOW_UP_OFFSET + PRIORITIES["red"] > max(PRIORITIES.values())
    assert (reminder.status, reminder.next_attempt_at, reminder.created_at) == ("pending", now, now)
    assert _recipient_columns(reminder) == _recipient_columns(source)
    assert reminder.payload == {**source.payload, "purpose": "reminder", "title_prefix": "【第1次提醒·请叫应】"}
    assert reminder.payload["role"] == "responsible"
    assert reminder.payload["duty"] == source.payload["duty"] == f"您是 东村 防汛责任人（《{EAST_VILLAGE}flood_plan》）"

    unreachable = notices["三号街道主任"]
    escalation, = escalations
    target = Recipient("person", escalation.recipient_key, "乙区区长", DISTRICT_B, "district", "hook",
                       escalation.address, "")
    assert unreachable.unit_code == STREET_3 and escalation.recipient_name == "乙区区长"
    assert escalation.idempotency_key == escalation_key(warning_id, 1, target, unreachable.id)
    assert escalation.ack_token_hash == token_hash(ack_token(secret, escalation.idempotency_key))
    assert (escalation.purpose, escalation.escalation_step, escalation.escalated_from_id, escalation.priority) == (
        "escalation", 1, unreachable.id, FOLLOW_UP_OFFSET + PRIORITIES["red"])
    assert (escalation.unit_code, escalation.level, escalation.status) == (DISTRICT_B, "district", "pending")
    # The escalation says what its own recipient answers for, not what the one reported does.
    payload = {key: value for key, value in unreachable.payload.items() if key not in ("role", "duty")}
    assert escalation.payload == {**payload, "purpose": "escalation", "title_prefix": "【无法送达·逐级上报】",
                                  "note": "三号街道主任 收到预警后无法送达，现报告您，请督促落实并点击确认（叫应）。",
                                  "escalated_from_ids": [unreachable.id],
                                  "duty": f"您是 乙区 防汛责任人（《{DISTRICT_B}flood_plan》）"}


async def test_quiet_hours_an_unreachable_person_and_a_holder(sessions, config, registry):
    warning_id = await _warning_id(sessions, config, colour="blue")
    payload = {"warning_id": warning_id, "colour": "blue", "message": "default", "purpose": "notice"}
    desk = Recipient("department", "water", "市水利局", None, None, "hook", "water-desk", "default")
    nobody = Recipient("person", f"{STREET_3}:1", "无号码", STREET_3, "township", "hook", "", "default", None,
                       NO_ADDRESS)
    red_desk = Recipient("department", "weather", "市气象局", None, None, "hook", "weather-desk", "default")
    notices = [NewNotice(warning_id, desk, payload, "k-blue"), NewNotice(warning_id, nobody, payload, "k-nobody"),
               NewNotice(warning_id, red_desk, {**payload, "colour": "red"}, "k-red")]
    async with sessions() as session, session.begin():
        writer = await signed_writer(session, config.warnings.quiet_hours, _Holder())
        handed = await writer.write(session, notices, NIGHT)
        secret = await signing_secret(session)
    async with sessions() as session:
        rows = {row.idempotency_key: row for row in await notifications(session, warning_id)
                if row.idempotency_key.startswith("k-")}
    blue, failed, red = rows["k-blue"], rows["k-nobody"], rows["k-red"]
    # Blue waits for 07:00 in Shanghai; red goes at once, leased to the holder and handed to it with its token.
    assert (blue.status, blue.next_attempt_at, blue.priority) == ("pending", NOON.replace(hour=23), PRIORITIES["blue"])
    assert (failed.status, failed.next_attempt_at, failed.last_error) == ("failed", None, NO_ADDRESS)
    assert (red.status, red.claimed_by, red.lease_until, red.priority) == (
        "sending", "w1", NIGHT + _Holder.lease, PRIORITIES["red"])
    assert [(claimed.id, claimed.ack_token) for claimed in handed] == [(red.id, ack_token(secret, "k-red"))]
    assert all(row.ack_token_hash == token_hash(ack_token(secret, key)) for key, row in rows.items())
