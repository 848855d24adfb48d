"""Plan review reminders: 30 and 7 days before the due date, weekly while overdue, once each, through the outbox."""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select
from support.warning_factories import warning_settings
from test_scheduler import deliver, in_two_processes

from fangxun.cli import cmd_plans_remind
from fangxun.plans.models import AdminUnit, Contact, Plan
from fangxun.plans.review_reminders import reminder_step
from fangxun.warnings.plan_reminders import NO_CONTACT, due_reminders
from fangxun.warnings.scheduler import WarningJobs
from fangxun.warnings.tables import Notification

DAY0 = date(2026, 6, 1)  # the clock fixture's day (Beijing time)
DISTRICT, TOWNSHIP = "410105000000", "410105001000"


@pytest.fixture
def config(settings, sink):
    return warning_settings(settings, sink.url_for("/hook"))


@pytest.fixture
async def plans(sessions) -> dict[str, int]:
    """Three plans: due in 100 days with a 责任人, due in 10 days with a 责任人 of the unit, none with nobody."""
    async with sessions() as session, session.begin():
        session.add_all([
            AdminUnit(code="410100000000", name="郑州市", level="city"),
            AdminUnit(code=DISTRICT, name="金水区", level="district", parent_code="410100000000",
                      city_code="410100000000"),
            AdminUnit(code=TOWNSHIP, name="新华路街道", level="township", parent_code=DISTRICT,
                      city_code="410100000000", district_code=DISTRICT)])
        await session.flush()
        far = Plan(unit_code=TOWNSHIP, kind="flood_plan", title="新华路街道防汛应急预案", review_cycle_months=36,
                   next_review_due=DAY0 + timedelta(days=100))
        near = Plan(unit_code=DISTRICT, kind="flood_plan", title="金水区防汛应急预案", review_cycle_months=36,
                    next_review_due=DAY0 + timedelta(days=10))
        alone = Plan(unit_code=TOWNSHIP, kind="evacuation", title="新华路街道人员转移预案", review_cycle_months=36,
                     next_review_due=DAY0 + timedelta(days=20))
        session.add_all([far, near, alone])
        await session.flush()
        session.add_all([
            Contact(unit_code=TOWNSHIP, plan_id=far.id, role="responsible", name="李华", phone="13800000001",
                    channels={"hook": "li"}),
            Contact(unit_code=DISTRICT, plan_id=None, role="responsible", name="王强", phone="13800000002",
                    channels={"hook": "wang"})])
    return {"far": far.id, "near": near.id, "alone": alone.id}


async def sent(sessions) -> list[Notification]:
    async with sessions() as session:
        return list((await session.execute(select(Notification).order_by(Notification.id))).scalars())


def test_the_step_of_a_day():
    due = date(2026, 9, 1)
    steps = [reminder_step(due, due + timedelta(days=n), (30, 7), 7) for n in (-31, -30, -8, -7, 0, 1, 7, 8, 15)]
    assert steps == [None, "d30", "d30", "d7", "d7", "o1", "o1", "o2", "o3"]


