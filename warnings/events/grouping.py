"""Which event a newly accepted warning belongs to: join the open event of its kind, or open one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.settings import Settings
from fangxun.warnings.tables import Warning


async def attach_warning(session: AsyncSession, warning: Warning, settings: Settings, now: datetime) -> int | None:
    """Link `warning` (just stored, flushed, thread_id set) to its event, opening one if the rules say so.

    Called by intake.accept inside its transaction. Returns the event id, or None.
    """
    return None
