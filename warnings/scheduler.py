"""The APScheduler 3 adapter: 叫应 escalation, closing expired warnings and quiet events, polling feeds.

The jobs are plain async methods of WarningJobs, so tests call them directly with their own clock;
build_scheduler only says how often each runs.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import async_sessionmaker

from fangxun.core.clock import Clock
from fangxun.settings import Settings
from fangxun.warnings import telemetry
from fangxun.warnings.acks.waves import run_pass
from fangxun.warnings.drills.follow_up import follow_up_drills
from fangxun.warnings.events.event_store import close_quiet_events
from fangxun.warnings.intake.feeds import FeedPoller, FeedReport
from fangxun.warnings.intake.lifecycle import close_expired
from fangxun.warnings.plan_reminders import send_plan_reminders
from fangxun.warnings.readiness import FeedState

log = logging.getLogger(__name__)

ESCALATE_SECONDS = 30
CLOSE_EXPIRED_SECONDS = 60
CLOSE_QUIET_EVENTS_SECONDS = 300
CLOSE_QUIET_EVENTS_JOB = "close_quiet_events"
# Reminders are once a day per plan and step; hourly runs pick a day up soon after it starts (and after a restart).
PLAN_REMINDERS_SECONDS = 3600
PLAN_REMINDERS_JOB = "plan_reminders"
ESCALATE_JOB, CLOSE_EXPIRED_JOB, FEED_JOB_PREFIX = "escalate_due", "close_expired", "feed:"
# A run that starts this late (the loop was busy, the machine slept) is still worth doing.
MISFIRE_GRACE_SECONDS = 30


class WarningJobs:
    """The scheduled work; each method is one run and logs (never raises) what went wrong."""

    def __init__(self, sessions: async_sessionmaker, settings: Settings, clock: Clock,
                 poller: FeedPoller | None = None):
        self.sessions = sessions
        self.settings = settings
        self.clock = clock
        self.poller = poller
        self._feeds = {feed.name: feed for feed in settings.warnings.feeds}
        self._running: set[asyncio.Task] = set()
        self._escalating = False  # a reminder pass is under way (a second one does nothing meanwhile)
        # For the readiness check: since when the feeds are polled here, and each one's last good read.
        self.started_at = clock.now()
        self.feed_success: dict[str, datetime] = {}

    async def escalate(self) -> int:
        """Remind and escalate unanswered notifications, a chunk per transaction; returns the notifications
        created. While a pass is under way (a wave outlasting its interval) another call does nothing: the
        pass in progress goes on and takes what is due."""
        if self._escalating:
            log.info("escalation: the previous pass is still running; this one is skipped")
            return 0
        self._escalating = True
        try:
            async with self._tracked("escalate_due"):
                created = await run_pass(self.sessions, self.clock.now(), self.settings)
                async with self.sessions() as session, session.begin():
                    created += await follow_up_drills(session, self.clock.now(), self.settings)
                if created:
                    log.info("escalation: %d reminders and escalations queued", created)
                return created
            return 0
        finally:
            self._escalating = False

    async def close_expired(self) -> list[int]:
        """Close warnings past their expiry; returns their ids."""
        async with self._tracked("close_expired"):
            async with self.sessions() as session, session.begin():
                closed = await close_expired(session, self.clock.now())
            if closed:
                log.info("closed expired warnings %s", closed)
            return closed
        return []

    async def close_quiet_events(self) -> list[int]:
        """Close events whose warnings all ended at least quiet_hours ago; returns their ids."""
        async with self._tracked("close_quiet_events"):
            async with self.sessions() as session, session.begin():
                closed = await close_quiet_events(session, self.clock.now(), self.settings)
            if closed:
                log.info("closed quiet events %s", closed)
            return closed
        return []

    async def remind_plans(self) -> int:
        """Put the plan review reminders due today in the outbox; returns how many."""
        async with self._tracked("plan_reminders"):
            reminders = await send_plan_reminders(self.sessions, self.settings, self.clock.now(), self.clock.today())
            sent = sum(1 for r in reminders if r.problem is None)
            if sent:
                log.info("plan reminders: %d queued", sent)
            return sent
        return 0

    async def poll_feed(self, name: str) -> FeedReport:
        """Poll the configured feed `name`."""
        report = FeedReport(name, failed=True)  # so it stays when the poll itself fails
        async with self._tracked(f"feed {name}"):
            if self.poller is None:
                raise RuntimeError("no feed poller")
            report = await self.poller.poll(self._feeds[name])
        at = self.clock.now()
        if not report.failed:
            self.feed_success[name] = at
        telemetry.feed_polled(name, not report.failed, at)
        return report

    def feed_states(self) -> tuple[FeedState, ...]:
        """Each configured feed as polled here (the readiness check's facts)."""
        return tuple(FeedState(feed.name, feed.interval_seconds, self.feed_success.get(feed.name), self.started_at)
                     for feed in self._feeds.values())

    @asynccontextmanager
    async def _tracked(self, what: str):
        """Track the running job; a failure becomes a log line and the scheduler keeps going."""
        task = asyncio.current_task()
        self._running.add(task)
        try:
            yield
        except Exception:
            log.exception("scheduled job %s failed", what)
        finally:
            self._running.discard(task)

    async def drain(self, timeout: float) -> None:
        """Wait for runs in progress (at shutdown), at most `timeout` seconds, then cancel them."""
        running = [task for task in self._running if not task.done()]
        if not running:
            return
        _, pending = await asyncio.wait(running, timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)


def build_scheduler(jobs: WarningJobs, settings: Settings) -> AsyncIOScheduler:
    """An (unstarted) AsyncIOScheduler with every job, none overlapping itself, missed runs coalesced.

    Each job first runs right at start, so work left over from a restart is picked up at once.
    """
    zone = ZoneInfo(settings.registry.timezone)
    scheduler = AsyncIOScheduler(timezone=zone, job_defaults={
        "max_instances": 1, "coalesce": True, "misfire_grace_time": MISFIRE_GRACE_SECONDS})
    now = datetime.now(zone)
    common = {"max_instances": 1, "coalesce": True, "next_run_time": now, "replace_existing": True}
    scheduler.add_job(jobs.escalate, IntervalTrigger(seconds=ESCALATE_SECONDS, timezone=zone), id=ESCALATE_JOB,
                      name="叫应提醒与逐级上报", **common)
    scheduler.add_job(jobs.close_expired, IntervalTrigger(seconds=CLOSE_EXPIRED_SECONDS, timezone=zone),
                      id=CLOSE_EXPIRED_JOB, name="关闭过期预警", **common)
    scheduler.add_job(jobs.close_quiet_events, IntervalTrigger(seconds=CLOSE_QUIET_EVENTS_SECONDS, timezone=zone),
                      id=CLOSE_QUIET_EVENTS_JOB, name="结束已平静的降雨过程和雨雪冰冻事件", **common)
    scheduler.add_job(jobs.remind_plans, IntervalTrigger(seconds=PLAN_REMINDERS_SECONDS, timezone=zone),
                      id=PLAN_REMINDERS_JOB, name="预案复核提醒", **common)
    for feed in settings.warnings.feeds:
        scheduler.add_job(jobs.poll_feed, IntervalTrigger(seconds=feed.interval_seconds, timezone=zone),
                          args=[feed.name], id=FEED_JOB_PREFIX + feed.name, name=f"订阅源 {feed.name}", **common)
    return scheduler
