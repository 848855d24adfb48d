"""What in the registry needs the duty officer's attention: coverage gaps and overdue reviews, worst first,
a few rows at a time with the total, each unit named with its district."""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.plans.config import RegistrySettings
from fangxun.plans.models import AdminUnit, Plan
from fangxun.plans.plan_fields import KIND_LABELS
from fangxun.plans.plan_queries import status_condition
from fangxun.plans.unit_rules import LEVEL_LABELS, LEVELS
from fangxun.plans.unit_search import place_labels

# A required kind counts as missing (coverage.requirement_state) when the unit has no plan of it that is in
# force or merely overdue: none at all, or only a withdrawn one.
_HELD_LIFECYCLES = ("active", "revising")


def _lacks(kind: str):
    """SQL: the unit has no plan of `kind` that is not withdrawn."""
    return ~exists().where(Plan.unit_code == AdminUnit.code, Plan.kind == kind, Plan.lifecycle.in_(_HELD_LIFECYCLES))


def _gap_condition(registry: RegistrySettings):
    """SQL: a unit missing at least one kind its level requires (None when no level requires anything)."""
    per_level = [and_(AdminUnit.level == level, or_(*(_lacks(kind) for kind in kinds)))
                 for level in LEVELS if (kinds := registry.required_kinds_for(level))]
    return or_(*per_level) if per_level else None


async def gap_units(session: AsyncSession, registry: RegistrySettings, limit: int) -> dict:
    """Units missing a required plan, higher levels first (a district's gap before a village's): the first
    `limit` with what each lacks, and how many there are in all."""
    condition = _gap_condition(registry)
    if condition is None:
        return {"total": 0, "items": []}
    total = (await session.execute(select(func.count()).select_from(AdminUnit).where(condition))).scalar_one()
    depth = case(*((AdminUnit.level == level, rank) for rank, level in enumerate(LEVELS)), else_=len(LEVELS))
    units = (await session.execute(select(AdminUnit.code, AdminUnit.name, AdminUnit.level).where(condition)
                                   .order_by(depth, AdminUnit.code).limit(limit))).all()
    codes = [unit.code for unit in units]
    held = set((await session.execute(select(Plan.unit_code, Plan.kind).where(
        Plan.unit_code.in_(codes), Plan.lifecycle.in_(_HELD_LIFECYCLES)))).all()) if codes else set()
    places = await place_labels(session, codes)
    items = []
    for code, name, level in units:
        missing = [kind for kind in registry.required_kinds_for(level) if (code, kind) not in held]
        items.append({"code": code, "name": name, "level": level, "level_label": LEVEL_LABELS.get(level, level),
                      "place": places.get(code, name), "missing_kinds": missing,
                      "missing_labels": [KIND_LABELS.get(kind, kind) for kind in missing]})
    return {"total": total, "items": items}


async def overdue_plans(session: AsyncSession, registry: RegistrySettings, today: date, limit: int) -> dict:
    """Plans overdue for review, the longest overdue first (plans never approved, with no due date, after them):
    the first `limit` with their unit and days overdue, and how many there are in all."""
    condition = status_condition("overdue", today, registry.due_soon_days)
    total = (await session.execute(select(func.count()).select_from(Plan).where(condition))).scalar_one()
    rows = (await session.execute(
        select(Plan.id, Plan.unit_code, Plan.kind, Plan.title, Plan.next_review_due, AdminUnit.name)
        .join(AdminUnit, AdminUnit.code == Plan.unit_code).where(condition)
        .order_by(Plan.next_review_due.is_(None), Plan.next_review_due, Plan.unit_code, Plan.kind)
        .limit(limit))).all()
    places = await place_labels(session, [row.unit_code for row in rows])
    items = [{"id": row.id, "unit_code": row.unit_code, "unit_name": row.name,
              "place": places.get(row.unit_code, row.name), "title": row.title, "kind": row.kind,
              "kind_label": KIND_LABELS.get(row.kind, row.kind),
              "next_review_due": row.next_review_due.isoformat() if row.next_review_due else None,
              "days_overdue": (today - row.next_review_due).days if row.next_review_due else None}
             for row in rows]
    return {"total": total, "items": items}
