"""The outbox at a glance, for /metrics: rows by status and channel, and how long the oldest row due has waited.
Each query returns a row per status and channel at most and walks an index of the outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.warnings.tables import Notification

N = Notification.__table__


async def rows_by_status(session: AsyncSession) -> dict[tuple[str, str], int]:
    """(status, channel) -> rows (ix_notifications_due starts with both)."""
    rows = await session.execute(select(N.c.status, N.c.channel, func.count()).group_by(N.c.status, N.c.channel))
    return {(status, channel): count for status, channel, count in rows}


async def oldest_due(session: AsyncSession, now: datetime) -> dict[str, datetime]:
    """channel -> since when its longest-waiting row has been due at `now`: pending rows past their time, and
    rows whose holder's lease lapsed (due again since the lease ran out)."""
    since: dict[str, datetime] = {}
    for column, status, condition in ((N.c.next_attempt_at, "pending", N.c.next_attempt_at <= now),
                                      (N.c.lease_until, "sending", N.c.lease_until < now)):
        rows = await session.execute(select(N.c.channel, func.min(column)).where(N.c.status == status, condition)
                                     .group_by(N.c.channel))
        for channel, moment in rows:
            if moment is not None and (channel not in since or moment < since[channel]):
                since[channel] = moment
    return since
