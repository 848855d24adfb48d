"""Which dispatchers are alive, read from their heartbeats in `dispatch_workers` (by the database's clock)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core.db_clock import database_seconds
from fangxun.warnings.tables import DispatchWorker

W = DispatchWorker.__table__


@dataclass(frozen=True)
class Heartbeats:
    """The dispatchers on the list: their ages in seconds since their last beat, freshest first."""

    ages: tuple[float, ...]

    @property
    def freshest(self) -> float | None:
        """Seconds since the last beat of any dispatcher; None when none is on the list."""
        return self.ages[0] if self.ages else None

    def fresh(self, stale_seconds: float) -> int:
        """How many beat within `stale_seconds`."""
        return sum(1 for age in self.ages if age <= stale_seconds)


async def heartbeats(session: AsyncSession) -> Heartbeats:
    """Every listed dispatcher's heartbeat age (the list is a few rows: one per running dispatcher)."""
    now = (await session.execute(select(database_seconds()))).scalar_one()
    beats = (await session.execute(select(W.c.beat_at).order_by(W.c.beat_at.desc()).limit(1000))).scalars()
    return Heartbeats(tuple(max(0.0, now - beat) for beat in beats))
