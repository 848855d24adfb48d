"""What in the registry needs the duty officer's attention: coverage gaps and overdue reviews, worst first,
a few rows at a time with the total, each unit named with its district."""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, func, select
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


def _gaps_of_level(level: str, kinds: list[str]):
    """SELECT of the codes of `level`'s units holding fewer than all of `kinds` (one plan per unit and kind)."""
    held = and_(Plan.unit_code == AdminUnit.code, Plan.kind.in_(kinds), Plan.lifecycle.in_(_HELD_LIFECYCLES))
    return (select(AdminUnit.code).outerjoin(Plan, held).where(AdminUnit.level == level)
            .group_by(AdminUnit.code).having(func.count(Plan.id) < len(kinds)))


async def gap_units(session: AsyncSession, registry: RegistrySettings, limit: int) -> dict:
    """Units missing a required plan, higher levels first (a district's gap before a village's): the first
    `limit` with what each lacks, and how many there are in all."""
    total, codes = 0, []
    for level in LEVELS:
        kinds = registry.required_kinds_for(level)
        if not kinds:
            continue
        gaps = _gaps_of_level(level, kinds)
        total += (await session.execute(select(func.count()).select_from(gaps.subquery()))).scalar_one()
        if len(codes) < limit:
            codes += (await session.execute(gaps.order_by(AdminUnit.code).limit(limit - len(codes)))).scalars().all()
    if not codes:
        return {"total": total, "items": []}
    units = {unit.code: unit for unit in (await session.execute(
        select(AdminUnit.code, AdminUnit.name, AdminUnit.level).where(AdminUnit.code.in_(codes)))).all()}
    held = set((await session.execute(select(Plan.unit_code, Plan.kind).where(
        Plan.unit_code.in_(codes), Plan.lifecycle.in_(_HELD_LIFECYCLES)))).all())
    places = await place_labels(session, codes)
    items = []
    for code in codes:
        name, level = units[code].name, units[code].level
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
