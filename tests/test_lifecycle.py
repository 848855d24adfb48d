"""Update and Cancel chains (递进式: Alert → 升级 → 解除), threads, and expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from support.warning_factories import NOON, make_warning, notifications, warning_settings

from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.intake.lifecycle import CANCELLED_REASON, SUPERSEDED_REASON, close_expired, thread
from fangxun.warnings.tables import Notification, Warning

HOOK = "http://127.0.0.1:9/hook"


@pytest.fixture
def config(settings):
    return warning_settings(settings, HOOK)


def slots(rows) -> set[tuple]:
    return {(n.recipient_kind, n.recipient_key, n.channel) for n in rows}


async def mark_sent(sessions, warning_id: int, count: int) -> None:
    """Pretend the first `count` notices of a warning went out (delivered)."""
    async with sessions() as session, session.begin():
        rows = await notifications(session, warning_id, status="pending")
        ids = [n.id for n in rows[:count]]
        await session.execute(update(Notification).where(Notification.id.in_(ids))
                              .values(status="delivered", delivered_at=NOON))


async def test_alert_upgrade_and_cancel(sessions, config, registry):
    orange = make_warning("zz-1", colour="orange", sent=NOON - timedelta(minutes=30))
    alert = await ingest(sessions, orange, config, NOON - timedelta(minutes=30))
    await mark_sent(sessions, alert.warning.id, 4)

    red = make_warning("zz-2", msg_type="Update", colour="red", references=(orange,), sent=NOON)
    upgrade = await ingest(sessions, red, config, NOON)
    assert upgrade.superseded == [alert.warning.id]
    assert upgrade.cancelled_notifications == 12 - 4 - 1  # the unsent ones (one was born failed)

    cancel = make_warning("zz-3", msg_type="Cancel", colour=None, references=(red,), geocodes=(),
                          sent=NOON + timedelta(hours=1), description="暴雨红色预警解除。")
    withdrawal = await ingest(sessions, cancel, config, NOON + timedelta(hours=1))
    assert withdrawal.cancelled == [upgrade.warning.id]

    async with sessions() as session:
        first, second, third = await thread(session, alert.warning.id)
        assert [w.id for w in (first, second, third)] == [alert.warning.id, upgrade.warning.id,
                                                          withdrawal.warning.id]
        assert {w.thread_id for w in (first, second, third)} == {alert.warning.id}
        assert (first.status, second.status, third.status) == ("superseded", "cancelled", "cancelled")
        assert first.superseded_by_id == second.id and second.superseded_by_id == third.id

        old = await notifications(session, alert.warning.id)
        assert sorted({n.status for n in old}) == ["cancelled", "delivered", "failed"]
        assert {n.last_error for n in old if n.status == "cancelled"} == {SUPERSEDED_REASON}
        upgraded = await notifications(session, upgrade.warning.id)
        assert {n.status for n in upgraded} == {"cancelled", "failed"}
        assert {n.last_error for n in upgraded if n.status == "cancelled"} == {CANCELLED_REASON}
        # The upgrade and the 解除 both reach everyone the first signal reached.
        assert slots(upgraded) == slots(old)
        told = await notifications(session, withdrawal.warning.id)
        assert slots(told) == slots(old)
        assert {n.status for n in told} == {"pending", "failed"}
        assert all(n.payload["msg_type"] == "Cancel" for n in told)


async def test_an_upgrade_reaches_more_people_and_keeps_the_earlier_ones(sessions, config, registry):
    yellow = make_warning("zz-1", colour="yellow", sent=NOON - timedelta(minutes=30))
    first = await ingest(sessions, yellow, config, NOON - timedelta(minutes=30))
    red = make_warning("zz-2", msg_type="Update", colour="red", references=(yellow,), sent=NOON)
    second = await ingest(sessions, red, config, NOON)
    async with sessions() as session:
        before = slots(await notifications(session, first.warning.id))
        after = slots(await notifications(session, second.warning.id))
    assert before < after and len(after) == 12


async def test_a_downgrade_still_tells_everyone_told_before(sessions, config, registry):
    red = make_warning("zz-1", colour="red", sent=NOON - timedelta(minutes=30))
    first = await ingest(sessions, red, config, NOON - timedelta(minutes=30))
    yellow = make_warning("zz-2", msg_type="Update", colour="yellow", references=(red,), sent=NOON)
    second = await ingest(sessions, yellow, config, NOON)
    async with sessions() as session:
        assert slots(await notifications(session, second.warning.id)) == \
            slots(await notifications(session, first.warning.id))


async def test_cancelling_the_first_signal_ends_the_whole_thread(sessions, config, registry):
    orange = make_warning("zz-1", colour="orange", sent=NOON - timedelta(minutes=30))
    await ingest(sessions, orange, config, NOON - timedelta(minutes=30))
    red = make_warning("zz-2", msg_type="Update", colour="red", references=(orange,), sent=NOON)
    second = await ingest(sessions, red, config, NOON)
    cancel = make_warning("zz-3", msg_type="Cancel", colour=None, references=(orange,), geocodes=(),
                          sent=NOON + timedelta(hours=1))
    third = await ingest(sessions, cancel, config, NOON + timedelta(hours=1))
    assert third.cancelled == [second.warning.id]
    async with sessions() as session:
        assert (await session.get(Warning, second.warning.id)).status == "cancelled"


async def test_an_update_of_something_unknown_starts_its_own_thread(sessions, config, registry):
    ghost = make_warning("zz-0", sent=NOON - timedelta(hours=2))
    update_ = make_warning("zz-1", msg_type="Update", references=(ghost,))
    result = await ingest(sessions, update_, config, NOON)
    assert result.warning.thread_id == result.warning.id
    assert result.unknown_references == [{"sender": ghost.sender, "identifier": "zz-0",
                                          "sent": ghost.sent.isoformat()}]
    assert result.notifications == 12


async def test_a_repeated_update_is_a_no_op(sessions, config, registry):
    orange = make_warning("zz-1", colour="orange")
    await ingest(sessions, orange, config, NOON)
    red = make_warning("zz-2", msg_type="Update", colour="red", references=(orange,), sent=NOON)
    first = await ingest(sessions, red, config, NOON)
    again = await ingest(sessions, red, config, NOON + timedelta(minutes=5))
    assert not again.created and again.warning.id == first.warning.id


async def test_expired_warnings_close_and_stop_their_pending_notifications(sessions, config, registry):
    short = await ingest(sessions, make_warning("zz-1", expires=NOON + timedelta(hours=1)), config, NOON)
    long = await ingest(sessions, make_warning("zz-2", expires=NOON + timedelta(hours=6)), config, NOON)
    await mark_sent(sessions, short.warning.id, 3)
    async with sessions() as session, session.begin():
        assert await close_expired(session, NOON + timedelta(minutes=59)) == []
    async with sessions() as session, session.begin():
        assert await close_expired(session, NOON + timedelta(hours=1)) == [short.warning.id]
    async with sessions() as session, session.begin():
        assert await close_expired(session, NOON + timedelta(hours=2)) == []  # once only
    async with sessions() as session:
        closed = await session.get(Warning, short.warning.id)
        assert (closed.status, closed.closed_at) == ("expired", NOON + timedelta(hours=1))
        assert (await session.get(Warning, long.warning.id)).status == "active"
        statuses = [n.status for n in await notifications(session, short.warning.id)]
        assert statuses.count("delivered") == 3 and statuses.count("cancelled") == 8


async def test_a_row_in_flight_is_not_cancelled_but_one_whose_lease_lapsed_is(sessions, config, registry):
    orange = make_warning("zz-1", colour="orange")
    first = await ingest(sessions, orange, config, NOON)
    async with sessions() as session, session.begin():
        rows = await notifications(session, first.warning.id, status="pending")
        await session.execute(update(Notification).where(Notification.id == rows[0].id).values(
            status="sending", lease_until=NOON + timedelta(minutes=2), claimed_by="w1"))
        await session.execute(update(Notification).where(Notification.id == rows[1].id).values(
            status="sending", lease_until=NOON - timedelta(minutes=2), claimed_by="w-dead"))
    cancel = make_warning("zz-2", msg_type="Cancel", references=(orange,), geocodes=())
    await ingest(sessions, cancel, config, NOON + timedelta(minutes=1))
    async with sessions() as session:
        assert (await session.get(Notification, rows[0].id)).status == "sending"
        assert (await session.get(Notification, rows[1].id)).status == "cancelled"
