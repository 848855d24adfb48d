"""Scheduled work: the job functions with an injected clock, the APScheduler adapter, and the running service."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select
from support.api_fixtures import bearer
from support.warning_api import post_cap, zz
from support.warning_factories import NOON, make_warning, notifications, search_path, warning_settings

from fangxun.api.app import create_app
from fangxun.api.keys import WARNING_SERVICE
from fangxun.warnings.config import Feed
from fangxun.warnings.delivery.channels.factory import build_channels, new_http_session
from fangxun.warnings.delivery.dispatcher import Dispatcher
from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.intake.feeds import FeedPoller
from fangxun.warnings.scheduler import (CLOSE_EXPIRED_JOB, CLOSE_QUIET_EVENTS_JOB, ESCALATE_JOB, FEED_JOB_PREFIX,
                                        PLAN_REMINDERS_JOB, WarningJobs, build_scheduler)
from fangxun.warnings.service import WarningService
from fangxun.warnings.tables import Notification, Warning

REACHABLE = 11  # the red warning's notices that have an address
JOBS_CHILD = Path(__file__).resolve().parent / "support" / "jobs_child.py"


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
    assert set(jobs) == {ESCALATE_JOB, CLOSE_EXPIRED_JOB, CLOSE_QUIET_EVENTS_JOB, PLAN_REMINDERS_JOB,
                         FEED_JOB_PREFIX + "drop", FEED_JOB_PREFIX + "met"}
    expected = {ESCALATE_JOB: 30, CLOSE_EXPIRED_JOB: 60, CLOSE_QUIET_EVENTS_JOB: 300, PLAN_REMINDERS_JOB: 3600,
                "feed:drop": 45, "feed:met": 300}
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


async def in_two_processes(engine, config, at, *jobs: str) -> list[list]:
    """Run `jobs` at the same moment in two processes of their own on the test database (as two `fangxun dispatch`
    do); what each returned, job by job. A job that failed in either is a test failure (WarningJobs only logs it)."""
    path = await search_path(engine) or "-"
    url = engine.url.render_as_string(hide_password=False)
    url = url.replace("sqlite+aiosqlite", "sqlite").replace("postgresql+asyncpg", "postgresql")
    hook = config.warnings.channels["hook"].url
    children = [await asyncio.create_subprocess_exec(
        sys.executable, str(JOBS_CHILD), url, path, hook, at.isoformat(), *jobs, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE) for _ in range(2)]
    for child in children:
        assert (await asyncio.wait_for(child.stdout.readline(), 60)).strip() == b"ready"
    for child in children:
        child.stdin.write(b"go\n")
        await child.stdin.drain()
    results = []
    for child in children:
        out, err = await asyncio.wait_for(child.communicate(), 120)
        assert child.returncode == 0 and "failed" not in err.decode(), err.decode()
        results.append(json.loads(out))
    return results


async def purposes(sessions, warning_id: int) -> dict[str, int]:
    async with sessions() as session:
        rows = await notifications(session, warning_id)
    found: dict[str, int] = {}
    for row in rows:
        found[row.purpose] = found.get(row.purpose, 0) + 1
    return found


async def test_two_processes_running_the_escalation_job_at_once_create_each_follow_up_once(engine, sessions, config,
                                                                                          clock, registry):
    result = await ingest(sessions, make_warning(), config, NOON)
    assert await deliver(sessions, config, clock) == REACHABLE
    # Past the red deadline: each unanswered recipient is reminded once, the unreachable 责任人 goes up.
    first = await in_two_processes(engine, config, NOON + timedelta(minutes=16), "escalate", "escalate")
    assert sum(sum(run) for run in first) == REACHABLE + 1
    assert await purposes(sessions, result.warning.id) == {"notice": REACHABLE + 1, "reminder": REACHABLE,
                                                           "escalation": 1}
    clock.advance(minutes=16)
    await deliver(sessions, config, clock)
    before = sum((await purposes(sessions, result.warning.id)).values())
    # The reminders unanswered too: up the chain, each source taken by one process only.
    second = await in_two_processes(engine, config, NOON + timedelta(minutes=32), "escalate", "escalate")
    created = sum(sum(run) for run in second)
    found = await purposes(sessions, result.warning.id)
    assert created > 1 and sum(found.values()) == before + created and found["escalation"] > 1
    async with sessions() as session:
        rows = await notifications(session, result.warning.id, purpose="escalation")
        escalated = (await session.execute(select(func.count()).select_from(Notification)
                                           .where(Notification.escalated_at.is_not(None)))).scalar_one()
    targets = [(row.escalation_step, row.recipient_kind, row.recipient_key, row.channel) for row in rows]
    assert len(targets) == len(set(targets))  # nobody is told twice of the same step
    assert escalated >= created and {source for row in rows for source in row.payload.get(
        "escalated_from_ids", [row.escalated_from_id])} <= await escalated_ids(sessions)


async def escalated_ids(sessions) -> set[int]:
    async with sessions() as session:
        return set((await session.execute(select(Notification.id)
                                          .where(Notification.escalated_at.is_not(None)))).scalars())


async def test_two_processes_running_the_expiry_job_at_once_close_each_warning_once(engine, sessions, config,
                                                                                   registry):
    result = await ingest(sessions, make_warning(expires=NOON + timedelta(hours=1)), config, NOON)
    runs = await in_two_processes(engine, config, NOON + timedelta(hours=1, seconds=1), "close_expired",
                                  "close_expired", "escalate")
    closed = [ids for run in runs for ids in run[:2]]
    assert [result.warning.id] in closed and all(ids in ([], [result.warning.id]) for ids in closed)
    async with sessions() as session:
        warning = await session.get(Warning, result.warning.id)
        statuses = {row.status for row in await notifications(session, result.warning.id)}
    assert warning.status == "expired" and warning.closed_at == NOON + timedelta(hours=1, seconds=1)
    # Cancelled, not sent; and an expired warning is neither reminded nor escalated by either process.
    assert statuses == {"cancelled", "failed"} and all(run[2] == 0 for run in runs)
    assert await purposes(sessions, result.warning.id) == {"notice": REACHABLE + 1}
