"""Claiming outbox rows under a lease, marking sends begun, writing outcomes back, holding rows, giving back
the rows of a holder that stopped."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from support.warning_factories import NOON, add_registry, make_warning, notifications, twin_engine, warning_settings

from fangxun.core.db import session_factory
from fangxun.warnings.delivery.outbox import (INTERRUPTED, Outcome, begin_attempts, cancel_unsent, claim, extend_lease,
                                              hold, record, release, settle_begun, unmark_begun)
from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.tables import Notification, NotificationAttempt

LEASE = timedelta(minutes=2)


@pytest.fixture
async def outbox(sessions, settings):
    """Three red warnings over the small registry: 33 pending notices (3 more were born failed)."""
    config = warning_settings(settings, "http://127.0.0.1:9/hook")
    async with sessions() as session, session.begin():
        await add_registry(session)
    for number in range(3):
        await ingest(sessions, make_warning(f"zz-{number}"), config, NOON)
    return config


async def claim_in(sessions, worker, now, limit, **options):
    async with sessions() as session, session.begin():
        return await claim(session, worker, now, limit, LEASE, **options)


async def test_claims_mark_rows_sending_under_a_lease_and_never_hand_out_a_row_twice(sessions, outbox):
    first = await claim_in(sessions, "w1", NOON, 20)
    second = await claim_in(sessions, "w2", NOON, 20)
    assert len(first) == 20 and len(second) == 13
    assert not {c.id for c in first} & {c.id for c in second}
    assert await claim_in(sessions, "w3", NOON, 20) == []
    async with sessions() as session:
        row = await session.get(Notification, first[0].id)
    assert (row.status, row.claimed_by, row.lease_until) == ("sending", "w1", NOON + LEASE)
    assert first[0].payload["message"] and first[0].idempotency_key.startswith("fx-")


async def test_rows_of_a_lapsed_lease_are_claimable_again(sessions, outbox):
    taken = await claim_in(sessions, "dead-worker", NOON, 10)
    assert len(await claim_in(sessions, "w2", NOON + LEASE - timedelta(seconds=1), 50)) == 23
    again = await claim_in(sessions, "w2", NOON + LEASE + timedelta(seconds=1), 50)
    assert {c.id for c in again} == {c.id for c in taken}


async def test_a_lease_kept_alive_is_not_taken(sessions, outbox):
    taken = await claim_in(sessions, "slow", NOON, 5)
    async with sessions() as session, session.begin():
        await extend_lease(session, "slow", [c.id for c in taken], NOON + 2 * LEASE)
    assert await claim_in(sessions, "w2", NOON + LEASE + timedelta(seconds=1), 50, channel="nowhere") == []
    assert {c.id for c in await claim_in(sessions, "w2", NOON + 2 * LEASE + timedelta(seconds=1), 50)} >= \
        {c.id for c in taken}


async def test_rows_not_yet_due_wait(sessions, outbox):
    taken = await claim_in(sessions, "w1", NOON, 3)
    later = NOON + timedelta(minutes=5)
    async with sessions() as session, session.begin():
        await hold(session, "w1", {taken[0].id: later})
    assert taken[0].id not in {c.id for c in await claim_in(sessions, "w2", NOON + LEASE * 2, 100)}
    assert [c.id for c in await claim_in(sessions, "w2", later, 100)] == [taken[0].id]


async def test_claims_by_channel(sessions, outbox):
    assert len(await claim_in(sessions, "w1", NOON, 100, channel="hook")) == 33
    assert await claim_in(sessions, "w1", NOON, 100, exclude_channels=["hook"]) == []


async def test_red_is_claimed_ahead_of_blue_queued_before_it(sessions, outbox):
    for number in range(2):
        await ingest(sessions, make_warning(f"zz-blue-{number}", colour="blue", sent=NOON - timedelta(hours=1)),
                     outbox, NOON - timedelta(minutes=30))
    await ingest(sessions, make_warning("zz-orange", colour="orange"), outbox, NOON)
    taken = await claim_in(sessions, "w1", NOON, 100)
    colours = [row.payload["colour"] for row in taken]
    first_blue = colours.index("blue")
    assert set(colours[:first_blue]) == {"red", "orange"} and set(colours[first_blue:]) == {"blue"}
    assert colours.index("orange") > max(i for i, colour in enumerate(colours) if colour == "red")


async def test_outcomes_are_written_back_by_the_holder_only(sessions, outbox):
    taken = await claim_in(sessions, "w1", NOON, 3)
    at = NOON + timedelta(seconds=1)
    outcomes = [Outcome(taken[0].id, "delivered", at, True, False, 200, "ok", ack_deadline=at + timedelta(minutes=15)),
                Outcome(taken[1].id, "pending", at, False, True, 503, "HTTP 503",
                        next_attempt_at=at + timedelta(seconds=2)),
                Outcome(taken[2].id, "failed", at, False, False, 400, "HTTP 400")]
    async with sessions() as session, session.begin():
        await record(session, "w1", outcomes)
        # A worker whose lease was taken over records its attempt but does not touch the row.
        await record(session, "w-old", [Outcome(taken[0].id, "dead", at, False, True, 500, "HTTP 500")])
    async with sessions() as session:
        rows = [await session.get(Notification, c.id) for c in taken]
        attempts = (await session.execute(select(func.count()).select_from(NotificationAttempt))).scalar_one()
    assert [(r.status, r.attempts) for r in rows] == [("delivered", 1), ("pending", 1), ("failed", 1)]
    assert rows[0].delivered_at == at and rows[0].ack_deadline == at + timedelta(minutes=15)
    assert rows[1].next_attempt_at == at + timedelta(seconds=2) and rows[1].last_error == "HTTP 503"
    assert rows[2].last_error == "HTTP 400" and rows[2].lease_until is None
    assert attempts == 4


async def begin_in(sessions, worker, ids, now=NOON):
    async with sessions() as session, session.begin():
        return await begin_attempts(session, worker, ids, now)


async def attempts_of(sessions, notification_id) -> list[tuple]:
    """(at, ok, detail, worker) of each attempt of a notification, in order."""
    A = NotificationAttempt
    query = select(A.at, A.ok, A.detail, A.worker).where(A.notification_id == notification_id).order_by(A.id)
    async with sessions() as session:
        return [tuple(row) for row in (await session.execute(query)).all()]


async def test_only_rows_still_held_are_marked_begun_and_the_outcome_clears_the_mark(sessions, outbox):
    taken = await claim_in(sessions, "w1", NOON, 3)
    ids = [c.id for c in taken]
    async with sessions() as session, session.begin():
        await release(session, "w1", NOON)  # given back meanwhile (say, w1 was taken for dead)
    again = await claim_in(sessions, "w2", NOON, 1)
    assert await begin_in(sessions, "w1", ids) == set()  # no longer w1's: none of them may go out
    assert await begin_in(sessions, "w2", [again[0].id]) == {again[0].id}
    async with sessions() as session, session.begin():
        await record(session, "w2", [Outcome(again[0].id, "delivered", NOON, True, False, 200, "ok")])
    async with sessions() as session:
        row = await session.get(Notification, again[0].id)
    assert (row.status, row.attempt_started_at, row.attempts) == ("delivered", None, 1)


async def test_a_stopped_holders_begun_sends_are_on_record_as_interrupted_and_its_rows_due_at_once(sessions, outbox):
    taken = await claim_in(sessions, "w1", NOON, 4)
    ids = [c.id for c in taken]
    started = NOON + timedelta(seconds=1)
    assert await begin_in(sessions, "w1", ids[:3], started) == set(ids[:3])
    async with sessions() as session, session.begin():
        await unmark_begun(session, "w1", [ids[2]])  # begun, never sent
        assert await release(session, "w1", NOON + timedelta(seconds=5)) == 4
    async with sessions() as session:
        rows = [await session.get(Notification, key) for key in ids]
    assert {(r.status, r.claimed_by, r.lease_until, r.attempt_started_at) for r in rows} == \
        {("pending", None, None, None)}
    assert [r.attempts for r in rows] == [1, 1, 0, 0] and rows[0].last_error == INTERRUPTED
    for key in ids[:2]:
        assert await attempts_of(sessions, key) == [(started, False, INTERRUPTED, "w1")]
    assert await attempts_of(sessions, ids[2]) == []
    again = await claim_in(sessions, "w2", NOON + timedelta(seconds=5), 100)
    assert set(ids) <= {c.id for c in again}  # due at once, not when the lease would have lapsed


async def test_a_begun_row_under_a_lapsed_lease_is_settled_before_it_is_taken(sessions, outbox):
    taken = await claim_in(sessions, "w1", NOON, 2)
    await begin_in(sessions, "w1", [taken[0].id])
    after_lease = NOON + LEASE + timedelta(seconds=1)
    # Its send may be under way: the lapsed lease alone does not hand it out again.
    others = {c.id for c in await claim_in(sessions, "w2", after_lease, 50)}
    assert taken[1].id in others and taken[0].id not in others
    async with sessions() as session, session.begin():
        assert await settle_begun(session, Notification.claimed_by == "w1", after_lease) == 1
        assert await settle_begun(session, Notification.claimed_by == "w1", after_lease) == 0  # once only
    assert [c.id for c in await claim_in(sessions, "w3", after_lease, 50)] == [taken[0].id]
    assert [row[1:] for row in await attempts_of(sessions, taken[0].id)] == [(False, INTERRUPTED, "w1")]


async def test_cancelling_a_warning_puts_a_begun_send_of_a_stopped_holder_on_record(sessions, outbox):
    taken = await claim_in(sessions, "w1", NOON, 1)
    await begin_in(sessions, "w1", [taken[0].id])
    warning_id = taken[0].warning_id
    async with sessions() as session, session.begin():
        cancelled = await cancel_unsent(session, [warning_id], NOON + LEASE + timedelta(seconds=1), "解除")
    async with sessions() as session:
        row = await session.get(Notification, taken[0].id)
    assert cancelled == 11 and (row.status, row.attempt_started_at, row.attempts) == ("cancelled", None, 1)
    assert [row[1:] for row in await attempts_of(sessions, taken[0].id)] == [(False, INTERRUPTED, "w1")]


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
async def test_concurrent_claimers_on_separate_connections_split_the_rows(engine, sessions, outbox):
    """SKIP LOCKED: many claimers at once, each on its own engine, never share a row."""
    others = [await twin_engine(engine) for _ in range(4)]
    try:
        results = await asyncio.gather(*(claim_in(session_factory(e), f"w{i}", NOON, 4)
                                         for i, e in enumerate(others * 3)))
    finally:
        for other in others:
            await other.dispose()
    ids = [c.id for batch in results for c in batch]
    assert len(ids) == len(set(ids)) == 33
    async with sessions() as session:
        assert len(await notifications(session, status="sending")) == 33
