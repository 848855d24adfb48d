"""Changing plans: create, update, record a review or revision, withdraw; each one audited."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core.audit import audit_row, record, record_many
from fangxun.core.errors import BadInput, Conflict
from fangxun.plans.config import RegistrySettings
from fangxun.plans.contact_writes import contact_snapshot
from fangxun.plans.models import AdminUnit, Contact, Plan, PlanRevision
from fangxun.plans.plan_fields import UPDATABLE, ContactFields, PlanFields, plan_values
from fangxun.plans.plan_queries import get_plan
from fangxun.plans.review_clock import next_review_due


def snapshot(plan: Plan) -> dict:
    """The audited fields of a plan as JSON-ready values."""
    return plan_values(plan)


def _refresh_due(plan: Plan) -> None:
    plan.next_review_due = next_review_due(plan.approved_on, plan.last_reviewed_on, plan.review_cycle_months)


async def _replace_contacts(session: AsyncSession, plan: Plan, contacts: list[ContactFields], actor: str) -> None:
    """Make `contacts` the plan's persons; nothing changes when they already are, else each contact removed or added
    is audited (contact.delete, contact.create)."""
    old = (await session.execute(
        select(Contact).where(Contact.plan_id == plan.id).order_by(Contact.id))).scalars().all()
    before = [contact_snapshot(c) for c in old]
    wanted = [{"unit_code": plan.unit_code, "plan_id": plan.id, **c.model_dump()} for c in contacts]
    if before == [contact_snapshot(SimpleNamespace(**values)) for values in wanted]:
        return
    await session.execute(delete(Contact).where(Contact.plan_id == plan.id))
    added = [Contact(**values) for values in wanted]
    session.add_all(added)
    await session.flush()
    await record_many(session, [audit_row(actor, "contact.delete", "contact", c.id, before=snapshot)
                                for c, snapshot in zip(old, before)]
                      + [audit_row(actor, "contact.create", "contact", c.id, after=contact_snapshot(c)) for c in added])


async def create_plan(session: AsyncSession, fields: PlanFields, registry: RegistrySettings, actor: str, today: date,
                      contacts: list[ContactFields] = ()) -> Plan:
    """Add a plan; its unit must exist and hold no plan of the same kind."""
    if await session.get(AdminUnit, fields.unit_code) is None:
        raise BadInput(f"unit_code：区划代码 {fields.unit_code} 不存在")
    if fields.lifecycle == "withdrawn":
        raise BadInput("lifecycle：新建预案不能是已废止状态")
    taken = (await session.execute(select(Plan.id).where(
        Plan.unit_code == fields.unit_code, Plan.kind == fields.kind))).scalar_one_or_none()
    if taken is not None:
        raise Conflict(f"区划 {fields.unit_code} 已有同类预案（编号 {taken}），请更新该预案")
    values = fields.model_dump()
    values["review_cycle_months"] = values["review_cycle_months"] or registry.review_cycle_months[fields.kind]
    plan = Plan(**values)
    _refresh_due(plan)
    session.add(plan)
    await session.flush()
    await _replace_contacts(session, plan, list(contacts), actor)
    session.add(PlanRevision(plan_id=plan.id, action="created", revised_on=plan.approved_on or today,
                             summary="建档", version=plan.version, entered_by=actor))
    await record(session, actor, "plan.create", "plan", plan.id, after=snapshot(plan))
    return plan


async def update_plan(session: AsyncSession, plan_id: int, changes: dict, registry: RegistrySettings, actor: str,
                      contacts: list[ContactFields] | None = None) -> Plan:
    """Change a plan's fields (not its unit or kind); the review date moves only by a review."""
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise BadInput(f"不能修改的字段：{', '.join(sorted(unknown))}（可修改：{', '.join(UPDATABLE)}）",
                       extra={"field": sorted(unknown)[0]})
    plan = await get_plan(session, plan_id)
    if plan.lifecycle == "withdrawn":
        raise Conflict(f"预案 {plan_id} 已废止，不能修改")
    if changes.get("lifecycle") == "withdrawn":
        raise BadInput("lifecycle：废止预案请使用废止操作")
    before = snapshot(plan)
    merged = PlanFields(**{**before, **changes})
    for key in changes:
        value = getattr(merged, key)
        if key == "review_cycle_months" and value is None:
            value = registry.review_cycle_months[plan.kind]
        setattr(plan, key, value)
    _refresh_due(plan)
    if contacts is not None:
        await _replace_contacts(session, plan, contacts, actor)
    await session.flush()
    await record(session, actor, "plan.update", "plan", plan.id, before=before, after=snapshot(plan))
    return plan


async def record_review(session: AsyncSession, plan_id: int, reviewed_on: date, summary: str, actor: str,
                        today: date, revised: bool = False, version: str | None = None) -> Plan:
    """Record a review (评估) or a revision (修订); the review clock restarts from `reviewed_on`."""
    plan = await get_plan(session, plan_id)
    if plan.lifecycle == "withdrawn":
        raise Conflict(f"预案 {plan_id} 已废止，不能登记评估")
    if reviewed_on > today:
        raise BadInput(f"reviewed_on：评估日期 {reviewed_on} 晚于今天")
    latest = max((d for d in (plan.approved_on, plan.last_reviewed_on) if d), default=None)
    if latest and reviewed_on < latest:
        raise BadInput(f"reviewed_on：评估日期 {reviewed_on} 早于最近一次批准或评估（{latest}）")
    if version is not None and not (1 <= len(version) <= 20):
        raise BadInput("version：版本号应为 1 到 20 个字符")
    before = snapshot(plan)
    plan.last_reviewed_on = reviewed_on
    if revised and version:
        plan.version = version
    if plan.lifecycle == "revising":
        plan.lifecycle = "active"
    _refresh_due(plan)
    session.add(PlanRevision(plan_id=plan.id, action="revision" if revised else "review", revised_on=reviewed_on,
                             summary=summary, version=plan.version, entered_by=actor))
    await session.flush()
    await record(session, actor, "plan.revision" if revised else "plan.review", "plan", plan.id,
                 before=before, after=snapshot(plan))
    return plan


async def withdraw_plan(session: AsyncSession, plan_id: int, withdrawn_on: date, reason: str, actor: str) -> Plan:
    """Withdraw (废止) a plan; it stays in the registry with its history."""
    plan = await get_plan(session, plan_id)
    if plan.lifecycle == "withdrawn":
        raise Conflict(f"预案 {plan_id} 已经废止")
    before = snapshot(plan)
    plan.lifecycle = "withdrawn"
    session.add(PlanRevision(plan_id=plan.id, action="withdrawal", revised_on=withdrawn_on, summary=reason,
                             version=plan.version, entered_by=actor))
    await session.flush()
    await record(session, actor, "plan.withdraw", "plan", plan.id, before=before, after=snapshot(plan))
    return plan
