"""Real dispatcher processes: SIGKILL in the middle of a fan-out loses nobody; two at once send nothing twice."""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, select
from support.sinks import Answer, Sink
from support.waiting import wait_until
from support.warning_factories import HookKeys, add_wide_registry, make_warning, search_path, warning_settings

from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.tables import Notification, NotificationAttempt

CHILD = Path(__file__).resolve().parent / "support" / "dispatch_child.py"
DEPARTMENTS = 3
LEASE_SECONDS = 2.0


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


async def spawn(engine, hook_url: str, worker: str) -> asyncio.subprocess.Process:
    path = await search_path(engine) or "-"
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "sqlite":
        url = url.replace("sqlite+aiosqlite", "sqlite")
    else:
        url = url.replace("postgresql+asyncpg", "postgresql")
    child = await asyncio.create_subprocess_exec(sys.executable, str(CHILD), url, path, hook_url, worker,
                                                 str(LEASE_SECONDS), stdout=asyncio.subprocess.PIPE)
    assert (await asyncio.wait_for(child.stdout.readline(), 30)).strip() == b"ready"
    return child


async def delivered(sessions) -> int:
    async with sessions() as session:
        return (await session.execute(select(func.count()).select_from(Notification)
                                      .where(Notification.status == "delivered"))).scalar_one()


async def stop(child: asyncio.subprocess.Process) -> None:
    child.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(child.wait(), 30) == 0


async def test_sigkill_mid_fan_out_then_restart_delivers_everyone(engine, sessions, settings):
    # Each answer takes 20 ms and the child sends 4 at a time: the fan-out lasts about 2 s.
    async with Sink(Answer(200, delay=0.02)) as sink:
        keys = await fan_out(engine, sessions, settings, sink.url_for("/hook"))
        first = await spawn(engine, sink.url_for("/hook"), "first")

        async def some_received():
            return len(sink.requests) >= 60

        await wait_until(some_received)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        at_kill = await delivered(sessions)
        assert at_kill < len(keys) and len(sink.requests) < len(keys)  # killed in the middle

        second = await spawn(engine, sink.url_for("/hook"), "second")

        async def all_delivered():
            return await delivered(sessions) == len(keys)

        await wait_until(all_delivered)
        await stop(second)
        received = HookKeys.of(sink).counts
    assert set(received) == set(keys)  # nobody skipped; a few may have had the message twice
    duplicates = sum(count - 1 for count in received.values())
    # Only what the first process had sent but not yet written back goes twice.
    assert duplicates <= 64
    async with sessions() as session:
        workers = set((await session.execute(select(NotificationAttempt.worker))).scalars())
        leftover = (await session.execute(select(func.count()).select_from(Notification)
                                          .where(Notification.status != "delivered"))).scalar_one()
    assert workers == {"first", "second"} and leftover == 0


async def test_two_dispatchers_drain_one_outbox_without_sending_a_row_twice(engine, sessions, settings):
    async with Sink(Answer(200, delay=0.01)) as sink:
        keys = await fan_out(engine, sessions, settings, sink.url_for("/hook"))
        children = await asyncio.gather(spawn(engine, sink.url_for("/hook"), "a"),
                                        spawn(engine, sink.url_for("/hook"), "b"))

        async def all_delivered():
            return await delivered(sessions) == len(keys)

        await wait_until(all_delivered)
        for child in children:
            await stop(child)
        received = HookKeys.of(sink).counts
    assert set(received) == set(keys) and set(received.values()) == {1}
    async with sessions() as session:
        by_worker = dict((await session.execute(select(NotificationAttempt.worker, func.count())
                                                .group_by(NotificationAttempt.worker))).all())
    assert set(by_worker) == {"a", "b"} and sum(by_worker.values()) == len(keys)
