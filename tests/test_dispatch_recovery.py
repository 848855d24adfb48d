"""Recovery without waiting for leases: a stopping dispatcher (or the web app shutting down) gives back what it has
not sent; the heartbeats of the living are judged by the database's clock; the rows of a silent worker are taken
over, its begun sends on record as interrupted. (Real processes killed and stopped: test_dispatch_crash.py.)"""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, update
from support.sinks import Answer, Sink
from support.waiting import wait_until
from support.warning_api import post_cap, zz
from support.warning_factories import NOON, HookKeys, make_warning, notifications, twin_engine, warning_settings

from fangxun.api.app import create_app
from fangxun.core.db import session_factory
from fangxun.warnings.delivery.channels.factory import build_channels, new_http_session
from fangxun.warnings.delivery.dispatcher import Dispatcher
from fangxun.warnings.delivery.outbox import INTERRUPTED, begin_attempts, claim
from fangxun.warnings.delivery.workers import beat, register, take_over
from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.tables import DispatchWorker, Notification, NotificationAttempt

SENT = 11  # the red warning's notices that have an address (the 12th is born failed)
LEASE = timedelta(seconds=120)


async def count(sessions, *where) -> int:
    async with sessions() as session:
        return (await session.execute(select(func.count()).select_from(Notification).where(*where))).scalar_one()


async def attempts(sessions) -> list[tuple[int, bool, str, str]]:
    async with sessions() as session:
        return [tuple(row) for row in (await session.execute(
            select(NotificationAttempt.notification_id, NotificationAttempt.ok, NotificationAttempt.detail,
                   NotificationAttempt.worker).order_by(NotificationAttempt.id))).all()]


async def workers(sessions) -> list[str]:
    async with sessions() as session:
        return sorted((await session.execute(select(DispatchWorker.id))).scalars())


async def silence(sessions, worker: str, seconds: float = 60) -> None:
    """Make `worker`'s last heartbeat `seconds` older."""
    async with sessions() as session, session.begin():
        await session.execute(update(DispatchWorker).where(DispatchWorker.id == worker)
                              .values(beat_at=DispatchWorker.beat_at - seconds))


async def ghost_holding(sessions, config, clock, begun: int) -> list[int]:
    """A red warning whose rows a worker "ghost" claimed and began `begun` of, then went silent; the row ids."""
    result = await ingest(sessions, make_warning(), config, NOON)
    async with sessions() as session, session.begin():
        await register(session, "ghost", clock.now())
        rows = await claim(session, "ghost", clock.now(), 100, LEASE)
        await begin_attempts(session, "ghost", [row.id for row in rows[:begun]], clock.now())
    assert len(rows) == SENT and result.notifications == SENT + 1
    return [row.id for row in rows]


@pytest.fixture
async def slow_sink():
    async with Sink(Answer(200, delay=0.3)) as sink:
        yield sink


def slow_dispatcher(sessions, http, config, clock, **options) -> Dispatcher:
    return Dispatcher(sessions, build_channels(config.warnings.channels, http), config, clock, "web-1",
                      rng=random.Random(3), lease=LEASE, poll_seconds=60, **options)


