"""Real dispatcher processes: SIGKILL in the middle of a fan-out loses nobody, and the rows of the killed one are
taken over within seconds (not when its 120 s lease runs out), the few sent twice on record; SIGTERM gives the
unsent rows back at once; two at once send nothing twice.

The kill tests print the time from the restart (or the kill) to the last recipient reached, and the duplicates."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select
from support import dispatch_runs
from support.dispatch_runs import delivered, last_reached, stop
from support.sinks import Answer, Sink
from support.waiting import wait_until
from support.warning_factories import HookKeys, add_wide_registry, make_warning, warning_settings

from fangxun.warnings.delivery.outbox import INTERRUPTED
from fangxun.warnings.delivery.pipeline import MAX_BEGUN_PER_SENDER
from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.tables import DispatchWorker, Notification, NotificationAttempt

DEPARTMENTS = 3
CONCURRENCY = 4  # the child's webhook channel
RESEND_BOUND = MAX_BEGUN_PER_SENDER * CONCURRENCY  # rows begun and not yet sent when a dispatcher is killed, at most
LEASE_SECONDS = 120.0  # as in service: recovery must not wait for it
WATCHDOG = 60  # seconds: far beyond the targets (15 s), only so that a hang fails


async def spawn(engine, hook_url: str, worker: str) -> asyncio.subprocess.Process:
    """A dispatcher process as these tests run it (lease as in service, concurrency 4)."""
    return await dispatch_runs.spawn(engine, hook_url, worker, LEASE_SECONDS, CONCURRENCY)


async def fan_out(engine, sessions, settings, hook_url) -> list[str]:
    """A red warning over the wide registry, accepted now; the idempotency keys of its notifications."""
    async with sessions() as session, session.begin():
        persons = await add_wide_registry(session)
    now = datetime.now(timezone.utc)
    config = warning_settings(settings, hook_url)
    result = await ingest(sessions, make_warning(sent=now - timedelta(minutes=1), expires=now + timedelta(hours=6)),
                          config, now)
    assert result.notifications == persons + DEPARTMENTS > 300
    async with sessions() as session:
        return list((await session.execute(select(Notification.idempotency_key))).scalars())


async def some_received(sink, count: int = 60) -> None:
    async def enough():
        return len(sink.requests) >= count

    await wait_until(enough, timeout=WATCHDOG, every=0.01)


async def holding(sessions, worker: str) -> int:
    """Rows `worker` has claimed and not yet written back."""
    async with sessions() as session:
        return (await session.execute(select(func.count()).select_from(Notification).where(
            Notification.claimed_by == worker, Notification.status == "sending"))).scalar_one()


async def both_at_work(sessions, kept: str, other: str) -> None:
    """Until `kept` holds rows and `other` beats (on a loaded machine one may start well after the other)."""
    async def ready():
        async with sessions() as session:
            beating = set((await session.execute(select(DispatchWorker.id))).scalars())
        return other in beating and await holding(sessions, kept) > 0

    await wait_until(ready, timeout=WATCHDOG, every=0.01)


async def all_delivered(sessions, keys) -> None:
    async def done():
        return await delivered(sessions) == len(keys)

    await wait_until(done, timeout=WATCHDOG, every=0.05)


async def attempts_by_key(sessions) -> dict[str, list[tuple[str, bool, str]]]:
    """Per idempotency key, its attempts in order: (worker, ok, detail)."""
    async with sessions() as session:
        rows = (await session.execute(
            select(Notification.idempotency_key, NotificationAttempt.worker, NotificationAttempt.ok,
                   NotificationAttempt.detail)
            .join(Notification, Notification.id == NotificationAttempt.notification_id)
            .order_by(NotificationAttempt.id))).all()
    found: dict[str, list[tuple[str, bool, str]]] = {}
    for key, worker, ok, detail in rows:
        found.setdefault(key, []).append((worker, ok, detail))
    return found


async def check_twice_on_record(sessions, keys: list[str], received: dict[str, int], killed: str) -> int:
    """Nobody lost; whoever got the message twice is on record with an interrupted attempt of the killed
    worker and a later one delivered; the duplicates within the most rows a channel may have begun and unsent
    (pipeline.MAX_BEGUN_PER_SENDER per unit of its concurrency). Their number."""
    assert set(received) == set(keys)
    duplicates = sum(count - 1 for count in received.values())
    attempts = await attempts_by_key(sessions)
    interrupted = {key for key, tries in attempts.items() if (killed, False, INTERRUPTED) in tries}
    twice = {key for key, count in received.items() if count > 1}
    assert twice <= interrupted  # the attempts table says who got a message twice
    assert all(len(attempts[key]) == 2 and attempts[key][0] == (killed, False, INTERRUPTED) and attempts[key][1][1]
               for key in interrupted)
    assert max(received.values()) <= 2 and duplicates <= len(interrupted) <= RESEND_BOUND
    async with sessions() as session:
        leftover = (await session.execute(select(func.count()).select_from(Notification)
                                          .where(Notification.status != "delivered"))).scalar_one()
    assert leftover == 0
    return duplicates


async def test_sigkill_mid_fan_out_then_restart_delivers_everyone_within_seconds(engine, sessions, settings):
    # Each answer takes 20 ms and the child sends 4 at a time: the fan-out lasts about 2 s.
    async with Sink(Answer(200, delay=0.02)) as sink:
        keys = await fan_out(engine, sessions, settings, sink.url_for("/hook"))
        first = await spawn(engine, sink.url_for("/hook"), "first")
        await some_received(sink)
        await dispatch_runs.kill(first)
        assert await delivered(sessions) < len(keys) and len(sink.requests) < len(keys)  # killed in the middle

        restarted = asyncio.get_running_loop().time()
        second = await spawn(engine, sink.url_for("/hook"), "second")
        await all_delivered(sessions, keys)
        await stop(second)
        received = HookKeys.of(sink).counts
        recovery = last_reached(sink) - restarted
    duplicates = await check_twice_on_record(sessions, keys, received, "first")
    async with sessions() as session:
        workers = set((await session.execute(select(NotificationAttempt.worker))).scalars())
        alive = list((await session.execute(select(DispatchWorker.id))).scalars())
    assert workers == {"first", "second"} and alive == []  # the dead one taken off, the stopped one left
    print(f"\n[{engine.dialect.name}] kill -9 mid fan-out of {len(keys)}: last recipient reached {recovery:.1f} s "
          f"after the restart (target < 15 s); {duplicates} duplicates, on record (bound {RESEND_BOUND})")


async def test_sigkill_with_another_dispatcher_running_its_rows_are_taken_over_within_seconds(engine, sessions,
                                                                                               settings):
    async with Sink(Answer(200, delay=0.02)) as sink:
        keys = await fan_out(engine, sessions, settings, sink.url_for("/hook"))
        first, second = await asyncio.gather(spawn(engine, sink.url_for("/hook"), "first"),
                                             spawn(engine, sink.url_for("/hook"), "second"))
        await some_received(sink)
        await both_at_work(sessions, "first", "second")
        await dispatch_runs.kill(first)
        killed = asyncio.get_running_loop().time()
        stranded = await holding(sessions, "first")
        assert stranded > 0  # the killed one held rows
        await all_delivered(sessions, keys)
        await stop(second)
        received = HookKeys.of(sink).counts
        recovery = last_reached(sink) - killed
    duplicates = await check_twice_on_record(sessions, keys, received, "first")
    print(f"\n[{engine.dialect.name}] kill -9 beside a running dispatcher ({stranded} rows stranded): last "
          f"recipient reached {recovery:.1f} s after the kill (target < 15 s); {duplicates} duplicates, on record")


async def test_sigterm_mid_fan_out_gives_the_unsent_rows_back_and_another_takes_them_at_once(engine, sessions,
                                                                                              settings):
    async with Sink(Answer(200, delay=0.02)) as sink:
        keys = await fan_out(engine, sessions, settings, sink.url_for("/hook"))
        first = await spawn(engine, sink.url_for("/hook"), "first")
        await some_received(sink)
        await stop(first)
        stopped = asyncio.get_running_loop().time()
        kept = await holding(sessions, "first")
        async with sessions() as session:
            waiting = (await session.execute(select(func.count()).select_from(Notification)
                                             .where(Notification.status == "pending"))).scalar_one()
            alive = list((await session.execute(select(DispatchWorker.id))).scalars())
        assert kept == 0 and alive == [] and 0 < waiting < len(keys)  # all given back, due at once
        second = await spawn(engine, sink.url_for("/hook"), "second")
        await all_delivered(sessions, keys)
        await stop(second)
        received = HookKeys.of(sink).counts
        taken_up = last_reached(sink) - stopped
    assert set(received) == set(keys) and set(received.values()) == {1}  # a clean stop sends nothing twice
    attempts = await attempts_by_key(sessions)
    assert all(len(tries) == 1 and tries[0][1] for tries in attempts.values()) and len(attempts) == len(keys)
    print(f"\n[{engine.dialect.name}] SIGTERM mid fan-out: {waiting} rows given back; the last recipient reached "
          f"{taken_up:.1f} s after the stop by a dispatcher started then; no duplicates")


async def test_sigterm_beside_a_running_dispatcher_it_takes_the_rows_at_once(engine, sessions, settings):
    async with Sink(Answer(200, delay=0.02)) as sink:
        keys = await fan_out(engine, sessions, settings, sink.url_for("/hook"))
        first, second = await asyncio.gather(spawn(engine, sink.url_for("/hook"), "first"),
                                             spawn(engine, sink.url_for("/hook"), "second"))
        await some_received(sink)
        await stop(first)
        stopped = asyncio.get_running_loop().time()
        await all_delivered(sessions, keys)
        await stop(second)
        received = HookKeys.of(sink).counts
        taken_up = last_reached(sink) - stopped
    assert set(received) == set(keys) and set(received.values()) == {1}
    print(f"\n[{engine.dialect.name}] SIGTERM beside a running dispatcher: last recipient reached {taken_up:.1f} s "
          "after the stop; no duplicates")


async def test_two_dispatchers_drain_one_outbox_without_sending_a_row_twice(engine, sessions, settings):
    async with Sink(Answer(200, delay=0.01)) as sink:
        keys = await fan_out(engine, sessions, settings, sink.url_for("/hook"))
        children = await asyncio.gather(spawn(engine, sink.url_for("/hook"), "a"),
                                        spawn(engine, sink.url_for("/hook"), "b"))
        await all_delivered(sessions, keys)
        for child in children:
            await stop(child)
        received = HookKeys.of(sink).counts
    assert set(received) == set(keys) and set(received.values()) == {1}
    async with sessions() as session:
        by_worker = dict((await session.execute(select(NotificationAttempt.worker, func.count())
                                                .group_by(NotificationAttempt.worker))).all())
    assert set(by_worker) == {"a", "b"} and sum(by_worker.values()) == len(keys)
