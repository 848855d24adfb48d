"""The dispatcher against real local sink servers: delivery, retries with backoff, dead, failed, quiet hours."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from support.sinks import Answer, Sink
from support.warning_factories import NOON, HookKeys, make_warning, notifications, twin_engine, warning_settings

from fangxun.core.accounts import signing_secret
from fangxun.core.clock import Clock
from fangxun.core.db import session_factory
from fangxun.warnings.acks.tokens import ack_token
from fangxun.warnings.delivery.channels.factory import build_channels, new_http_session
from fangxun.warnings.delivery.dispatcher import UNKNOWN_CHANNEL, Dispatcher, backoff
from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.tables import Notification, NotificationAttempt

SENT = 11  # the red warning's notices that have an address (the 12th is born failed)


@pytest.fixture
def config(settings, sink):
    return warning_settings(settings, sink.url_for("/hook"))


@pytest.fixture
async def dispatcher(sessions, config, clock):
    async with new_http_session(config.warnings.channels) as http:
        yield Dispatcher(sessions, build_channels(config.warnings.channels, http), config, clock, "w1",
                         rng=random.Random(7), ack_base_url="https://fx.example/")


async def statuses(sessions, warning_id) -> dict[str, int]:
    async with sessions() as session:
        rows = await notifications(session, warning_id)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    return counts


async def attempts(sessions) -> list[NotificationAttempt]:
    async with sessions() as session:
        return list((await session.execute(select(NotificationAttempt).order_by(NotificationAttempt.id))).scalars())


async def test_delivers_everything_with_the_ack_link_and_records_each_attempt(sessions, config, registry, sink,
                                                                             dispatcher, clock):
    result = await ingest(sessions, make_warning(), config, NOON)
    assert await dispatcher.run_until_idle() == SENT
    assert await statuses(sessions, result.warning.id) == {"delivered": SENT, "failed": 1}
    keys = HookKeys.of(sink).counts
    assert len(keys) == SENT and set(keys.values()) == {1}
    async with sessions() as session:
        secret = await signing_secret(session)
        rows = await notifications(session, result.warning.id, status="delivered")
    by_key = {r.headers["Idempotency-Key"]: r.json for r in sink.requests}
    for row in rows:
        body = by_key[row.idempotency_key]
        link = f"https://fx.example/ack/{ack_token(secret, row.idempotency_key)}"
        assert body["ack_url"] == link and link in body["text"] and "{ack_url}" not in body["text"]
        assert body["address"] == row.address and body["warning_id"] == result.warning.id
        assert (row.attempts, row.delivered_at, row.ack_deadline) == (1, NOON, NOON + timedelta(minutes=15))
        assert row.lease_until is None
    tries = await attempts(sessions)
    assert len(tries) == SENT and all(t.ok and t.status == 200 and t.worker == "w1" for t in tries)
    assert await dispatcher.run_until_idle() == 0


async def test_429_and_500_are_retried_with_backoff(sessions, config, registry, sink, dispatcher, clock):
    sink.script(500, times=6).script(429, headers={"Retry-After": "30"}, times=5)
    result = await ingest(sessions, make_warning(), config, NOON)
    assert await dispatcher.run_until_idle() == SENT
    async with sessions() as session:
        rows = await notifications(session, result.warning.id, status="pending")
    assert len(rows) == SENT and all(r.attempts == 1 for r in rows)
    waits = sorted((r.next_attempt_at - NOON).total_seconds() for r in rows)
    # base 2 s ± 20 % for the 500s; at least the 30 s the 429s asked for
    assert all(1.6 <= w <= 2.4 for w in waits[:6]) and all(30 <= w <= 31 for w in waits[6:])
    assert {r.last_error for r in rows} == {"HTTP 500", "HTTP 429"}

    assert await dispatcher.run_until_idle() == 0  # nothing due yet
    clock.advance(seconds=3)
    assert await dispatcher.run_until_idle() == 6
    clock.advance(seconds=30)
    assert await dispatcher.run_until_idle() == 5
    assert await statuses(sessions, result.warning.id) == {"delivered": SENT, "failed": 1}
    tries = await attempts(sessions)
    assert [t.status for t in tries].count(500) == 6 and [t.status for t in tries].count(429) == 5
    assert sum(t.ok for t in tries) == SENT and all(t.retry for t in tries if not t.ok)


async def test_dead_after_the_configured_attempts(sessions, config, registry, sink, dispatcher, clock):
    sink.default = Answer(503)
    result = await ingest(sessions, make_warning(), config, NOON)
    for _ in range(config.warnings.retry.max_attempts):
        await dispatcher.run_until_idle()
        clock.advance(minutes=5)
    assert await statuses(sessions, result.warning.id) == {"dead": SENT, "failed": 1}
    async with sessions() as session:
        rows = await notifications(session, result.warning.id, status="dead")
    assert {r.attempts for r in rows} == {4} and {r.last_error for r in rows} == {"HTTP 503"}
    assert len(sink.requests) == 4 * SENT
    assert await dispatcher.run_until_idle() == 0


async def test_400_fails_at_once(sessions, config, registry, sink, dispatcher):
    sink.script(400, json={"error": "bad"}, times=SENT)
    result = await ingest(sessions, make_warning(), config, NOON)
    await dispatcher.run_until_idle()
    assert await statuses(sessions, result.warning.id) == {"failed": SENT + 1}
    tries = await attempts(sessions)
    assert len(tries) == SENT and not any(t.retry for t in tries)


def test_backoff_doubles_up_to_the_cap_with_jitter():
    rng = random.Random(1)
    assert [backoff(n, 2, 60, 0, rng) for n in (1, 2, 3, 4, 5, 6, 7)] == [2, 4, 8, 16, 32, 60, 60]
    spread = [backoff(3, 2, 60, 0.2, rng) for _ in range(200)]
    assert 6.4 <= min(spread) < 7 and 9 < max(spread) <= 9.6
    assert backoff(1, 2, 60, 0.2, rng, retry_after=120) == 120


async def test_quiet_hours_hold_blue_and_yellow_never_red(sessions, config, registry, sink, dispatcher, clock):
    night = NOON.replace(hour=15)  # 23:00 in Shanghai
    morning = NOON.replace(hour=23)  # 07:00 next day
    later = night + timedelta(hours=12)
    yellow = await ingest(sessions, make_warning("y", colour="yellow", sent=night, expires=later), config, night)
    red = await ingest(sessions, make_warning("r", colour="red", sent=night, expires=later), config, night)
    # A yellow notification that became due at night anyway (a retry, or a changed window) is held too.
    async with sessions() as session, session.begin():
        await session.execute(update(Notification).where(Notification.warning_id == yellow.warning.id)
                              .values(next_attempt_at=night))
    clock.advance(hours=13)  # 23:00
    await dispatcher.run_until_idle()
    assert await statuses(sessions, red.warning.id) == {"delivered": SENT, "failed": 1}
    assert await statuses(sessions, yellow.warning.id) == {"pending": 6}
    async with sessions() as session:
        assert {n.next_attempt_at for n in await notifications(session, yellow.warning.id)} == {morning}
    assert len(sink.requests) == SENT and not await attempts(sessions) == []
    clock.advance(hours=8)  # 07:00
    await dispatcher.run_until_idle()
    assert await statuses(sessions, yellow.warning.id) == {"delivered": 6}


class Exploding:
    """A channel with a bug: raises instead of returning a result."""

    name = kind = "hook"

    async def send(self, message):
        raise KeyError("bug")


async def test_a_channel_that_raises_is_recorded_and_retried(sessions, config, registry, clock):
    result = await ingest(sessions, make_warning(), config, NOON)
    broken = Dispatcher(sessions, {"hook": Exploding()}, config, clock, "w1")
    assert await broken.run_until_idle() == SENT
    assert await statuses(sessions, result.warning.id) == {"pending": SENT, "failed": 1}
    assert {t.detail for t in await attempts(sessions)} == {"internal error: KeyError"}


async def test_rows_of_an_unknown_channel_fail_without_stopping_the_others(sessions, config, registry, sink,
                                                                           dispatcher):
    result = await ingest(sessions, make_warning(), config, NOON)
    async with sessions() as session, session.begin():
        first = (await notifications(session, result.warning.id, status="pending"))[0]
        await session.execute(update(Notification).where(Notification.id == first.id).values(channel="gone"))
    await dispatcher.run_until_idle()
    async with sessions() as session:
        row = await session.get(Notification, first.id)
    assert (row.status, row.last_error) == ("failed", f"{UNKNOWN_CHANNEL} gone")
    assert await statuses(sessions, result.warning.id) == {"delivered": SENT - 1, "failed": 2}


async def test_a_slow_channel_does_not_hold_up_the_others(sessions, settings, registry, sink, clock):
    async with Sink(Answer(200, delay=0.3)) as slow_sink:
        config = warning_settings(settings, slow_sink.url_for("/slow"), concurrency=1,
                                  extra_channels={"fast": {"kind": "webhook", "url": sink.url_for("/fast")}})
        result = await ingest(sessions, make_warning(), config, NOON)
        async with sessions() as session, session.begin():
            await session.execute(update(Notification).where(Notification.recipient_kind == "person")
                                  .values(channel="fast"))
        async with new_http_session(config.warnings.channels) as http:
            dispatcher = Dispatcher(sessions, build_channels(config.warnings.channels, http), config, clock, "w1")
            task = asyncio.create_task(dispatcher.run_until_idle())
            for _ in range(100):
                async with sessions() as session:
                    fast = await notifications(session, result.warning.id, channel="fast", status="delivered")
                if len(fast) == 8:
                    break
                await asyncio.sleep(0.05)
            # The persons were all served while the three desks still queued on the slow channel.
            assert len(fast) == 8 and len(slow_sink.requests) < 3
            await task
    assert await statuses(sessions, result.warning.id) == {"delivered": SENT, "failed": 1}


async def test_outcomes_are_written_back_while_a_long_fan_out_goes_on(sessions, settings, registry, clock):
    # The bookkeeping trails the sending by at most flush_every; it does not wait for the sending to end.
    async with Sink(Answer(200, delay=0.1)) as slow_sink:
        config = warning_settings(settings, slow_sink.url_for("/hook"), concurrency=1)
        result = await ingest(sessions, make_warning(), config, NOON)
        async with new_http_session(config.warnings.channels) as http:
            dispatcher = Dispatcher(sessions, build_channels(config.warnings.channels, http), config, clock, "w1",
                                    flush_every=0.3, poll_seconds=60)
            stop = asyncio.Event()
            task = asyncio.create_task(dispatcher.run_forever(stop))
            on_record = set()
            for _ in range(200):
                on_record.add((await statuses(sessions, result.warning.id)).get("delivered", 0))
                if SENT in on_record:
                    break
                await asyncio.sleep(0.05)
            stop.set()
            await asyncio.wait_for(task, 10)
    assert SENT in on_record and on_record & set(range(1, SENT))  # some on record while the rest went out


async def test_run_once_and_run_forever(sessions, config, registry, sink, dispatcher):
    await ingest(sessions, make_warning("a"), config, NOON)
    assert await dispatcher.run_once(limit=5) == 5
    assert len(sink.requests) == 5
    stop = asyncio.Event()
    dispatcher.poll_seconds = 0.05
    task = asyncio.create_task(dispatcher.run_forever(stop))
    await ingest(sessions, make_warning("b"), config, NOON)
    for _ in range(100):
        if len(sink.requests) == 2 * SENT:
            break
        await asyncio.sleep(0.05)
    stop.set()
    assert await asyncio.wait_for(task, 5) == 2 * SENT - 5
    async with sessions() as session:
        delivered = (await session.execute(select(func.count()).select_from(Notification)
                                           .where(Notification.status == "delivered"))).scalar_one()
    assert delivered == 2 * SENT


async def test_leases_are_kept_alive_while_sends_queue_behind_a_slow_channel(engine, sessions, settings, registry):
    """A dispatcher holding rows longer than its lease renews it, so a second one never sends them again."""
    async with Sink(Answer(200, delay=0.3)) as slow:
        config = warning_settings(settings, slow.url_for("/hook"), concurrency=1)
        now = Clock().now()
        await ingest(sessions, make_warning(sent=now, expires=now + timedelta(hours=1)), config, now)
        other = await twin_engine(engine)
        try:
            async with new_http_session(config.warnings.channels) as http:
                channels = build_channels(config.warnings.channels, http)
                first, second = (Dispatcher(s, channels, config, Clock(), name, lease=timedelta(seconds=0.6))
                                 for s, name in ((sessions, "first"), (session_factory(other), "second")))
                await asyncio.gather(first.run_until_idle(), _after(0.2, second.run_until_idle()))
        finally:
            await other.dispose()
        received = HookKeys.of(slow).counts
    # 11 sends at 0.3 s each, one at a time: well past the 0.6 s lease, and yet each went once.
    assert len(received) == SENT and set(received.values()) == {1}


async def _after(seconds: float, coroutine):
    await asyncio.sleep(seconds)
    return await coroutine
