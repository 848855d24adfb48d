"""Handoff: the intake writes new rows leased to the dispatcher of its process and hands them over after
commit, so a warning goes out without a claim query or a poll; nothing is lost if they are never sent."""

from __future__ import annotations

import asyncio
import random
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
from sqlalchemy import insert, select
from support.sinks import Answer, Sink
from support.waiting import wait_until
from support.warning_factories import NOON, HookKeys, make_warning, notifications, warning_settings

from fangxun.core.bulk import reserve_ids
from fangxun.warnings.delivery.channels.factory import build_channels, new_http_session
from fangxun.warnings.delivery.dispatcher import Dispatcher
from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.tables import Notification

SENT = 11  # the red warning's notices that have an address (the 12th is born failed)
LEASE = timedelta(seconds=120)


@pytest.fixture
def config(settings, sink):
    return warning_settings(settings, sink.url_for("/hook"))


@pytest.fixture
async def channels(config):
    async with new_http_session(config.warnings.channels) as http:
        yield build_channels(config.warnings.channels, http)


@asynccontextmanager
async def database_held(engine):
    """Another connection holds the database for writing (SQLite's write lock; on PostgreSQL the outbox
    tables), so no outcome can be written and no row claimed until the block ends."""
    async with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            await connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            await connection.exec_driver_sql(
                "LOCK TABLE notifications, notification_attempts IN EXCLUSIVE MODE")
        try:
            yield
        finally:
            await connection.rollback()


def received(sink, count: int):
    """A predicate for wait_until: the sink got `count` requests."""
    async def holds() -> bool:
        return len(sink.requests) >= count
    return holds


def delivered(sessions, warning_id: int, count: int):
    """A predicate for wait_until: `count` notifications of the warning are on record as delivered."""
    async def holds() -> bool:
        async with sessions() as session:
            return len(await notifications(session, warning_id, status="delivered")) == count
    return holds


def new_dispatcher(sessions, channels, config, clock, name: str, **options) -> Dispatcher:
    return Dispatcher(sessions, channels, config, clock, name, rng=random.Random(7), lease=LEASE, **options)


async def test_rows_are_born_leased_to_the_handoff_and_handed_over_after_commit(sessions, config, registry,
                                                                                 channels, clock):
    dispatcher = new_dispatcher(sessions, channels, config, clock, "web-1")
    result = await ingest(sessions, make_warning(), config, NOON, handoff=dispatcher)
    async with sessions() as session:
        rows = await notifications(session, result.warning.id)
    sending = [row for row in rows if row.status == "sending"]
    assert len(sending) == SENT and [row.status for row in rows if row not in sending] == ["failed"]
    assert {(row.claimed_by, row.lease_until) for row in sending} == {("web-1", NOON + LEASE)}
    assert dispatcher.handed_ids() == {row.id for row in sending}


async def test_the_dispatcher_sends_handed_rows_without_claiming_them(sessions, config, registry, sink, channels,
                                                                      clock):
    dispatcher = new_dispatcher(sessions, channels, config, clock, "web-1")
    result = await ingest(sessions, make_warning(), config, NOON, handoff=dispatcher)
    assert await dispatcher.run_until_idle() == SENT
    counts = HookKeys.of(sink).counts
    assert len(counts) == SENT and set(counts.values()) == {1}
    async with sessions() as session:
        rows = await notifications(session, result.warning.id, status="delivered")
    assert len(rows) == SENT and all(row.lease_until is None and row.attempts == 1 for row in rows)


async def test_a_running_dispatcher_is_woken_by_the_handoff_not_by_its_poll(sessions, config, registry, sink,
                                                                             channels, clock):
    dispatcher = new_dispatcher(sessions, channels, config, clock, "web-1", poll_seconds=60)
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run_forever(stop))
    await asyncio.sleep(0.1)  # idle, waiting out its 60 s poll
    await ingest(sessions, make_warning(), config, NOON, handoff=dispatcher)
    for _ in range(200):
        if len(sink.requests) == SENT:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(task, 10)
    assert len(HookKeys.of(sink).counts) == SENT


async def test_rows_handed_to_a_dispatcher_that_died_go_out_once_the_lease_lapses(sessions, config, registry,
                                                                                  sink, channels, clock):
    dead = new_dispatcher(sessions, channels, config, clock, "web-dead")
    await ingest(sessions, make_warning(), config, NOON, handoff=dead)  # and it never sends them
    survivor = new_dispatcher(sessions, channels, config, clock, "dispatch-2")
    assert await survivor.run_until_idle() == 0  # still leased to the dead one
    clock.advance(seconds=LEASE.total_seconds() + 1)
    assert await survivor.run_until_idle() == SENT
    counts = HookKeys.of(sink).counts
    assert len(counts) == SENT and set(counts.values()) == {1}


