"""The figures of coverage() computed in the database: counts only, no gap lists, so a province's 56,000 units and
110,000 plans are summed by the server instead of being read row by row (stats of a province in well under 1 s)."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import and_, case, exists, func, not_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from fangxun.plans.config import PLAN_KINDS, RegistrySettings
from fangxun.plans.coverage import reachable_condition, requirement_state
from fangxun.plans.models import AdminUnit, Contact, Plan
from fangxun.plans.plan_queries import status_condition, status_sql
from fangxun.plans.review_clock import STATUSES
from fangxun.plans.unit_queries import in_subtree, root_unit
from fangxun.plans.unit_rules import LEVELS
from fangxun.plans.views import unit_view


def standings_query(inside, today: date, due_soon_days: int):
    """SQL: units counted per level and per status of their plan of each kind (None: no plan of that kind).

    A unit has at most one plan per kind (uq_plans_unit_kind), so one outer join per kind gives each unit its row
    without grouping by unit; the plans' counts by kind and status are the same rows read per kind."""
    statuses, query = [], select(AdminUnit.level)
    for kind in PLAN_KINDS:
        plan = aliased(Plan, name=f"plan_{kind}")
        statuses.append(case((plan.id.is_(None), None), else_=status_sql(today, due_soon_days, plan)).label(kind))
        query = query.outerjoin(plan, and_(plan.unit_code == AdminUnit.code, plan.kind == kind))
    return (query.add_columns(*statuses, func.count()).where(inside)
            .group_by(AdminUnit.level, *statuses))


def unreachable_query(inside, today: date, due_soon_days: int):
    """SQL: the plans in force or overdue (not withdrawn) whose 责任人 none can reach, of the plan or of its unit."""
    reachable_plan = exists().where(Contact.plan_id == Plan.id, reachable_condition())
    reachable_unit = exists().where(Contact.plan_id.is_(None), Contact.unit_code == Plan.unit_code,
                                    reachable_condition())
    return (select(func.count()).select_from(Plan).join(AdminUnit, AdminUnit.code == Plan.unit_code)
            .where(inside, not_(status_condition("withdrawn", today, due_soon_days)),
                   not_(reachable_plan), not_(reachable_unit)))


async def coverage_figures(session: AsyncSession, root_code: str | None, registry: RegistrySettings,
                           today: date) -> dict:
    """coverage()'s picture without its lists (`gaps` empty, `unreachable_plan_ids` empty): two aggregate
    statements after the root's row."""
    root = await root_unit(session, root_code)
    inside = in_subtree(root)
    connection = await session.connection()
    rows = (await connection.execute(standings_query(inside, today, registry.due_soon_days))).all()
    unreachable = (await connection.execute(unreachable_query(inside, today, registry.due_soon_days))).scalar_one()

    plans = Counter()
    for _, *statuses, count in rows:
        for kind, status in zip(PLAN_KINDS, statuses):
            if status is not None:
                plans[(kind, status)] += count
    levels = _levels(rows, registry)
    by_status = Counter()
    for (_, plan_status), count in plans.items():
        by_status[plan_status] += count
    return {
        "root": unit_view(root),
        "as_of": today.isoformat(),
        "levels": {level: entry for level, entry in levels.items() if entry["units"]},
        "plans": {"total": sum(plans.values()), "by_status": {s: by_status.get(s, 0) for s in STATUSES},
                  "by_kind": {k: {s: plans.get((k, s), 0) for s in STATUSES} for k in PLAN_KINDS
                              if any(plans.get((k, s)) for s in STATUSES)}},
        "overdue_reviews": by_status.get("overdue", 0),
        "due_soon_reviews": by_status.get("due_soon", 0),
        "unreachable_plans": unreachable,
        "unreachable_plan_ids": [],
        "gap_units": sum(entry["with_gaps"] for entry in levels.values()),
        "gaps": [],
    }


def _levels(rows, registry: RegistrySettings) -> dict[str, dict]:
    """Per level: units, complete, with gaps and per required kind valid/overdue/missing, from the units counted per
    level and status of each kind (the same sums coverage() makes unit by unit, with its requirement_state)."""
    levels: dict[str, dict] = {}
    for level in LEVELS:
        required = registry.required_kinds_for(level)
        levels[level] = {"units": 0, "required_kinds": required, "complete": 0, "with_gaps": 0,
                         "kinds": {kind: {"valid": 0, "overdue": 0, "missing": 0} for kind in required}}
    for level, *statuses, count in rows:
        entry = levels.get(level)
        if entry is None:
            continue
        states = {kind: requirement_state(status) for kind, status in zip(PLAN_KINDS, statuses)}
        entry["units"] += count
        for kind in entry["required_kinds"]:
            entry["kinds"][kind][states[kind]] += count
        entry["complete"] += count if all(states[k] == "valid" for k in entry["required_kinds"]) else 0
        entry["with_gaps"] += count if any(states[k] == "missing" for k in entry["required_kinds"]) else 0
    return levels
