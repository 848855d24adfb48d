"""/metrics as Prometheus reads it (parsed with prometheus_client's own parser), checked against a known state: outbox
rows by status and channel, the age of the oldest row due by the service's clock, send latency after real sends to
a local sink, outcomes, 叫应 by way, reminders, feed polls, the dispatchers' heartbeats; and who may read it. On
SQLite and PostgreSQL."""

from __future__ import annotations

import math
import random
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert, select, update
from support.api_fixtures import bearer
from support.warning_factories import NOON, make_warning, notifications, warning_settings

from fangxun.api.app import create_app
from fangxun.core.accounts import signing_secret
from fangxun.core.db import create_engine
from fangxun.core.db_clock import database_seconds
from fangxun.warnings.acks.escalation import escalate_due
from fangxun.warnings.acks.tokens import ack_token
from fangxun.warnings.delivery.channels.factory import build_channels, new_http_session
from fangxun.warnings.delivery.dispatcher import Dispatcher
from fangxun.warnings.delivery.workers import register
from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.intake.feeds import FeedPoller
from fangxun.warnings.scheduler import WarningJobs
from fangxun.warnings.tables import DispatchWorker, Notification

SENT = 11  # the red warning's notices that have an address


@pytest.fixture
def config(settings, sink):
    return warning_settings(settings, sink.url_for("/hook"))


def allowing(config, *networks: str):
    """`config` with [monitoring] metrics_allow = networks."""
    return config.model_copy(update={"monitoring": config.monitoring.model_copy(
        update={"metrics_allow": networks})})