async def test_stopping_lets_sends_in_flight_finish_and_gives_back_the_rest(sessions, settings, registry, clock,
                                                                           slow_sink):
    config = warning_settings(settings, slow_sink.url_for("/hook"), concurrency=2)
    async with new_http_session(config.warnings.channels) as http:
        dispatcher = slow_dispatcher(sessions, http, config, clock)
        result = await ingest(sessions, make_warning(), config, NOON, handoff=dispatcher)
        stop = asyncio.Event()
        task = asyncio.create_task(dispatcher.run_forever(stop))
        await wait_until(lambda: _at_least(slow_sink, 1), timeout=10, every=0.01)
        stop.set()
        await asyncio.wait_for(task, 10)
    sent = len(slow_sink.requests)
    assert 1 <= sent <= 2 * 2  # those in flight, perhaps the ones begun behind them: nothing new after the stop
    async with sessions() as session:
        rows = await notifications(session, result.warning.id)
    by_status = {status: [row for row in rows if row.status == status] for status in {row.status for row in rows}}
    assert len(by_status["delivered"]) == sent and len(by_status["pending"]) == SENT - sent  # finished, on record
    assert {(row.claimed_by, row.lease_until, row.attempt_started_at) for row in by_status["pending"]} == \
        {(None, None, None)}
    assert all(row.next_attempt_at <= clock.now() for row in by_status["pending"])  # due at once
    assert [a[1] for a in await attempts(sessions)] == [True] * sent and await workers(sessions) == []


async def test_sends_still_in_flight_after_the_grace_are_cut_off_and_on_record_as_interrupted(sessions, settings,
                                                                                             registry, clock):
    async with Sink(Answer(200, delay=30)) as stuck:
        config = warning_settings(settings, stuck.url_for("/hook"), concurrency=2)
        async with new_http_session(config.warnings.channels) as http:
            dispatcher = slow_dispatcher(sessions, http, config, clock, stop_grace=0.2)
            await ingest(sessions, make_warning(), config, NOON, handoff=dispatcher)
            stop = asyncio.Event()
            task = asyncio.create_task(dispatcher.run_forever(stop))
            await wait_until(lambda: _at_least(stuck, 2), timeout=10, every=0.01)
            stop.set()
            await asyncio.wait_for(task, 5)
    cut_off = await attempts(sessions)
    assert [(ok, detail, worker) for _, ok, detail, worker in cut_off] == [(False, INTERRUPTED, "web-1")] * 2
    async with sessions() as session:
        keys = dict((await session.execute(select(Notification.id, Notification.idempotency_key))).all())
    assert {keys[key] for key, *_ in cut_off} == set(HookKeys.of(stuck).counts)  # exactly those that were asked
    assert await count(sessions, Notification.status == "pending") == SENT
    assert await count(sessions, Notification.status == "sending") == 0


async def test_the_web_apps_shutdown_gives_back_what_its_dispatcher_has_not_sent(aiohttp_client, engine, sessions,
                                                                                settings, clock, tokens, registry,
                                                                                slow_sink):
    config = warning_settings(settings, slow_sink.url_for("/hook"), concurrency=1)
    client = await aiohttp_client(create_app(engine, config, clock, dispatch=True))
    response = await post_cap(client, zz(), tokens["editor"])
    assert response.status == 201
    await wait_until(lambda: _at_least(slow_sink, 1), timeout=10, every=0.01)
    await client.close()  # the app's cleanup stops its warning service
    sent = len(slow_sink.requests)
    sendable = await count(sessions, Notification.status != "failed")
    assert await count(sessions, Notification.status == "sending") == 0 and await workers(sessions) == []
    assert await count(sessions, Notification.status == "delivered") == sent < SENT
    assert await count(sessions, Notification.status == "pending") == sendable - sent


async def test_heartbeats_are_judged_by_the_database_clock_not_the_workers(sessions, outbox_rows, clock):
    async with sessions() as session, session.begin():
        await register(session, "a", clock.now())
        await register(session, "b", clock.now())
    far_ahead = clock.now() + timedelta(days=3650)  # b's clock is ten years fast: a still looks alive
    async with sessions() as session, session.begin():
        assert await take_over(session, "b", far_ahead) == {}
    await silence(sessions, "a")
    async with sessions() as session, session.begin():
        assert await beat(session, "b")
        assert await take_over(session, "b", clock.now()) == {"a": 0}
        assert not await beat(session, "a")  # a, should it come back, learns it was taken for dead
    assert await workers(sessions) == ["b"]


