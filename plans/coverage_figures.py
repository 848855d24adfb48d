"""The figures of coverage() computed in the database: counts only, no gap lists, so a province's 56,000 units and
110,000 plans are summed by the server instead of being read row by row (stats of a province in well under 1 s)."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import and_, case, exists, func, not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.plans.config import PLAN_KINDS, RegistrySettings
from fangxun.plans.coverage import IN_FORCE, reachable_condition
from fangxun.plans.models import AdminUnit, Contact, Plan
from fangxun.plans.plan_queries import status_condition, status_sql
from fangxun.plans.review_clock import STATUSES
from fangxun.plans.unit_queries import in_subtree, root_unit
from fangxun.plans.unit_rules import LEVELS
from fangxun.plans.views import unit_view

# A unit's standing for one kind, as the SQL below encodes it (coverage.requirement_state's words).
STATES = {2: "valid", 1: "overdue", 0: "missing"}


def _kind_state(kind: str, status):
    """SQL: 2 when the unit has a plan of `kind` in force, 1 when it is overdue, else 0 (none or withdrawn)."""
    return func.max(case((and_(Plan.kind == kind, status.in_(IN_FORCE)), 2),
                         (and_(Plan.kind == kind, status == "overdue"), 1), else_=0))


async def coverage_figures(session: AsyncSession, root_code: str | None, registry: RegistrySettings,
                           today: date) -> dict:
    """coverage()'s picture without its lists (`gaps` empty, `unreachable_plan_ids` empty)."""
    root = await root_unit(session, root_code)
    inside = in_subtree(root)
    status = status_sql(today, registry.due_soon_days)
    connection = await session.connection()

    plans = Counter()
    for kind, plan_status, count in await connection.execute(
            select(Plan.kind, status, func.count()).join(AdminUnit, AdminUnit.code == Plan.unit_code)
            .where(inside).group_by(Plan.kind, status)):
        plans[(kind, plan_status)] += count

    # One row per unit with its standing for each kind, then counted per level and combination of standings.
    per_unit = (select(AdminUnit.level.label("level"),
                       *(_kind_state(kind, status).label(kind) for kind in PLAN_KINDS))
                .select_from(AdminUnit).outerjoin(Plan, Plan.unit_code == AdminUnit.code)
                .where(inside).group_by(AdminUnit.code, AdminUnit.level).subquery())
    combos = await connection.execute(
        select(per_unit.c.level, *(per_unit.c[kind] for kind in PLAN_KINDS), func.count())
        .group_by(per_unit.c.level, *(per_unit.c[kind] for kind in PLAN_KINDS)))
    levels = _levels(combos, registry)

    reachable_plan = exists().where(Contact.plan_id == Plan.id, reachable_condition())
    reachable_unit = exists().where(Contact.plan_id.is_(None), Contact.unit_code == Plan.unit_code,
                                    reachable_condition())
    unreachable = (await connection.execute(
        select(func.count()).select_from(Plan).join(AdminUnit, AdminUnit.code == Plan.unit_code)
        .where(inside, not_(status_condition("withdrawn", today, registry.due_soon_days)),
               not_(reachable_plan), not_(reachable_unit)))).scalar_one()

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


def _levels(combos, registry: RegistrySettings) -> dict[str, dict]:
    """Per level: units, complete, with gaps and per required kind valid/overdue/missing, from the counted
    combinations of standings (the same sums coverage() makes unit by unit)."""
    levels: dict[str, dict] = {}
    for level in LEVELS:
        required = registry.required_kinds_for(level)
        levels[level] = {"units": 0, "required_kinds": required, "complete": 0, "with_gaps": 0,
                         "kinds": {kind: {"valid": 0, "overdue": 0, "missing": 0} for kind in required}}
    for level, *standing, count in combos:
        entry = levels.get(level)
        if entry is None:
            continue
        states = {kind: STATES[value or 0] for kind, value in zip(PLAN_KINDS, standing)}
        entry["units"] += count
        for kind in entry["required_kinds"]:
            entry["kinds"][kind][states[kind]] += count
        entry["complete"] += count if all(states[k] == "valid" for k in entry["required_kinds"]) else 0
        entry["with_gaps"] += count if any(states[k] == "missing" for k in entry["required_kinds"]) else 0
    return levels
