"""The expansion record of an accepted warning (tables.WarningExpansion): starting it, leasing it, stopping it,
and what it says of the progress. The writing itself is expansion.py's."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.warnings.tables import WarningExpansion

X = WarningExpansion.__table__
# How long a writer holds an expansion without writing a chunk before another process may take it over.
EXPANSION_LEASE = timedelta(seconds=30)
EXPANDING, DONE, NONE, STOPPED = "expanding", "done", "none", "stopped"


@dataclass
class Progress:
    """How far a warning's expansion has got (what the API and the board say of it)."""

    state: str  # expanding | done | stopped | none (the warning tells nobody)
    written: int = 0
    unreachable: int = 0
    units_done: int = 0
    units_total: int = 0
    units_without_persons: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        """Plain JSON for the API."""
        return {"state": self.state, "written": self.written, "units_done": self.units_done,
                "units_total": self.units_total}


def progress_of(expansion: WarningExpansion | None) -> Progress:
    """The progress an expansion row records (none: the warning has no expansion)."""
    if expansion is None:
        return Progress(NONE)
    state = EXPANDING if expansion.finished_at is None else STOPPED if expansion.stopped else DONE
    return Progress(state, expansion.written, expansion.unreachable, expansion.units_done, expansion.units_total,
                    list(expansion.units_without_persons or []))


async def start_expansion(session: AsyncSession, warning_id: int, at: datetime, plan: dict, units_total: int,
                          holder: str, lease_until: datetime) -> None:
    """The expansion record of a warning being accepted, leased to `holder` (who writes the chunks next)."""
    session.add(WarningExpansion(warning_id=warning_id, at=at, plan=plan, written=0, chunks=0, unreachable=0,
                                 units_done=0, units_total=units_total, units_without_persons=[], last_key=None,
                                 lease_holder=holder, lease_until=lease_until))
    await session.flush()


async def stop_expansions(session: AsyncSession, warning_ids: list[int], now: datetime, reason: str) -> int:
    """Stop the unfinished expansions of `warning_ids` (superseded, cancelled, expired): no more of their rows are
    written. It waits for a chunk being written (its lock), so the caller then cancels that chunk's rows too."""
    if not warning_ids:
        return 0
    result = await session.execute(update(X).where(X.c.warning_id.in_(warning_ids), X.c.finished_at.is_(None))
                                   .values(finished_at=now, stopped=reason[:100], lease_until=None))
    return result.rowcount or 0


async def lapsed(session: AsyncSession, now: datetime) -> list[int]:
    """Warnings whose expansion is unfinished and whose writer's lease ran out (it stopped or died)."""
    rows = await session.execute(select(X.c.warning_id).where(X.c.finished_at.is_(None), X.c.lease_until < now)
                                 .order_by(X.c.warning_id))
    return list(rows.scalars())


async def take_over(session: AsyncSession, warning_id: int, holder: str, now: datetime) -> bool:
    """Lease the lapsed expansion of `warning_id` to `holder`; False when another holder has it."""
    result = await session.execute(update(X).where(X.c.warning_id == warning_id, X.c.finished_at.is_(None),
                                                   X.c.lease_until < now)
                                   .values(lease_holder=holder, lease_until=now + EXPANSION_LEASE))
    return (result.rowcount or 0) == 1


async def release_lease(session: AsyncSession, holder: str, now: datetime) -> None:
    """Let the unfinished expansions of `holder` (stopping) be taken over at once."""
    await session.execute(update(X).where(X.c.lease_holder == holder, X.c.finished_at.is_(None))
                          .values(lease_until=now))


async def unfinished(session: AsyncSession, warning_ids: list[int]) -> dict[int, dict]:
    """The progress of those of `warning_ids` whose notifications are still being written (Progress.as_json)."""
    if not warning_ids:
        return {}
    rows = await session.execute(select(X.c.warning_id, X.c.written, X.c.units_done, X.c.units_total)
                                 .where(X.c.warning_id.in_(warning_ids), X.c.finished_at.is_(None)))
    return {row.warning_id: Progress(EXPANDING, row.written, 0, row.units_done, row.units_total).as_json()
            for row in rows}
