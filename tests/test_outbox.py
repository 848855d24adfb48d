"""Claiming outbox rows under a lease, writing outcomes back, holding rows."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from support.warning_factories import NOON, add_registry, make_warning, notifications, twin_engine, warning_settings

from fangxun.core.db import session_factory
from fangxun.warnings.delivery.outbox import Outcome, claim, extend_lease, hold, record
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
