"""The duty rosters on the overview: who is on duty at each desk now, and the desks with nobody on duty soon."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.warnings.config import WarningSettings
from fangxun.warnings.duty.roster_edits import line_json
from fangxun.warnings.duty.roster_import import desk_names
from fangxun.warnings.duty.roster_queries import on_duty_now, roster_gaps

CHECK_DAYS = 7


async def duty_overview(session: AsyncSession, config: WarningSettings, now: datetime, days: int = CHECK_DAYS) -> dict:
    """{"now": each desk's line on duty (fields None: nobody), "gaps": each stretch of the next `days` days with
    nobody on duty (aware UTC start and end), "days"}."""
    names = desk_names(config.departments)
    duty = await on_duty_now(session, list(names), now, config.duty)
    found = await roster_gaps(session, list(names), now, days, config.duty)
    return {"days": days, "now": [line_json(entry, names, desk) for desk, entry in duty.items()],
            "gaps": [{"desk": gap.desk, "desk_name": names[gap.desk], "start": gap.start, "end": gap.end}
                     for gap in found]}