async def test_handed_rows_stay_leased_while_they_wait_to_be_sent(sessions, config, registry, channels, clock):
    dispatcher = new_dispatcher(sessions, channels, config, clock, "web-1")
    result = await ingest(sessions, make_warning(), config, NOON, handoff=dispatcher)
    clock.advance(seconds=60)
    await dispatcher._renew_leases(dispatcher.handed_ids())
    async with sessions() as session:
        rows = await notifications(session, result.warning.id, status="sending")
    assert {row.lease_until for row in rows} == {clock.now() + LEASE}


async def test_reserved_ids_are_used_by_nobody_else(sessions, registry, config):
    result = await ingest(sessions, make_warning(), config, NOON)
    async with sessions() as session, session.begin():
        await session.execute(insert(Notification.__table__).values(
            warning_id=result.warning.id, recipient_kind="department", recipient_key="x", channel="hook",
            idempotency_key="reserve-1", ack_token_hash="h" * 64, status="pending", attempts=0, purpose="notice"))
        ids = await reserve_ids(session, Notification.__table__, 3)
        taken = set((await session.execute(select(Notification.id))).scalars())
    assert len(set(ids)) == 3 and not set(ids) & taken and min(ids) > max(taken)


async def test_red_handed_after_blue_goes_out_first(sessions, settings, registry, sink, clock):
    config = warning_settings(settings, sink.url_for("/hook"), concurrency=1)
    async with new_http_session(config.warnings.channels) as http:
        dispatcher = new_dispatcher(sessions, build_channels(config.warnings.channels, http), config, clock, "web-1")
        await ingest(sessions, make_warning("zz-blue", colour="blue"), config, NOON, handoff=dispatcher)
        await ingest(sessions, make_warning("zz-red"), config, NOON, handoff=dispatcher)
        await dispatcher.run_until_idle()
    colours = [request.json["colour"] for request in sink.requests]
    assert colours == sorted(colours, key=lambda colour: colour != "red") and colours[0] == "red"
    assert colours.count("blue") > 0


async def test_a_cancel_takes_back_what_is_still_queued_of_the_warning_it_ends(sessions, config, registry, sink,
                                                                               channels, clock):
    dispatcher = new_dispatcher(sessions, channels, config, clock, "web-1")
    alert = make_warning("zz-alert")
    first = await ingest(sessions, alert, config, NOON, handoff=dispatcher)
    cancel = make_warning("zz-cancel", msg_type="Cancel", references=(alert,), sent=NOON)
    second = await ingest(sessions, cancel, config, NOON + timedelta(minutes=1), handoff=dispatcher)
    assert second.cancelled_notifications == SENT
    async with sessions() as session:
        assert {row.status for row in await notifications(session, first.warning.id)} == {"cancelled", "failed"}
    assert await dispatcher.run_until_idle() == SENT  # the 解除 only
    assert {request.json["warning_id"] for request in sink.requests} == {second.warning.id}


async def test_begun_rows_keep_going_out_while_the_database_is_busy_and_no_more(engine, sessions, settings, registry,
                                                                                 clock):
    # Outcomes wait on the database, and so does marking the next rows begun; the rows begun before go out
    # meanwhile, and nothing else: at most twice the channel's concurrency could go twice after a crash.
    concurrency = 2
    async with Sink(Answer(200, delay=0.2)) as sink:
        config = warning_settings(settings, sink.url_for("/hook"), concurrency=concurrency)
        async with new_http_session(config.warnings.channels) as http:
            dispatcher = new_dispatcher(sessions, build_channels(config.warnings.channels, http), config, clock,
                                        "web-1", poll_seconds=60)
            result = await ingest(sessions, make_warning(), config, NOON, handoff=dispatcher)
            stop = asyncio.Event()
            task = asyncio.create_task(dispatcher.run_forever(stop))
            try:
                await wait_until(received(sink, 1), timeout=5, every=0.01)
                async with database_held(engine):
                    at_hold = len(sink.requests)
                    await wait_until(received(sink, at_hold + 1), timeout=5, every=0.01)  # the begun ones go on
                    await asyncio.sleep(1.0)  # long enough for every row to go, were the sending not held back
                    async with sessions() as session:  # reading is not held
                        on_record = len(await notifications(session, result.warning.id, status="delivered"))
                    assert len(sink.requests) - on_record <= 2 * concurrency < SENT
                await wait_until(delivered(sessions, result.warning.id, SENT), timeout=10, every=0.02)
            finally:
                stop.set()
                await asyncio.wait_for(task, 10)
        counts = HookKeys.of(sink).counts
    assert len(counts) == SENT and set(counts.values()) == {1}