async def test_a_year_of_days_sends_each_plan_exactly_the_configured_reminders(sessions, config, clock, plans):
    jobs = WarningJobs(sessions, config, clock)
    for _ in range(365):
        await jobs.remind_plans()
        clock.advance(days=1)
    rows = await sent(sessions)
    by_plan: dict[int, list[tuple[str, date]]] = {}
    for row in rows:
        by_plan.setdefault(row.payload["plan_id"], []).append((row.payload["step"], row.created_at.date()))
    far_due, near_due = DAY0 + timedelta(days=100), DAY0 + timedelta(days=10)
    last = DAY0 + timedelta(days=364)
    weeks = lambda due: [(f"o{n}", due + timedelta(days=1 + 7 * (n - 1)))
                         for n in range(1, (last - due).days // 7 + 2) if due + timedelta(days=1 + 7 * (n - 1)) <= last]
    assert by_plan[plans["far"]] == [("d30", far_due - timedelta(days=30)), ("d7", far_due - timedelta(days=7)),
                                     *weeks(far_due)]
    # Already within 30 days on the first day: the 30-day reminder at once, then the rest.
    assert by_plan[plans["near"]] == [("d30", DAY0), ("d7", near_due - timedelta(days=7)), *weeks(near_due)]
    assert plans["alone"] not in by_plan
    far = next(row for row in rows if row.payload["plan_id"] == plans["far"])
    assert (far.recipient_name, far.channel, far.address, far.status) == ("李华", "hook", "li", "pending")
    assert "《新华路街道防汛应急预案》（金水区 · 新华路街道）" in far.payload["text"]
    assert "2026年9月9日" in far.payload["text"] and far.warning_id is None
    # A rerun on the last day sends nothing more.
    clock.advance(days=-1)
    assert await jobs.remind_plans() == 0 and len(await sent(sessions)) == len(rows)


async def test_reminders_switched_off_send_nothing(sessions, config, clock, plans):
    off = config.registry.reminders.model_copy(update={"enabled": False})
    config = config.model_copy(update={"registry": config.registry.model_copy(update={"reminders": off})})
    async with sessions() as session:
        assert await due_reminders(session, config, clock.today()) == []
    assert await WarningJobs(sessions, config, clock).remind_plans() == 0 and await sent(sessions) == []


async def test_the_dry_run_lists_what_is_then_sent_and_a_plan_without_contact(sessions, config, clock, plans):
    async with sessions() as session:
        listed = await due_reminders(session, config, clock.today())
    assert {(r.plan_id, r.step, r.problem) for r in listed} == {
        (plans["near"], "d30", None), (plans["alone"], "d30", NO_CONTACT)}
    assert await WarningJobs(sessions, config, clock).remind_plans() == 1
    assert [row.idempotency_key for row in await sent(sessions)] == [r.key for r in listed if r.problem is None]
    async with sessions() as session:
        again = await due_reminders(session, config, clock.today())
    assert [(r.plan_id, r.problem) for r in again] == [(plans["alone"], NO_CONTACT)]


async def test_two_processes_at_once_send_each_reminder_once(engine, sessions, config, clock, plans):
    at = clock.now() + timedelta(days=93)  # the far plan's 7-day step; the near plan is overdue
    runs = await in_two_processes(engine, config, at, "remind_plans", "remind_plans")
    rows = await sent(sessions)
    assert sum(sum(run) for run in runs) == len(rows) == 2
    assert sorted(row.payload["step"] for row in rows) == ["d7", "o12"]


class _Context:
    """What cmd_plans_remind reads of a CommandContext, on the test database."""

    def __init__(self, engine, sessions, settings, clock, **args):
        self.engine, self.sessions, self.settings, self.clock = engine, sessions, settings, clock
        self.args = SimpleNamespace(**args)

    @asynccontextmanager
    async def database(self):
        yield self.engine, self.sessions


async def test_the_command_lists_with_dry_run_then_sends(engine, sessions, config, clock, plans, capsys):
    await cmd_plans_remind(_Context(engine, sessions, config, clock, dry_run=True, json=True))
    listed = json.loads(capsys.readouterr().out)
    assert [(item["plan_id"], item["step"], item["contact_name"], item["problem"]) for item in listed] == [
        (plans["near"], "d30", "王强", None), (plans["alone"], "d30", "", NO_CONTACT)]
    assert listed[0]["place"] == "金水区" and listed[0]["due"] == "2026-06-11" and await sent(sessions) == []
    await cmd_plans_remind(_Context(engine, sessions, config, clock, dry_run=False, json=False))
    assert "已放入发件箱 1 条，无法发送 1 条" in capsys.readouterr().out
    assert [row.idempotency_key for row in await sent(sessions)] == [listed[0]["key"]]


async def test_the_dispatcher_sends_a_reminder_with_its_text(sessions, config, clock, plans, sink):
    assert await WarningJobs(sessions, config, clock).remind_plans() == 1
    assert await deliver(sessions, config, clock) == 1
    body = json.dumps(sink.requests[0].json, ensure_ascii=False)
    assert "【预案复核提醒】金水区防汛应急预案" in body and "王强：您负责的《金水区防汛应急预案》（金水区）" in body
    assert [row.status for row in await sent(sessions)] == ["delivered"]
