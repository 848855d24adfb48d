"""Plan writes on both databases: creation, updates, reviews, withdrawal, history and audit."""

from datetime import date

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from support.tree import add_units

from fangxun.core.audit import AuditRecord
from fangxun.core.errors import BadInput, Conflict, NotFound
from fangxun.plans.models import Contact, PlanRevision
from fangxun.plans.plan_fields import ContactFields, PlanFields
from fangxun.plans.plan_queries import plan_detail
from fangxun.plans.plan_writes import create_plan, record_review, update_plan, withdraw_plan


async def _new_plan(sessions, settings, today, **overrides):
    fields = {"unit_code": "410102002001", "kind": "flood_plan", "title": "东村防汛应急预案",
              "approved_on": "2024-02-29", **overrides}
    async with sessions() as session, session.begin():
        await add_units(session)
        plan = await create_plan(session, PlanFields(**fields), settings.registry, "tester", today,
                                 contacts=[ContactFields(name="张三", phone="139-0000-0001")])
    return plan.id


async def test_create_uses_kind_default_cycle_and_records_history(sessions, settings, today):
    plan_id = await _new_plan(sessions, settings, today)
    async with sessions() as session:
        detail = await plan_detail(session, plan_id, settings.registry, today)
        audits = (await session.execute(select(AuditRecord).order_by(AuditRecord.id))).scalars().all()
    assert detail["review_cycle_months"] == 36
    assert detail["next_review_due"] == "2027-02-28"   # leap day + 36 months
    assert detail["status"] == "current"
    assert [r["action"] for r in detail["revisions"]] == ["created"]
    assert detail["contacts"][0]["phone"] == "13900000001"
    assert [(a.actor, a.action, a.after.get("title") or a.after["name"]) for a in audits] == [
        ("tester", "contact.create", detail["contacts"][0]["name"]), ("tester", "plan.create", "东村防汛应急预案")]


async def test_duplicate_unit_and_kind_conflicts_and_unknown_unit_is_bad_input(sessions, settings, today):
    await _new_plan(sessions, settings, today)
    async with sessions() as session:
        with pytest.raises(Conflict):
            await create_plan(session, PlanFields(unit_code="410102002001", kind="防汛应急预案", title="x"),
                              settings.registry, "tester", today)
        with pytest.raises(BadInput, match="410199999999"):
            await create_plan(session, PlanFields(unit_code="410199999999", kind="flood_plan", title="x"),
                              settings.registry, "tester", today)


async def test_cycle_change_moves_due_date_and_status(sessions, settings, today):
    plan_id = await _new_plan(sessions, settings, today, approved_on="2025-06-01")
    async with sessions() as session, session.begin():
        await update_plan(session, plan_id, {"review_cycle_months": 12}, settings.registry, "tester")
    async with sessions() as session:
        detail = await plan_detail(session, plan_id, settings.registry, today)
        before, after = (await session.execute(
            select(AuditRecord.before, AuditRecord.after).where(AuditRecord.action == "plan.update"))).one()
    assert detail["next_review_due"] == "2026-06-01"
    assert detail["status"] == "due_soon"   # due today (2026-06-01) within the window
    assert (before["review_cycle_months"], after["review_cycle_months"]) == (36, 12)


async def test_update_refuses_unknown_fields_and_invalid_values(sessions, settings, today):
    plan_id = await _new_plan(sessions, settings, today)
    async with sessions() as session:
        with pytest.raises(BadInput, match="unit_code"):
            await update_plan(session, plan_id, {"unit_code": "410103000000"}, settings.registry, "tester")
        with pytest.raises(ValidationError):
            await update_plan(session, plan_id, {"review_cycle_months": 0}, settings.registry, "tester")
        with pytest.raises(NotFound):
            await update_plan(session, 999999, {"title": "x"}, settings.registry, "tester")


async def test_review_restarts_the_clock_and_rejects_impossible_dates(sessions, settings, today):
    plan_id = await _new_plan(sessions, settings, today, approved_on="2022-01-10", review_cycle_months=12)
    async with sessions() as session:
        assert (await plan_detail(session, plan_id, settings.registry, today))["status"] == "overdue"
        with pytest.raises(BadInput, match="晚于今天"):
            await record_review(session, plan_id, date(2026, 6, 2), "x", "tester", today)
        with pytest.raises(BadInput, match="早于"):
            await record_review(session, plan_id, date(2021, 12, 31), "x", "tester", today)
    async with sessions() as session, session.begin():
        await record_review(session, plan_id, date(2026, 5, 20), "汛前评估", "tester", today,
                            revised=True, version="2.0")
    async with sessions() as session:
        detail = await plan_detail(session, plan_id, settings.registry, today)
    assert (detail["last_reviewed_on"], detail["next_review_due"], detail["version"], detail["status"]) == (
        "2026-05-20", "2027-05-20", "2.0", "current")
    assert [(r["action"], r["summary"], r["entered_by"]) for r in detail["revisions"]][-1] == (
        "revision", "汛前评估", "tester")


async def test_withdrawn_plan_keeps_history_and_refuses_changes(sessions, settings, today):
    plan_id = await _new_plan(sessions, settings, today)
    async with sessions() as session, session.begin():
        await withdraw_plan(session, plan_id, today, "机构撤并", "tester")
    async with sessions() as session:
        detail = await plan_detail(session, plan_id, settings.registry, today)
        assert detail["status"] == "withdrawn"
        assert [r["action"] for r in detail["revisions"]] == ["created", "withdrawal"]
        for change in (lambda s: withdraw_plan(s, plan_id, today, "again", "tester"),
                       lambda s: update_plan(s, plan_id, {"title": "x"}, settings.registry, "tester"),
                       lambda s: record_review(s, plan_id, today, "x", "tester", today)):
            with pytest.raises(Conflict):
                await change(session)
        revisions = (await session.execute(select(func.count()).select_from(PlanRevision))).scalar_one()
        contacts = (await session.execute(select(func.count()).select_from(Contact))).scalar_one()
    assert (revisions, contacts) == (2, 1)
