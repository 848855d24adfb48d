"""The facts /api/ready judges (warnings/readiness.py): the database, its schema, the dispatchers' heartbeats,
and the scheduler and feeds of this process when it runs them; each probe bounded in time."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from sqlalchemy import text

from fangxun.api.keys import CLOCK, ENGINE, SESSIONS, WARNING_SERVICE
from fangxun.core.migrate import schema_revisions
from fangxun.warnings.delivery.liveness import heartbeats
from fangxun.warnings.readiness import Facts

log = logging.getLogger("fangxun.api")
PROBE_TIMEOUT_SECONDS = 5


async def ready_facts(app: web.Application) -> Facts:
    """What the readiness check needs to know, found now."""
    database, schema, ages = False, None, None
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
            async with app[ENGINE].connect() as connection:
                await connection.execute(text("SELECT 1"))
            database = True
            schema = await schema_revisions(app[ENGINE])
            async with app[SESSIONS]() as session:
                ages = (await heartbeats(session)).ages
    except Exception:  # any failure means "not ready"; the log keeps the reason
        log.warning("readiness check: the database did not answer in full", exc_info=True)
    service = app.get(WARNING_SERVICE)
    hosted = service is not None
    return Facts(now=app[CLOCK].now(), database=database, schema=schema, heartbeat_ages=ages, hosted=hosted,
                 scheduler_running=hosted and service.scheduler_running(),
                 feeds=service.jobs.feed_states() if hosted and service.jobs is not None else ())