async def scrape(client, token: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of /metrics: (sample name, labels) -> value."""
    response = await client.get("/metrics", headers=bearer(token))
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(await response.text()) for sample in family.samples}


def value(samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def deliver(sessions, config, clock) -> int:
    """The red warning over the small registry, sent to the sink; its id."""
    result = await ingest(sessions, make_warning(), config, NOON)
    async with new_http_session(config.warnings.channels) as http:
        await Dispatcher(sessions, build_channels(config.warnings.channels, http), config, clock, "m1",
                         rng=random.Random(1)).run_until_idle()
    return result.warning.id


async def test_outbox_rows_by_status_and_channel_and_the_oldest_due_by_the_clock(client, sessions, config, registry,
                                                                                tokens, clock):
    result = await ingest(sessions, make_warning(), config, NOON)
    async with sessions() as session, session.begin():
        ids = [row.id for row in await notifications(session, result.warning.id)]
        assert len(ids) == 12

        async def put(which, **values):
            await session.execute(update(Notification).where(Notification.id.in_(which)).values(**values))

        await put(ids, status="pending", next_attempt_at=NOON + timedelta(hours=1))  # none due
        await put(ids[0:3], status="delivered", next_attempt_at=None)
        await put(ids[3:4], status="dead", next_attempt_at=None)
        await put(ids[4:5], status="sending", lease_until=NOON - timedelta(seconds=30))  # lapsed: due again
        await put(ids[5:6], next_attempt_at=NOON - timedelta(seconds=90))  # the longest waiting
        await put(ids[6:7], channel="old-sms", next_attempt_at=NOON - timedelta(seconds=10))  # not configured now
        await put(ids[7:8], status="cancelled")
        await put(ids[8:9], status="failed")
    clock.advance(seconds=40)
    samples = await scrape(client, tokens["viewer"])
    hook = {status: value(samples, "fangxun_outbox_rows", status=status, channel="hook")
            for status in ("pending", "sending", "delivered", "failed", "dead", "cancelled")}
    assert hook == {"pending": 4, "sending": 1, "delivered": 3, "failed": 1, "dead": 1, "cancelled": 1}
    assert value(samples, "fangxun_outbox_rows", status="pending", channel="old-sms") == 1
    assert ("fangxun_outbox_rows", frozenset({"status": "delivered", "channel": "old-sms"}.items())) in samples  # a 0 shown
    assert value(samples, "fangxun_outbox_oldest_due_age_seconds", channel="hook") == pytest.approx(130)
    assert value(samples, "fangxun_outbox_oldest_due_age_seconds", channel="old-sms") == pytest.approx(50)
    assert value(samples, "fangxun_database_up") == 1
    async with sessions() as session, session.begin():
        await session.execute(update(Notification).values(status="delivered"))
    assert value(await scrape(client, tokens["viewer"]), "fangxun_outbox_oldest_due_age_seconds", channel="hook") == 0


async def test_send_latency_and_outcomes_after_real_sends(client, sessions, config, registry, sink, tokens, clock):
    before = await scrape(client, tokens["viewer"])
    sink.script("slow", delay=0.3)  # the first message takes 0.3 s to be answered
    await deliver(sessions, config, clock)
    after = await scrape(client, tokens["viewer"])

    def grown(name: str, **labels) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grown("fangxun_notification_send_seconds_count", channel="hook") == SENT
    assert grown("fangxun_notification_send_seconds_bucket", channel="hook", le="+Inf") == SENT
    assert grown("fangxun_notification_send_seconds_bucket", channel="hook", le="0.25") <= SENT - 1
    assert grown("fangxun_notification_send_seconds_sum", channel="hook") >= 0.3
    assert grown("fangxun_notification_outcomes_total", channel="hook", outcome="delivered") == SENT
    assert len(sink.requests) == SENT


async def test_acks_by_way_and_reminders(client, sessions, config, registry, tokens, clock):
    warning_id = await deliver(sessions, config, clock)
    async with sessions() as session:
        secret = await signing_secret(session)
        rows = await notifications(session, warning_id, status="delivered")
    before = await scrape(client, tokens["viewer"])
    response = await client.post(f"/api/acks/{ack_token(secret, rows[0].idempotency_key)}")
    assert response.status == 200
    async with sessions() as session, session.begin():
        created = await escalate_due(session, NOON + timedelta(minutes=16), config)
        reminders = len(await notifications(session, warning_id, purpose="reminder"))
        escalations = len(await notifications(session, warning_id, purpose="escalation"))
    # Each unanswered notice is reminded; the unreachable person (no address) is escalated at once.
    assert reminders == SENT - 1 and escalations == 1 and created == reminders + escalations
    after = await scrape(client, tokens["viewer"])

    def grown(name: str, **labels) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert (grown("fangxun_acks_total", way="link"), grown("fangxun_acks_total", way="voice")) == (1, 0)
    assert (grown("fangxun_reminders_total"), grown("fangxun_escalations_total")) == (reminders, escalations)


async def test_the_heartbeat_age_of_the_freshest_dispatcher(client, sessions, tokens):
    samples = await scrape(client, tokens["viewer"])
    assert math.isinf(value(samples, "fangxun_dispatcher_heartbeat_age_seconds"))
    assert value(samples, "fangxun_dispatchers", state="fresh") == 0
    async with sessions() as session, session.begin():
        now = (await session.execute(select(database_seconds()))).scalar_one()
        await session.execute(insert(DispatchWorker).values(id="gone-1", host="h", pid=1, started_at=NOON,
                                                            beat_at=now - 100))
    samples = await scrape(client, tokens["viewer"])
    assert value(samples, "fangxun_dispatcher_heartbeat_age_seconds") == pytest.approx(100, abs=5)
    assert (value(samples, "fangxun_dispatchers", state="fresh"), value(samples, "fangxun_dispatchers",
                                                                          state="stale")) == (0, 1)
    async with sessions() as session, session.begin():
        await register(session, "alive-2", NOON)
    samples = await scrape(client, tokens["viewer"])
    assert value(samples, "fangxun_dispatcher_heartbeat_age_seconds") < 5
    assert value(samples, "fangxun_dispatchers", state="fresh") == 1


async def test_feed_polls_and_the_last_success_per_feed(tmp_path, clock, settings):
    (tmp_path / "drop").mkdir()
    feeds = [{"name": "drop", "directory": str(tmp_path / "drop")},
             {"name": "lost", "directory": str(tmp_path / "nowhere")}]
    config = settings.model_copy(update={"warnings": settings.warnings.model_copy(update={
        "feeds": tuple(type(settings.warnings).model_validate({"feeds": feeds}).feeds)})})

    jobs = WarningJobs(None, config, clock, FeedPoller(None, config, clock, None))  # an empty drop: no database

    def polls(feed: str, result: str) -> float:
        return REGISTRY.get_sample_value("fangxun_feed_polls_total", {"feed": feed, "result": result}) or 0.0

    before = (polls("drop", "ok"), polls("lost", "error"))
    assert not (await jobs.poll_feed("drop")).failed
    assert (await jobs.poll_feed("lost")).failed
    assert (polls("drop", "ok"), polls("lost", "error")) == (before[0] + 1, before[1] + 1)
    assert REGISTRY.get_sample_value("fangxun_feed_last_success_timestamp_seconds",
                                     {"feed": "drop"}) == clock.now().timestamp()
    assert jobs.feed_success == {"drop": clock.now()}


@pytest.mark.parametrize(("allowed", "status"), [((), 401), (("127.0.0.1",), 200), (("10.0.0.0/8",), 401),
                                                 (("::1", "127.0.0.0/8"), 200)])
async def test_without_credentials_only_allowed_addresses_may_read(aiohttp_client, engine, config, clock, allowed,
                                                                   status):
    client = await aiohttp_client(create_app(engine, allowing(config, *allowed), clock))
    response = await client.get("/metrics")
    assert response.status == status
    if status == 200:
        assert "fangxun_outbox_rows" in await response.text()


async def test_any_role_may_read_with_a_token_and_a_wrong_token_may_not(client, tokens):
    for role in ("viewer", "editor", "admin"):
        assert (await client.get("/metrics", headers=bearer(tokens[role]))).status == 200
    assert (await client.get("/metrics", headers=bearer("fx_wrong"))).status == 401


async def test_the_process_metrics_are_there_and_a_dead_database_is_said_not_hidden(aiohttp_client, config, clock,
                                                                                   monkeypatch):
    monkeypatch.setenv("FANGXUN_SECRET_KEY", "test-only-key")
    dead = create_engine("postgresql://postgres@127.0.0.1:9/nowhere")
    try:
        client = await aiohttp_client(create_app(dead, allowing(config, "127.0.0.1"), clock))
        response = await client.get("/metrics")
        assert response.status == 200
        samples = {(sample.name, frozenset(sample.labels.items())): sample.value
                   for family in text_string_to_metric_families(await response.text()) for sample in family.samples}
    finally:
        await dead.dispose()
    assert value(samples, "fangxun_database_up") == 0
    assert not any(name == "fangxun_outbox_rows" for name, _ in samples)
    assert value(samples, "fangxun_event_loop_lag_seconds") >= 0
    assert ("fangxun_event_loop_lag_seconds", frozenset()) in samples
    assert ("fangxun_build_info", frozenset({"version": "0.1.0"}.items())) in samples
    assert any(name == "python_info" for name, _ in samples)  # prometheus_client's own collectors too
