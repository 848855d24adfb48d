"""Reading the plan status of each kind for a set of units (the input of the unit status rule)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.plans.config import RegistrySettings
from fangxun.plans.models import AdminUnit, Plan
from fangxun.plans.review_clock import plan_status


async def plan_statuses(session: AsyncSession, units: ColumnElement[bool], registry: RegistrySettings,
                        today: date) -> dict[str, dict[str, str]]:
    """unit code -> {plan kind: plan status} for the plans of the units matching `units` (a condition on AdminUnit)."""
    rows = await session.execute(
        select(Plan.unit_code, Plan.kind, Plan.lifecycle, Plan.next_review_due)
        .join(AdminUnit, AdminUnit.code == Plan.unit_code).where(units))
    days = registry.due_soon_days
    statuses: dict[str, dict[str, str]] = defaultdict(dict)
    for code, kind, lifecycle, due in rows:
        statuses[code][kind] = plan_status(lifecycle, due, today, days)
    return statuses
