"""The pump's bookkeeping in one go (delivery/writeback.py): outcomes written back and the next rows marked begun,
as outbox.record and outbox.begin_attempts would write them; on PostgreSQL one statement, outside a transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from support.warning_factories import NOON, add_registry, make_warning, warning_settings

from fangxun.warnings.delivery.outbox import Outcome, claim, release
from fangxun.warnings.delivery.writeback import single_statement, write_back
from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.tables import Notification, NotificationAttempt

LEASE = timedelta(minutes=2)


@pytest.fixture
async def held(sessions, settings):
    """Six notices of a red warning over the small registry, claimed by w1."""
    async with sessions() as session, session.begin():
        await add_registry(session)
    await ingest(sessions, make_warning(), warning_settings(settings, "http://127.0.0.1:9/hook"), NOON)
    async with sessions() as session, session.begin():
        return await claim(session, "w1", NOON, 6, LEASE)


async def write_back_on(engine, sessions, outcomes, begin_ids, worker="w1"):
    """write_back as the pump runs it: outside a transaction where it is one statement, else in one."""
    if single_statement(engine.dialect.name):
        async with engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            return await write_back(connection, worker, outcomes, begin_ids, NOON)
    async with sessions() as session, session.begin():
        return await write_back(session, worker, outcomes, begin_ids, NOON)


async def rows_of(sessions, ids):
    async with sessions() as session:
        return {row.id: row for row in (await session.execute(select(Notification).where(Notification.id.in_(ids))))
                .scalars()}


async def test_outcomes_are_written_and_the_next_rows_marked_begun_together(engine, sessions, held):
    ids = [row.id for row in held]
    assert await write_back_on(engine, sessions, [], ids[:3]) == set(ids[:3])
    at = NOON + timedelta(seconds=1)
    outcomes = [Outcome(ids[0], "delivered", at, True, False, 200, "ok", ack_deadline=at + timedelta(minutes=15)),
                Outcome(ids[1], "pending", at, False, True, 503, "HTTP 503", next_attempt_at=at + timedelta(seconds=2)),
                Outcome(ids[2], "failed", at, False, False, 400, "x" * 3000)]
    assert await write_back_on(engine, sessions, outcomes, ids[3:]) == set(ids[3:])
    rows = await rows_of(sessions, ids)
    assert [(rows[i].status, rows[i].attempts, rows[i].attempt_started_at) for i in ids[:3]] == [
        ("delivered", 1, None), ("pending", 1, None), ("failed", 1, None)]
    assert rows[ids[0]].delivered_at == at and rows[ids[0]].ack_deadline == at + timedelta(minutes=15)
    assert rows[ids[0]].lease_until is None and rows[ids[0]].last_error is None
    assert rows[ids[1]].next_attempt_at == at + timedelta(seconds=2) and rows[ids[1]].last_error == "HTTP 503"
    assert rows[ids[1]].ack_deadline is None and rows[ids[2]].last_error == "x" * 3000
    assert all((rows[i].status, rows[i].attempt_started_at) == ("sending", NOON) for i in ids[3:])
    async with sessions() as session:
        attempts = (await session.execute(select(NotificationAttempt.notification_id, NotificationAttempt.status,
                                                 NotificationAttempt.worker, func.length(NotificationAttempt.detail))
                                          .order_by(NotificationAttempt.notification_id))).all()
    assert [tuple(a) for a in attempts] == [(ids[0], 200, "w1", 2), (ids[1], 503, "w1", 8), (ids[2], 400, "w1", 2000)]


async def test_rows_no_longer_held_are_neither_marked_nor_written_but_the_attempt_is_on_record(engine, sessions,
                                                                                               held):
    ids = [row.id for row in held]
    async with sessions() as session, session.begin():
        await release(session, "w1", NOON)  # given back meanwhile (w1 was taken for dead)
        again = await claim(session, "w2", NOON, 1, LEASE)
    assert await write_back_on(engine, sessions, [], ids) == set()  # none of them may go out from w1
    late = Outcome(again[0].id, "delivered", NOON, True, False, 200, "ok")
    assert await write_back_on(engine, sessions, [late], []) == set()
    row = (await rows_of(sessions, [again[0].id]))[again[0].id]
    assert (row.status, row.claimed_by, row.attempts) == ("sending", "w2", 0)  # the new holder decides
    async with sessions() as session:
        assert (await session.execute(select(func.count()).select_from(NotificationAttempt))).scalar_one() == 1
