"""Read the duty roster: who is on duty at each desk at a moment, and the gaps in the coming days."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.warnings.duty.roster_rules import (DutyShift, Gap, duty_date_at, gaps, on_duty,
                                                parse_shift_change)
from fangxun.warnings.duty.tables import DutyRosterEntry


async def roster_between(session: AsyncSession, desks: list[str], start: datetime, end: datetime,
                         settings) -> list[DutyShift]:
    """The roster lines of `desks` whose duty days can touch [start, end)."""
    change = parse_shift_change(settings.shift_change)
    first = duty_date_at(start, change, settings.timezone)
    last = duty_date_at(end, change, settings.timezone)
    rows = (await session.execute(select(DutyRosterEntry).where(
        DutyRosterEntry.desk.in_(desks), DutyRosterEntry.duty_date.between(first, last)))).scalars()
    return [DutyShift(desk=r.desk, duty_date=r.duty_date, shift=r.shift, officer_name=r.officer_name,
                      officer_phone=r.officer_phone, leader_name=r.leader_name, leader_phone=r.leader_phone)
            for r in rows]


async def on_duty_now(session: AsyncSession, desks: list[str], at: datetime,
                      settings) -> dict[str, DutyShift | None]:
    """Desk -> the roster line covering `at` (None: nobody on duty)."""
    change = parse_shift_change(settings.shift_change)
    shifts = await roster_between(session, desks, at, at, settings)
    return {desk: on_duty(shifts, desk, at, change, settings.timezone) for desk in desks}


async def roster_gaps(session: AsyncSession, desks: list[str], start: datetime, days: int,
                      settings) -> list[Gap]:
    """The stretches of the next `days` days when a desk has nobody on duty."""
    change = parse_shift_change(settings.shift_change)
    end = start + timedelta(days=days)
    shifts = await roster_between(session, desks, start, end, settings)
    return gaps(shifts, desks, start, end, change, settings.timezone)
