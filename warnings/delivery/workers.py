"""Dispatchers alive: each running dispatcher beats in `dispatch_workers`; the rows of one whose heartbeat
stopped (killed, frozen, cut off from the database) are given back by whichever dispatcher notices first.

Heartbeats are stamped and judged by the database's clock, so hosts whose clocks disagree still agree on
who is alive.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fangxun.core.db_clock import database_seconds
from fangxun.warnings.delivery.outbox import release, settle_begun
from fangxun.warnings.tables import DispatchWorker, Notification

log = logging.getLogger(__name__)

W = DispatchWorker.__table__
N = Notification.__table__
# A worker beats this often; one silent for STALE_SECONDS is taken for dead (a few missed beats: a busy
# event loop or a slow commit is not a death).
HEARTBEAT_SECONDS = 1.0
STALE_SECONDS = 8.0


async def register(session: AsyncSession, worker: str, now: datetime) -> int:
    """Enter `worker` as alive; rows an earlier process of the same name left behind are given back (their
    number)."""
    earlier = (await session.execute(delete(W).where(W.c.id == worker))).rowcount
    released = await release(session, worker, now) if earlier else 0
    await session.execute(insert(W).values(id=worker, host=socket.gethostname()[:255], pid=os.getpid(),
                                           started_at=now, beat_at=database_seconds()))
    return released


async def beat(session: AsyncSession, worker: str) -> bool:
    """Renew `worker`'s heartbeat; False when its entry is gone (another worker took it for dead)."""
    result = await session.execute(update(W).where(W.c.id == worker).values(beat_at=database_seconds()))
    return bool(result.rowcount)


async def forget(session: AsyncSession, worker: str) -> None:
    """Take `worker` off the list (it stops; its rows are given back in the same transaction)."""
    await session.execute(delete(W).where(W.c.id == worker))


def _silent(stale_seconds: float):
    return W.c.beat_at < database_seconds() - stale_seconds


def _abandoned(now: datetime, stale_seconds: float):
    """SQL: rows under a lapsed lease whose holder is not alive."""
    return and_(N.c.lease_until < now, N.c.claimed_by.not_in(select(W.c.id).where(~_silent(stale_seconds))))


async def anything_to_take_over(session: AsyncSession, worker: str, now: datetime,
                                stale_seconds: float = STALE_SECONDS) -> bool:
    """Whether another worker is silent, or a send begun under a lapsed lease was abandoned (reads only)."""
    silent = select(W.c.id).where(_silent(stale_seconds), W.c.id != worker).limit(1)
    abandoned = select(N.c.id).where(_abandoned(now, stale_seconds), N.c.status == "sending",
                                     N.c.attempt_started_at.is_not(None)).limit(1)
    return (await session.execute(silent)).first() is not None or \
        (await session.execute(abandoned)).first() is not None


async def take_over(session: AsyncSession, worker: str, now: datetime, stale_seconds: float = STALE_SECONDS
                    ) -> dict[str, int]:
    """Give back the rows of every other worker silent for `stale_seconds`, and settle sends begun under a
    lapsed lease whose holder is not alive; {dead worker: rows given back}.

    Deleting a dead worker's entry comes first: of two workers noticing the same death, one takes over."""
    silent = _silent(stale_seconds)
    dead = list((await session.execute(select(W.c.id).where(silent, W.c.id != worker))).scalars())
    taken = {}
    for name in dead:
        if (await session.execute(delete(W).where(W.c.id == name, silent))).rowcount:
            taken[name] = await release(session, name, now)
    await settle_begun(session, _abandoned(now, stale_seconds), now)
    return taken


class Heartbeat:
    """Keeps one worker entered and beating, and takes over the dead, until cancelled."""

    def __init__(self, sessions: async_sessionmaker, worker: str, now: Callable[[], datetime], *,
                 every: float = HEARTBEAT_SECONDS, stale: float = STALE_SECONDS,
                 taken_over: Callable[[], None] = lambda: None):
        self.sessions = sessions
        self.worker = worker
        self.now = now
        self.every = every
        self.stale = stale
        self.taken_over = taken_over  # told when rows of a dead worker were given back

    async def enter(self) -> None:
        """Register the worker (a failure is logged: the beats that follow try again)."""
        try:
            async with self.sessions() as session, session.begin():
                released = await register(session, self.worker, self.now())
        except Exception:
            log.exception("registering dispatcher %s failed", self.worker)
            return
        if released:
            log.warning("dispatcher %s: %d rows left by an earlier process of that name given back", self.worker,
                        released)
            self.taken_over()

    async def run(self) -> None:
        """Beat every `every` seconds, taking over the dead; never raises but for cancellation."""
        while True:
            await asyncio.sleep(self.every)
            try:
                taken = await self._beat()
            except Exception:
                log.exception("heartbeat of dispatcher %s failed", self.worker)
                continue
            for name, rows in taken.items():
                log.warning("dispatcher %s silent for over %s s: %d of its rows given back", name, self.stale, rows)
            if any(taken.values()):
                self.taken_over()

    async def _beat(self) -> dict[str, int]:
        # A beat alone holds SQLite's write lock for one statement; looking for the dead only reads; a
        # takeover, rare, beats again first, so that it holds the lock from its first statement on.
        async with self.sessions() as session, session.begin():
            if not await beat(session, self.worker):
                log.warning("dispatcher %s was taken for dead; its rows went to others", self.worker)
                await register(session, self.worker, self.now())
        async with self.sessions() as session:
            if not await anything_to_take_over(session, self.worker, self.now(), self.stale):
                return {}
        async with self.sessions() as session, session.begin():
            await beat(session, self.worker)
            return await take_over(session, self.worker, self.now(), self.stale)
