"""The contact sheet of one unit (联系单): its plans, persons, shelters, parents and the units below it."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.plans.config import RegistrySettings
from fangxun.plans.models import AdminUnit
from fangxun.plans.plan_queries import unit_detail
from fangxun.plans.unit_queries import get_unit
from fangxun.plans.unit_rules import ANCESTOR_LEVELS
from fangxun.plans.unit_states import plan_statuses
from fangxun.plans.unit_status import missing_kinds, unit_status
from fangxun.plans.views import unit_view


async def unit_sheet(session: AsyncSession, code: str, registry: RegistrySettings, today: date) -> dict:
    """unit_detail plus the breadcrumb of parents, the unit's status and each child's status."""
    unit = await get_unit(session, code)
    detail = await unit_detail(session, code, registry, today)
    parent_codes = [code for level in ANCESTOR_LEVELS if (code := getattr(unit, f"{level}_code")) and code != unit.code]
    parents = {u.code: u for u in (await session.execute(
        select(AdminUnit).where(AdminUnit.code.in_(parent_codes)))).scalars()} if parent_codes else {}
    by_kind = {plan["kind"]: plan["status"] for plan in detail["plans"]}
    required = registry.required_kinds_for(unit.level)
    child_statuses = await plan_statuses(session, AdminUnit.parent_code == unit.code, registry, today)
    children = [{**child, "status": unit_status(registry.required_kinds_for(child["level"]),
                                                child_statuses.get(child["code"], {}))}
                for child in detail["children"]]
    return {**detail, "as_of": today.isoformat(), "synthetic": bool(unit.geometry_synthetic),
            "has_geometry": unit.geometry is not None,
            "breadcrumb": [unit_view(parents[c]) for c in parent_codes if c in parents],
            "status": unit_status(required, by_kind), "missing_kinds": missing_kinds(required, by_kind),
            "children": children}
