"""The running side of warnings: one HTTP client session, the channels, a dispatcher task and the scheduler."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager, nullcontext

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from fangxun.core.clock import Clock
from fangxun.core.db import create_engine, session_factory
from fangxun.core.loop_lag import watching_loop_lag
from fangxun.core.migrate import upgrade
from fangxun.core.public_base import PublicBase, public_base
from fangxun.core.runtime import tune_for_service
from fangxun.settings import Settings
from fangxun.warnings import telemetry
from fangxun.warnings.delivery.channels.factory import build_channels, new_http_session
from fangxun.warnings.delivery.dispatcher import Dispatcher
from fangxun.warnings.intake.expansion_runner import ExpansionRunner
from fangxun.warnings.intake.feeds import FeedPoller
from fangxun.warnings.scheduler import WarningJobs, build_scheduler

log = logging.getLogger(__name__)

STOP_TIMEOUT_SECONDS = 30
# How often an idle dispatcher looks for new rows: a warning accepted by the API waits at most this long.
POLL_SECONDS = 0.5


def worker_name(role: str) -> str:
    """A dispatcher id unique to this process: host, pid and role."""
    return f"{socket.gethostname()}-{os.getpid()}-{role}"


class WarningService:
    """Started and stopped with the process that hosts it (the web app, or `fangxun dispatch`)."""

    def __init__(self, sessions: async_sessionmaker, settings: Settings, clock: Clock, *,
                 worker_id: str | None = None, schedule: bool = True, ack_base_url: str | None = None,
                 environ: Mapping[str, str] | None = None, poll_seconds: float = POLL_SECONDS):
        self.sessions = sessions
        self.settings = settings
        self.clock = clock
        self.worker_id = worker_id or worker_name("dispatch")
        self.schedule = schedule
        self.ack_base_url = ack_base_url or public_base(settings.server).url
        self.environ = environ
        self.poll_seconds = poll_seconds
        self.http = None
        self.dispatcher: Dispatcher | None = None
        self.jobs: WarningJobs | None = None
        self.expansions: ExpansionRunner | None = None
        self.scheduler = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        """Open the client session, build the channels (ConfigError for a missing secret), start the work."""
        configs = self.settings.warnings.channels
        self.http = new_http_session(configs)
        try:
            channels = build_channels(configs, self.http, environ=self.environ)
        except BaseException:
            await self.http.close()
            raise
        self.dispatcher = Dispatcher(self.sessions, channels, self.settings, self.clock, self.worker_id,
                                     ack_base_url=self.ack_base_url, poll_seconds=self.poll_seconds)
        self._task = asyncio.create_task(self.dispatcher.run_forever(self._stop), name="fangxun-dispatcher")
        self._task.add_done_callback(_report_end)
        # Notifications of accepted warnings still to write: those the intake leaves, those a stopped process left.
        self.expansions = ExpansionRunner(self.sessions, self.settings, self.clock, self.worker_id,
                                          handoff=self.dispatcher)
        self.expansions.start()
        self.jobs = WarningJobs(self.sessions, self.settings, self.clock,
                                FeedPoller(self.sessions, self.settings, self.clock, self.http,
                                           handoff=self.dispatcher))
        if self.schedule:
            self.scheduler = build_scheduler(self.jobs, self.settings)
            self.scheduler.start()
            telemetry.SCHEDULER_RUNNING.set(1)
        log.info("warning service started (worker %s, %d channels, %d feeds)", self.worker_id, len(channels),
                 len(self.settings.warnings.feeds))

    async def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """Stop scheduling, let running jobs finish, stop the dispatcher (sends in flight finish within its grace,
        unsent rows go back to the outbox at once), close the client session."""
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
            telemetry.SCHEDULER_RUNNING.set(0)
        if self.jobs is not None:
            await self.jobs.drain(timeout)
        if self.expansions is not None:
            await self.expansions.stop()
        self._stop.set()
        if self._task is not None:
            done, _ = await asyncio.wait({self._task}, timeout=timeout)
            if not done:
                # Cancelled, it still gives its rows back; should that fail too, the other dispatchers take
                # them over once its heartbeat is stale.
                log.warning("dispatcher did not stop within %s s; cancelled", timeout)
                self._task.cancel()
                await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self.http is not None:
            await self.http.close()
            self.http = None

    def dispatcher_running(self) -> bool:
        """True while the dispatcher's loop runs here (False once it stopped on an error)."""
        return self._task is not None and not self._task.done()

    def scheduler_running(self) -> bool:
        """True while the scheduled jobs run here."""
        return self.scheduler is not None and self.scheduler.running

    async def __aenter__(self) -> WarningService:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


def _report_end(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("dispatcher stopped on an error", exc_info=task.exception())


async def run_dispatch(url: str, settings: Settings, clock: Clock, stop: asyncio.Event,
                       started: Callable[[PublicBase], None] | None = None,
                       beside: Callable[[AsyncEngine, WarningService], AbstractAsyncContextManager] | None = None
                       ) -> None:
    """`fangxun dispatch`: migrate, run the dispatcher and scheduler until `stop` is set, stop cleanly.
    `started` is told the base of the 叫应 links it sends (public_url, else the configured host and port);
    `beside(engine, service)` runs alongside (the status port of health, readiness and metrics)."""
    engine = create_engine(url)
    base = public_base(settings.server)
    try:
        await upgrade(engine)
        async with (WarningService(session_factory(engine), settings, clock, worker_id=worker_name("dispatch"),
                                   ack_base_url=base.url) as service,
                    watching_loop_lag(),
                    beside(engine, service) if beside is not None else nullcontext()):
            tune_for_service()
            if started is not None:
                started(base)
            await stop.wait()
    finally:
        await engine.dispose()
