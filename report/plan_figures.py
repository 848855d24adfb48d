"""The registry's figures for a year: plans by level, kind and district with their status at year end,
coverage and gaps at year end, reviews, revisions and withdrawals recorded in the year."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.plans.config import PLAN_KINDS
from fangxun.plans.coverage import coverage
from fangxun.plans.models import AdminUnit, Plan, PlanRevision
from fangxun.plans.plan_queries import status_sql
from fangxun.plans.review_clock import STATUSES
from fangxun.plans.unit_queries import top_unit
from fangxun.plans.unit_rules import levels_below
from fangxun.settings import Settings

CITY_OWN = "市本级"
# The coverage picture lists every gap: the report is the place they are all wanted.
GAP_LIMIT = 100_000


def _zero() -> dict[str, int]:
    return dict.fromkeys(STATUSES, 0)


async def plan_figures(session: AsyncSession, settings: Settings, year: int) -> dict:
    """The plan figures of `year`; statuses are those the review clock gives on 31 December."""
    as_of = date(year, 12, 31)
    top = await top_unit(session)
    by_level = {level: _zero() for level in levels_below(top.level if top else "city")}
    by_kind = {kind: _zero() for kind in PLAN_KINDS}
    districts: dict[str | None, dict] = {}
    for code, name in (await session.execute(select(AdminUnit.code, AdminUnit.name)
                                             .where(AdminUnit.level == "district").order_by(AdminUnit.code))):
        districts[code] = {"code": code, "name": name, "total": 0, "by_status": _zero()}
    # Grouped over a subquery: PostgreSQL cannot match a CASE with bound values in GROUP BY.
    rows_of = (select(AdminUnit.level, AdminUnit.district_code, Plan.kind,
                      status_sql(as_of, settings.registry.due_soon_days).label("status"))
               .join(AdminUnit, AdminUnit.code == Plan.unit_code).subquery())
    keys = (rows_of.c.level, rows_of.c.district_code, rows_of.c.kind, rows_of.c.status)
    for level, district, kind, status, count in await session.execute(select(*keys, func.count()).group_by(*keys)):
        by_level.setdefault(level, _zero())[status] += count
        by_kind.setdefault(kind, _zero())[status] += count
        if district not in districts:  # the city's own plans, or a district no longer listed
            districts[district] = {"code": district, "name": CITY_OWN if district is None else district,
                                   "total": 0, "by_status": _zero()}
        districts[district]["by_status"][status] += count
        districts[district]["total"] += count
    by_status = {status: sum(counts[status] for counts in by_level.values()) for status in STATUSES}
    total = sum(by_status.values())
    picture = await coverage(session, None, settings.registry, as_of, gap_limit=GAP_LIMIT) if top else None
    return {
        "as_of": as_of.isoformat(),
        "total": total,
        "registered": total - by_status["withdrawn"],
        "by_level": by_level,
        "by_kind": by_kind,
        "by_status": by_status,
        # the city's own plans first, then the districts in code order
        "by_district": sorted(districts.values(), key=lambda d: (d["code"] is not None, d["code"] or "")),
        "coverage": {level: {key: entry[key] for key in ("units", "complete", "with_gaps", "kinds")}
                     for level, entry in (picture["levels"] if picture else {}).items()},
        "gap_units": picture["gap_units"] if picture else 0,
        "gaps": picture["gaps"] if picture else [],
        **await _history(session, year),
    }


async def _history(session: AsyncSession, year: int) -> dict:
    """Plans reviewed (评估), revised (修订), approved and withdrawn in `year`, each plan counted once."""
    first, last = date(year, 1, 1), date(year, 12, 31)

    def revisions(*actions: str):
        return select(PlanRevision.plan_id).where(PlanRevision.action.in_(actions),
                                                  PlanRevision.revised_on.between(first, last))

    def plans_where(*conditions) -> object:
        return select(func.count()).select_from(Plan).where(*conditions).scalar_subquery()

    row = (await session.execute(select(
        plans_where(or_(Plan.last_reviewed_on.between(first, last), Plan.id.in_(revisions("review", "revision")))),
        plans_where(Plan.id.in_(revisions("revision"))),
        plans_where(Plan.approved_on.between(first, last)),
        plans_where(Plan.id.in_(revisions("withdrawal"))),
    ))).one()
    return {"reviewed_in_year": row[0], "revised_in_year": row[1], "approved_in_year": row[2],
            "withdrawn_in_year": row[3]}