async def test_a_dispatcher_takes_over_the_rows_of_a_silent_worker(sessions, settings, registry, clock, sink):
    config = warning_settings(settings, sink.url_for("/hook"))
    ids = await ghost_holding(sessions, config, clock, begun=3)
    await silence(sessions, "ghost")
    async with new_http_session(config.warnings.channels) as http:
        dispatcher = Dispatcher(sessions, build_channels(config.warnings.channels, http), config, clock, "live",
                                lease=LEASE, poll_seconds=60, heartbeat_seconds=0.05)
        stop = asyncio.Event()
        task = asyncio.create_task(dispatcher.run_forever(stop))
        await wait_until(lambda: _delivered(sessions, SENT), timeout=10, every=0.02)
        stop.set()
        await asyncio.wait_for(task, 10)
    assert set(HookKeys.of(sink).counts.values()) == {1} and len(HookKeys.of(sink).counts) == SENT
    tries = await attempts(sessions)
    interrupted = [(key, worker) for key, ok, detail, worker in tries if detail == INTERRUPTED]
    assert interrupted == [(key, "ghost") for key in sorted(ids[:3])]  # the attempts that may have gone out
    assert sorted(key for key, ok, _, worker in tries if ok and worker == "live") == sorted(ids)
    assert await workers(sessions) == []


async def test_a_send_begun_under_a_lease_that_lapsed_with_nobody_alive_behind_it_goes_again(sessions, settings,
                                                                                             registry, clock, sink):
    config = warning_settings(settings, sink.url_for("/hook"))
    ids = await ghost_holding(sessions, config, clock, begun=2)
    async with sessions() as session, session.begin():  # no heartbeat to go by (an older version, say)
        await session.execute(delete(DispatchWorker))
    clock.advance(seconds=LEASE.total_seconds() + 1)
    async with new_http_session(config.warnings.channels) as http:
        dispatcher = Dispatcher(sessions, build_channels(config.warnings.channels, http), config, clock, "live",
                                lease=LEASE, poll_seconds=0.05, heartbeat_seconds=0.05)
        stop = asyncio.Event()
        task = asyncio.create_task(dispatcher.run_forever(stop))
        await wait_until(lambda: _delivered(sessions, SENT), timeout=10, every=0.02)
        stop.set()
        await asyncio.wait_for(task, 10)
    assert set(HookKeys.of(sink).counts.values()) == {1} and len(HookKeys.of(sink).counts) == SENT
    interrupted = [(key, worker) for key, _, detail, worker in await attempts(sessions) if detail == INTERRUPTED]
    assert interrupted == [(key, "ghost") for key in sorted(ids[:2])]


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
async def test_two_workers_noticing_one_death_take_it_over_once(engine, sessions, settings, registry, clock):
    config = warning_settings(settings, "http://127.0.0.1:9/hook")
    ids = await ghost_holding(sessions, config, clock, begun=4)
    await silence(sessions, "ghost")
    others = [await twin_engine(engine) for _ in range(2)]
    try:
        async def notice(index: int, other) -> dict:
            async with session_factory(other)() as session, session.begin():
                await register(session, f"live-{index}", clock.now())
                return await take_over(session, f"live-{index}", clock.now())

        found = await asyncio.gather(*(notice(index, other) for index, other in enumerate(others)))
    finally:
        for other in others:
            await other.dispose()
    assert sorted(found, key=len) == [{}, {"ghost": len(ids)}]
    assert [detail for _, _, detail, _ in await attempts(sessions)] == [INTERRUPTED] * 4


@pytest.fixture
async def outbox_rows(sessions, settings, registry):
    """A red warning's rows, pending."""
    await ingest(sessions, make_warning(), warning_settings(settings, "http://127.0.0.1:9/hook"), NOON)


async def _at_least(sink, number: int) -> bool:
    return len(sink.requests) >= number


async def _delivered(sessions, number: int) -> bool:
    return await count(sessions, Notification.status == "delivered") == number
