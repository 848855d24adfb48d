"""Reading plans: filtered pages, one plan with its history, one unit with its plans."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core.errors import BadInput, NotFound
from fangxun.plans.config import PLAN_KINDS, RegistrySettings
from fangxun.plans.models import AdminUnit, Contact, Plan, PlanRevision, Shelter
from fangxun.plans.review_clock import STATUSES, status_window
from fangxun.plans.unit_queries import get_unit, in_subtree, root_unit
from fangxun.plans.unit_rules import LEVELS
from fangxun.plans.views import contact_view, plan_view, revision_view, shelter_view, unit_view

MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class PlanFilter:
    """What a plan listing asks for; every field optional."""

    root: str | None = None
    kind: str | None = None
    status: str | None = None
    level: str | None = None
    due_before: date | None = None
    page: int = 1
    per_page: int = 50

    def check(self) -> None:
        """Raise BadInput naming the first field out of range."""
        if self.kind is not None and self.kind not in PLAN_KINDS:
            raise BadInput(f"kind 取值无效：{self.kind}（可选 {', '.join(PLAN_KINDS)}）", extra={"field": "kind"})
        if self.status is not None and self.status not in STATUSES:
            raise BadInput(f"status 取值无效：{self.status}（可选 {', '.join(STATUSES)}）", extra={"field": "status"})
        if self.level is not None and self.level not in LEVELS:
            raise BadInput(f"level 取值无效：{self.level}（可选 {', '.join(LEVELS)}）", extra={"field": "level"})
        if self.page < 1:
            raise BadInput("page 应不小于 1", extra={"field": "page"})
        if not 1 <= self.per_page <= MAX_PAGE_SIZE:
            raise BadInput(f"per_page 应在 1 到 {MAX_PAGE_SIZE} 之间", extra={"field": "per_page"})


def status_condition(status: str, today: date, due_soon_days: int, plan=Plan):
    """SQL condition for a derived plan status (the rule itself lives in review_clock); `plan`: Plan or an alias."""
    lifecycle, due_from, due_to = status_window(status, today, due_soon_days)
    clauses = [plan.lifecycle == lifecycle]
    if due_from is not None:
        clauses.append(plan.next_review_due >= due_from)
    if due_to is not None:
        clauses.append(plan.next_review_due <= due_to)
    condition = and_(*clauses)
    if status == "overdue":
        condition = or_(condition, and_(plan.lifecycle == "active", plan.next_review_due.is_(None)))
    return condition


def status_sql(as_of: date, due_soon_days: int, plan=Plan):
    """SQL of the plan status on `as_of`, built from the review clock's windows (status_condition)."""
    return case(*[(status_condition(status, as_of, due_soon_days, plan), status) for status in STATUSES],
                else_="overdue")


async def list_plans(session: AsyncSession, wanted: PlanFilter, registry: RegistrySettings, today: date) -> dict:
    """One page of plans matching `wanted`, with the total count."""
    wanted.check()
    conditions = []
    if wanted.root:
        conditions.append(in_subtree(await get_unit(session, wanted.root)))
    if wanted.kind:
        conditions.append(Plan.kind == wanted.kind)
    if wanted.level:
        conditions.append(AdminUnit.level == wanted.level)
    if wanted.status:
        conditions.append(status_condition(wanted.status, today, registry.due_soon_days))
    if wanted.due_before:
        conditions.append(Plan.next_review_due < wanted.due_before)
    base = select(Plan, AdminUnit.name).join(AdminUnit, AdminUnit.code == Plan.unit_code).where(*conditions)
    total = (await session.execute(select(func.count()).select_from(base.subquery()))).scalar_one()
    rows = (await session.execute(
        base.order_by(Plan.unit_code, Plan.kind).limit(wanted.per_page).offset((wanted.page - 1) * wanted.per_page)
    )).all()
    days = registry.due_soon_days
    return {"total": total, "page": wanted.page, "per_page": wanted.per_page,
            "items": [plan_view(plan, today, days, unit_name=name) for plan, name in rows]}


async def get_plan(session: AsyncSession, plan_id: int) -> Plan:
    """The plan with `plan_id`, or NotFound."""
    plan = await session.get(Plan, plan_id)
    if plan is None:
        raise NotFound(f"预案 {plan_id} 不存在")
    return plan


async def plan_detail(session: AsyncSession, plan_id: int, registry: RegistrySettings, today: date) -> dict:
    """A plan with its unit, history, responsible persons and shelters."""
    plan = await get_plan(session, plan_id)
    unit = await get_unit(session, plan.unit_code)
    revisions = (await session.execute(
        select(PlanRevision).where(PlanRevision.plan_id == plan.id).order_by(PlanRevision.id))).scalars()
    contacts = (await session.execute(
        select(Contact).where(Contact.plan_id == plan.id).order_by(Contact.id))).scalars()
    shelters = (await session.execute(
        select(Shelter).where(Shelter.plan_id == plan.id).order_by(Shelter.id))).scalars()
    return {**plan_view(plan, today, registry.due_soon_days, unit_name=unit.name),
            "unit": unit_view(unit), "revisions": [revision_view(r) for r in revisions],
            "contacts": [contact_view(c) for c in contacts], "shelters": [shelter_view(s) for s in shelters]}


async def unit_detail(session: AsyncSession, code: str | None, registry: RegistrySettings, today: date) -> dict:
    """A unit with its parent, children, plans, contacts and shelters (the contact-sheet data)."""
    unit = await root_unit(session, code)
    parent = await session.get(AdminUnit, unit.parent_code) if unit.parent_code else None
    children = (await session.execute(
        select(AdminUnit).where(AdminUnit.parent_code == unit.code).order_by(AdminUnit.code))).scalars()
    plans = (await session.execute(
        select(Plan).where(Plan.unit_code == unit.code).order_by(Plan.kind))).scalars()
    contacts = (await session.execute(
        select(Contact).where(Contact.unit_code == unit.code).order_by(Contact.plan_id, Contact.id))).scalars()
    shelters = (await session.execute(
        select(Shelter).where(Shelter.unit_code == unit.code).order_by(Shelter.id))).scalars()
    days = registry.due_soon_days
    return {**unit_view(unit), "parent": unit_view(parent) if parent else None,
            "children": [unit_view(c) for c in children],
            "plans": [plan_view(p, today, days) for p in plans],
            "contacts": [contact_view(c) for c in contacts], "shelters": [shelter_view(s) for s in shelters]}
