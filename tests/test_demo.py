"""The demo registry on both databases: counts, plausibility, determinism, refusal of a non-empty database."""

import re
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select
from support.registry_factories import fresh_database

from fangxun.core.audit import AuditRecord
from fangxun.core.errors import Conflict
from fangxun.demo.names import owner_org, short_name
from fangxun.demo.places import BBOX
from fangxun.demo.plan_set import build_plans
from fangxun.demo.registry import load_demo, read_units
from fangxun.plans.coverage import coverage
from fangxun.plans.coverage_figures import coverage_figures
from fangxun.plans.models import AdminUnit, Contact, Plan, Shelter
from fangxun.plans.review_clock import next_review_due, plan_status

MOBILE = re.compile(r"13[89]0000\d{4}")
DESK = re.compile(r"03716000\d{4}")
TABLES = (AdminUnit, Plan, Contact, Shelter, AuditRecord)


async def _load(sessions, settings, today):
    async with sessions() as session, session.begin():
        return await load_demo(session, settings, today)


async def _counts(sessions) -> dict:
    async with sessions() as session:
        return {t.__tablename__: (await session.execute(select(func.count()).select_from(t))).scalar_one()
                for t in TABLES}


async def _rows(sessions) -> dict:
    """Every demo row without its write timestamps, in id order."""
    async with sessions() as session:
        plans = (await session.execute(select(Plan).order_by(Plan.id))).scalars().all()
        contacts = (await session.execute(select(Contact).order_by(Contact.id))).scalars().all()
        shelters = (await session.execute(select(Shelter).order_by(Shelter.id))).scalars().all()
    skip = {"created_at", "updated_at"}
    return {name: [{k: v for k, v in vars(row).items() if not k.startswith("_") and k not in skip} for row in rows]
            for name, rows in (("plans", plans), ("contacts", contacts), ("shelters", shelters))}


@pytest.fixture
async def second_sessions(engine, tmp_path):
    """Sessions of another empty database of the same kind as `engine`."""
    async with fresh_database(engine.dialect.name, tmp_path) as sessions:
        yield sessions


async def test_demo_registry_is_complete_and_plausible(sessions, settings, today):
    summary = await _load(sessions, settings, today)

    assert summary.units_by_level == {"city": 1, "district": 15, "township": 208, "village": 3306}
    assert summary.plans == 6897
    assert summary.plans_by_kind["flood_scheme"] > 0 and summary.plans_by_kind["other"] > 0
    assert "行政区划 3530 个" in str(summary) and "预案 6897 件" in str(summary)
    async with sessions() as session:
        units = dict((await session.execute(select(AdminUnit.code, AdminUnit.level))).all())
        plans = (await session.execute(select(Plan))).scalars().all()
        contacts = (await session.execute(select(Contact))).scalars().all()
        shelters = (await session.execute(select(Shelter))).scalars().all()
        audits = (await session.execute(select(AuditRecord.action))).scalars().all()
    assert len(plans) == 6897 and summary.contacts == len(contacts) and summary.shelters == len(shelters)

    statuses = Counter(plan_status(p.lifecycle, p.next_review_due, today, settings.registry.due_soon_days)
                       for p in plans)
    assert statuses == Counter(summary.plans_by_status)
    assert 0.05 <= statuses["overdue"] / len(plans) <= 0.08
    assert 0.05 <= statuses["due_soon"] / len(plans) <= 0.10
    assert statuses["revising"] > 0 and statuses["withdrawn"] > 0
    async with sessions() as session:   # the database's sums and the unit-by-unit picture agree on the demo
        picture = await coverage(session, None, settings.registry, today, gap_limit=0)
        assert await coverage_figures(session, None, settings.registry, today) == {
            **picture, "unreachable_plan_ids": []}
    assert {p.review_cycle_months for p in plans if p.kind == "flood_plan"} == {12, 36}

    villages = {code for code, level in units.items() if level == "village"}
    in_force = {(p.unit_code, p.kind) for p in plans if p.lifecycle != "withdrawn"}
    assert sum((code, "evacuation") not in in_force for code in villages) > 100
    assert 0 < sum((code, "flood_plan") not in in_force for code in villages) < 50

    assert all(MOBILE.fullmatch(c.phone) for c in contacts if c.role != "duty_desk" and c.phone)
    desks = [c for c in contacts if c.role == "duty_desk"]
    assert len(desks) == 224 and all(DESK.fullmatch(c.phone) and c.plan_id is None for c in desks)
    reachable = {c.plan_id for c in contacts if c.plan_id and c.phone}
    unreachable = [p for p in plans if p.lifecycle != "withdrawn" and p.id not in reachable]
    assert 0 < len(unreachable) < 50

    west, south, east, north = BBOX
    assert all(west <= s.lon <= east and south <= s.lat <= north and 50 <= s.capacity <= 2000 for s in shelters)
    per_township = Counter(s.unit_code for s in shelters if units[s.unit_code] == "township")
    assert len(per_township) == 208 and set(per_township.values()) <= {1, 2, 3}
    sheltered_villages = {s.unit_code for s in shelters if units[s.unit_code] == "village"}
    assert 0.25 <= len(sheltered_villages) / len(villages) <= 0.42
    assert audits.count("demo.load") == 1

    before = await _counts(sessions)
    with pytest.raises(Conflict, match="不是空的"):
        await _load(sessions, settings, today)
    assert await _counts(sessions) == before


async def test_demo_is_deterministic(sessions, second_sessions, settings, today):
    await _load(sessions, settings, today)
    await _load(second_sessions, settings, today)
    assert await _rows(sessions) == await _rows(second_sessions)


def test_review_shares_hold_for_any_today(settings):
    units, _ = read_units()
    days = settings.registry.due_soon_days
    for today in (date(2024, 2, 29), date(2031, 11, 30)):
        statuses = Counter()
        for row in build_plans(units, settings, today).rows:
            approved = date.fromisoformat(row["approved_on"])
            reviewed = date.fromisoformat(row["last_reviewed_on"]) if row["last_reviewed_on"] else None
            assert approved <= today and (reviewed is None or approved <= reviewed <= today)
            cycle = int(row["review_cycle_months"] or settings.registry.review_cycle_months[row["kind"]])
            statuses[plan_status(row["lifecycle"], next_review_due(approved, reviewed, cycle), today, days)] += 1
        assert statuses == {"current": 5815, "due_soon": 517, "overdue": 448, "revising": 83, "withdrawn": 34}


def test_unit_names_give_place_names_and_owners():
    assert short_name("冠子岭村委会", "village") == "冠子岭村"
    assert short_name("十里铺社区居民委员会", "village") == "十里铺社区"
    assert short_name("告成居委会", "village") == "告成社区"
    assert owner_org("陈村村委会", "village", "flood_plan") == "陈村村民委员会"
    assert owner_org("十里铺社区居民委员会", "village", "evacuation") == "十里铺社区居民委员会"
    assert owner_org("林山寨街道", "township", "flood_plan") == "林山寨街道办事处"
    assert owner_org("米河镇", "township", "flood_plan") == "米河镇人民政府"
    assert owner_org("金水区", "district", "flood_plan") == "金水区人民政府"
    assert owner_org("郑州市", "city", "flood_plan") == "郑州市防汛抗旱指挥部办公室"
