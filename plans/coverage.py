"""Coverage and compliance of a subtree: plans in force per required kind, gaps, overdue, unreachable."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

from sqlalchemy import String, and_, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.plans.config import PLAN_KINDS, RegistrySettings
from fangxun.plans.contact_rules import NO_CHANNELS, PERSON_ROLES
from fangxun.plans.models import AdminUnit, Contact, Plan
from fangxun.plans.review_clock import STATUSES, plan_status
from fangxun.plans.unit_queries import in_subtree, root_unit
from fangxun.plans.unit_rules import LEVELS
from fangxun.plans.views import unit_view

IN_FORCE = ("current", "due_soon", "revising")


def requirement_state(status: str | None) -> str:
    """How a unit stands for one required kind: `valid`, `overdue` or `missing` (none, or withdrawn)."""
    if status in IN_FORCE:
        return "valid"
    if status == "overdue":
        return "overdue"
    return "missing"


def reachable_condition():
    """SQL form of contact_rules.reachable: a 责任人 who can be called or messaged (a phone, or any channel)."""
    channels = cast(Contact.channels, String)
    return and_(Contact.role.in_(PERSON_ROLES),
                or_(Contact.phone.is_not(None), and_(channels.is_not(None), channels.not_in(NO_CHANNELS))))


async def coverage(session: AsyncSession, root_code: str | None, registry: RegistrySettings, today: date,
                   gap_limit: int = 1000) -> dict:
    """The compliance picture of the subtree under `root_code` (default: the registry's top)."""
    root = await root_unit(session, root_code)
    units = (await session.execute(
        select(AdminUnit.code, AdminUnit.name, AdminUnit.level).where(in_subtree(root)).order_by(AdminUnit.code)
    )).all()
    plans = (await session.execute(
        select(Plan.id, Plan.unit_code, Plan.kind, Plan.lifecycle, Plan.next_review_due)
        .join(AdminUnit, AdminUnit.code == Plan.unit_code).where(in_subtree(root))
    )).all()
    reachable = (await session.execute(
        select(Contact.plan_id, Contact.unit_code).distinct()
        .where(Contact.unit_code.in_(select(AdminUnit.code).where(in_subtree(root))), reachable_condition())
    )).all()

    days = registry.due_soon_days
    status_of: dict[tuple[str, str], str] = {}
    withdrawn: set[int] = set()
    plan_statuses: Counter = Counter()
    by_kind: dict[str, Counter] = defaultdict(Counter)
    for plan in plans:
        status = plan_status(plan.lifecycle, plan.next_review_due, today, days)
        status_of[(plan.unit_code, plan.kind)] = status
        plan_statuses[status] += 1
        if status == "withdrawn":
            withdrawn.add(plan.id)
        by_kind[plan.kind][status] += 1

    reachable_plans = {plan_id for plan_id, _ in reachable if plan_id is not None}
    reachable_units = {unit_code for plan_id, unit_code in reachable if plan_id is None}
    unreachable = [p.id for p in plans if p.id not in withdrawn
                   and p.id not in reachable_plans and p.unit_code not in reachable_units]

    levels: dict[str, dict] = {}
    gaps: list[dict] = []
    gap_count = 0
    for level in LEVELS:
        required = registry.required_kinds_for(level)
        levels[level] = {"units": 0, "required_kinds": required, "complete": 0, "with_gaps": 0,
                         "kinds": {kind: {"valid": 0, "overdue": 0, "missing": 0} for kind in required}}
    for code, name, level in units:
        entry = levels[level]
        entry["units"] += 1
        missing = []
        all_valid = True
        for kind in entry["required_kinds"]:
            state = requirement_state(status_of.get((code, kind)))
            entry["kinds"][kind][state] += 1
            all_valid &= state == "valid"
            if state == "missing":
                missing.append(kind)
        entry["complete"] += all_valid
        if missing:
            entry["with_gaps"] += 1
            gap_count += 1
            if len(gaps) < gap_limit:
                gaps.append({"code": code, "name": name, "level": level, "missing_kinds": missing})

    return {
        "root": unit_view(root),
        "as_of": today.isoformat(),
        "levels": {level: entry for level, entry in levels.items() if entry["units"]},
        "plans": {"total": len(plans), "by_status": {s: plan_statuses.get(s, 0) for s in STATUSES},
                  "by_kind": {k: {s: by_kind[k].get(s, 0) for s in STATUSES} for k in PLAN_KINDS if by_kind[k]}},
        "overdue_reviews": plan_statuses.get("overdue", 0),
        "due_soon_reviews": plan_statuses.get("due_soon", 0),
        "unreachable_plans": len(unreachable),
        "unreachable_plan_ids": unreachable[:gap_limit],
        "gap_units": gap_count,
        "gaps": gaps,
    }
