"""A running dispatcher's heartbeat in `dispatch_workers` (stamped by the database's clock): entered while it runs,
renewed every few seconds, removed when it stops. The readiness check and /metrics read it (liveness.py).

Minimal on purpose: the dispatcher's takeover of a silent worker's rows (branch wt-recovery) keeps its own
heartbeat in the same table; when it lands, its `workers.Heartbeat` replaces this module."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import delete, insert, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fangxun.core.db import utcnow
from fangxun.core.db_clock import database_seconds
from fangxun.warnings.tables import DispatchWorker

log = logging.getLogger(__name__)

W = DispatchWorker.__table__
HEARTBEAT_SECONDS = 5.0


async def beat(session: AsyncSession, worker: str) -> None:
    """Renew `worker`'s heartbeat, entering it when it is not there."""
    if not (await session.execute(update(W).where(W.c.id == worker).values(beat_at=database_seconds()))).rowcount:
        await session.execute(insert(W).values(id=worker, host=socket.gethostname()[:255], pid=os.getpid(),
                                               started_at=utcnow(), beat_at=database_seconds()))


async def forget(session: AsyncSession, worker: str) -> None:
    """Take `worker` off the list (it stops)."""
    await session.execute(delete(W).where(W.c.id == worker))


async def _keep_beating(sessions: async_sessionmaker, worker: str, every: float) -> None:
    while True:
        try:
            async with sessions() as session, session.begin():
                await beat(session, worker)
        except Exception:  # the database is away: the heartbeat goes stale, which is what it should say
            log.warning("heartbeat of dispatcher %s failed", worker, exc_info=True)
        await asyncio.sleep(every)


@asynccontextmanager
async def beating(sessions: async_sessionmaker, worker: str, every: float = HEARTBEAT_SECONDS) -> AsyncIterator[None]:
    """`worker` beats while the block runs, and leaves the list at its end."""
    task = asyncio.create_task(_keep_beating(sessions, worker, every), name=f"fangxun-heartbeat-{worker}")
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        try:
            async with sessions() as session, session.begin():
                await forget(session, worker)
        except Exception:
            log.warning("could not take dispatcher %s off the list; its heartbeat goes stale", worker, exc_info=True)
