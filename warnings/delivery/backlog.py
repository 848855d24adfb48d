"""The outbox's backlog per channel: rows due and not yet sent (waiting, or claimed and queued at a gate), true
whichever process holds them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.warnings.delivery.limits import BLOCKED_MARK, blocked, held_back
from fangxun.warnings.tables import Notification

N = Notification.__table__


async def backlog(session: AsyncSession, now: datetime) -> dict[str, tuple[int, datetime | None]]:
    """Channel -> (rows due and unsent, the oldest due time)."""
    due = or_(N.c.status == "sending", and_(N.c.status == "pending", N.c.next_attempt_at <= now))
    rows = await session.execute(select(N.c.channel, func.count(), func.min(N.c.next_attempt_at)).where(due)
                                 .group_by(N.c.channel))
    return {channel: (count, oldest) for channel, count, oldest in rows}


async def blocked_rows(session: AsyncSession, now: datetime) -> dict[str, tuple[int, datetime | None]]:
    """Channel -> (rows waiting out a provider's block, when the last of them is tried again)."""
    rows = await session.execute(
        select(N.c.channel, func.count(), func.max(N.c.next_attempt_at))
        .where(N.c.status == "pending", N.c.next_attempt_at > now, N.c.last_error.startswith(BLOCKED_MARK))
        .group_by(N.c.channel))
    return {channel: (count, until) for channel, count, until in rows}


async def held_back_lines(session: AsyncSession, channels: Mapping[str, object], now: datetime) -> list[dict]:
    """For each configured channel the provider blocked, or whose rate holds messages back: how many wait and
    until when."""
    lines = []
    for name, (count, until) in sorted((await blocked_rows(session, now)).items()):
        config = channels.get(name)
        line = blocked(name, config.kind, count, until) if config is not None else None
        if line is not None:
            lines.append(line)
    waiting = await backlog(session, now)
    for name in sorted(waiting):
        config = channels.get(name)
        if config is None:
            continue
        line = held_back(name, config.kind, config.rate_per_second, *waiting[name], now)
        if line is not None:
            lines.append(line)
    return lines
