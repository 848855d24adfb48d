"""Scheduled work: the job functions with an injected clock, the APScheduler adapter, and the running service."""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import timedelta

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from support.api_fixtures import bearer
from support.warning_api import post_cap, zz
from support.warning_factories import NOON, make_warning, notifications, warning_settings

from fangxun.api.app import create_app
from fangxun.api.keys import WARNING_SERVICE
from fangxun.warnings.config import Feed
from fangxun.warnings.delivery.channels.factory import build_channels, new_http_session
from fangxun.warnings.delivery.dispatcher import Dispatcher
from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.intake.feeds import FeedPoller
from fangxun.warnings.scheduler import (CLOSE_EXPIRED_JOB, CLOSE_QUIET_EVENTS_JOB, ESCALATE_JOB, FEED_JOB_PREFIX,
                                        WarningJobs, build_scheduler)
from fangxun.warnings.service import WarningService
from fangxun.warnings.tables import Warning

REACHABLE = 11  # the red warning's notices that have an address


@pytest.fixture
def config(settings, sink, tmp_path):
    base = warning_settings(settings, sink.url_for("/hook"))
    feeds = (Feed(name="drop", directory=str(tmp_path / "inbox"), interval_seconds=45),
             Feed(name="met", url="http://127.0.0.1:9/feed.xml", interval_seconds=300))
    return base.model_copy(update={"warnings": base.warnings.model_copy(update={"feeds": feeds})})


async def deliver(sessions, config, clock) -> int:
    async with new_http_session(config.warnings.channels) as http:
        dispatcher = Dispatcher(sessions, build_channels(config.warnings.channels, http), config, clock, "t1",
                                rng=random.Random(4))
        return await dispatcher.run_until_idle()


async def test_the_escalation_job_reminds_and_steps_up_after_the_deadline(sessions, config, clock, registry):
    result = await ingest(sessions, make_warning(), config, NOON)
    assert await deliver(sessions, config, clock) == REACHABLE
    jobs = WarningJobs(sessions, config, clock)
    assert await jobs.escalate() == 1   # only the unreachable 责任人 goes up at once
    assert await jobs.escalate() == 0
    clock.advance(minutes=14)
    assert await jobs.escalate() == 0
    clock.advance(minutes=2)   # past the red deadline: each unanswered recipient is reminded once
    assert await jobs.escalate() == REACHABLE
    assert await jobs.escalate() == 0
    async with sessions() as session:
        purposes = [row.purpose for row in await notifications(session, result.warning.id)]
    assert purposes.count("reminder") == REACHABLE and purposes.count("escalation") == 1


async def test_the_expiry_job_closes_warnings_and_cancels_what_is_unsent(sessions, config, clock, registry):
    result = await ingest(sessions, make_warning(expires=NOON + timedelta(hours=1)), config, NOON)
    jobs = WarningJobs(sessions, config, clock)
    assert await jobs.close_expired() == []
    clock.advance(hours=1, seconds=1)
    assert await jobs.close_expired() == [result.warning.id]
    async with sessions() as session:
        assert (await session.get(Warning, result.warning.id)).status == "expired"
        statuses = {row.status for row in await notifications(session, result.warning.id)}
    assert statuses == {"cancelled", "failed"}


async def test_the_feed_job_polls_the_named_feed(sessions, config, clock, registry, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "alert.xml").write_bytes(zz())
    jobs = WarningJobs(sessions, config, clock, FeedPoller(sessions, config, clock, None, settle_seconds=0))
    report = await jobs.poll_feed("drop")
    assert len(report.ingested) == 1 and (inbox / "done" / "alert.xml").exists()


async def test_a_failing_job_is_logged_and_does_not_raise(sessions, config, clock, caplog):
    jobs = WarningJobs(sessions, config, clock)   # no poller
    with caplog.at_level(logging.ERROR, logger="fangxun.warnings.scheduler"):
        report = await jobs.poll_feed("drop")
    assert report.ingested == [] and "scheduled job feed drop failed" in caplog.text


async def test_the_adapter_registers_each_job_with_its_interval(sessions, config, clock):
    scheduler = build_scheduler(WarningJobs(sessions, config, clock), config)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {ESCALATE_JOB, CLOSE_EXPIRED_JOB, CLOSE_QUIET_EVENTS_JOB, FEED_JOB_PREFIX + "drop",
                         FEED_JOB_PREFIX + "met"}
    expected = {ESCALATE_JOB: 30, CLOSE_EXPIRED_JOB: 60, CLOSE_QUIET_EVENTS_JOB: 300, "feed:drop": 45, "feed:met": 300}
    for job_id, seconds in expected.items():
        job = jobs[job_id]
        assert isinstance(job.trigger, IntervalTrigger) and job.trigger.interval == timedelta(seconds=seconds)
        assert job.max_instances == 1 and job.coalesce is True
    assert jobs["feed:met"].args == ("met",)
    assert jobs[ESCALATE_JOB].func.__name__ == "escalate" and jobs[CLOSE_EXPIRED_JOB].func.__name__ == "close_expired"


async def test_the_service_dispatches_and_schedules_until_stopped(sessions, config, clock, sink, registry):
    await ingest(sessions, make_warning(), config, NOON)
    service = WarningService(sessions, config, clock, worker_id="svc", ack_base_url="https://fx.example",
                             poll_seconds=0.05)
    await service.start()
    try:
        assert service.scheduler.running
        assert {job.id for job in service.scheduler.get_jobs()} >= {ESCALATE_JOB, CLOSE_EXPIRED_JOB}
        for _ in range(200):
            if len(sink.requests) >= REACHABLE + 1:
                break
            await asyncio.sleep(0.05)
        # Every notice, and the escalation the job made at start for the unreachable 责任人.
        assert len(sink.requests) == REACHABLE + 1
        assert all("https://fx.example/ack/" in request.body.decode() for request in sink.requests)
        http = service.http
    finally:
        await service.stop()
    assert http.closed and service.scheduler is None


async def test_the_web_app_runs_the_dispatcher_when_asked(aiohttp_client, engine, sessions, config, clock, sink,
                                                          tokens, registry):
    client = await aiohttp_client(create_app(engine, config, clock, dispatch=True))
    service = client.app[WARNING_SERVICE]
    service.dispatcher.poll_seconds = 0.05
    response = await post_cap(client, zz(), tokens["editor"])
    assert response.status == 201
    warning_id = (await response.json())["warning_id"]
    for _ in range(200):
        body = await (await client.get(f"/api/warnings/{warning_id}/notifications",
                                       headers=bearer(tokens["viewer"]))).json()
        if body["counts"]["pending"] == 0:
            break
        await asyncio.sleep(0.05)
    delivered = {request.headers["Idempotency-Key"] for request in sink.requests}
    assert body["counts"]["pending"] == 0 and body["counts"]["delivered"] == len(delivered) >= REACHABLE
    assert not (create_app(engine, config, clock)).get(WARNING_SERVICE)
