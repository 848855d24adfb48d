"""Coverage of a hand-built tree, every figure worked out by hand (today 2026-06-01, window 60 days)."""

import pytest
from support.tree import add_plans, add_units

from fangxun.core.errors import NotFound
from fangxun.plans.coverage import coverage
from fangxun.plans.coverage_figures import coverage_figures
from fangxun.plans.models import Contact
from fangxun.plans.plan_fields import ContactFields
from fangxun.plans.plan_writes import update_plan

CITY, JIA, YI = "410100000000", "410102000000", "410103000000"
T1, T2, T3 = "410102001000", "410102002000", "410103001000"
EAST, WEST = "410102002001", "410102002002"

# (unit, kind, approved_on, then) -> status on 2026-06-01 with 36-month cycles
PLANS = [
    (CITY, "flood_plan", "2025-01-01", None),        # current
    (CITY, "evacuation", "2020-01-01", None),        # overdue
    (JIA, "flood_plan", "2023-07-01", None),         # due soon (2026-07-01)
    (JIA, "evacuation", "2025-01-01", None),         # current
    (YI, "flood_plan", "2019-01-01", "revising"),    # in force while revised
    (T2, "flood_plan", "2025-01-01", "withdrawn"),   # withdrawn = missing
    (T2, "evacuation", "2025-01-01", None),
    (T3, "flood_plan", "2025-01-01", None),
    (T3, "evacuation", "2025-01-01", None),
    (EAST, "flood_plan", "2025-01-01", None),
    (EAST, "evacuation", "2025-01-01", None),
    (WEST, "flood_plan", "2021-01-01", None),        # overdue
]


@pytest.fixture
async def registry(sessions, settings, today):
    """The small tree with the plans above and a few contacts."""
    async with sessions() as session, session.begin():
        await add_units(session)
        ids = await add_plans(session, PLANS, settings, today)
        await update_plan(session, ids[(CITY, "flood_plan")], {}, settings.registry, "t",
                          contacts=[ContactFields(name="甲", phone="13900000001")])
        await update_plan(session, ids[(EAST, "flood_plan")], {}, settings.registry, "t",
                          contacts=[ContactFields(name="无电话")])
        await update_plan(session, ids[(EAST, "evacuation")], {}, settings.registry, "t",
                          contacts=[ContactFields(role="deputy", name="乙", channels={"wecom": "yi"})])
        session.add_all([
            Contact(unit_code=JIA, role="responsible", name="区长", phone="13900000002", channels={}),
            Contact(unit_code=T3, role="duty_desk", name="值班室", phone="037160000001", channels={}),
        ])
    return ids


async def test_city_coverage_counts(registry, sessions, settings, today):
    async with sessions() as session:
        report = await coverage(session, None, settings.registry, today)
    levels = report["levels"]
    assert report["root"]["code"] == CITY
    assert {lv: e["units"] for lv, e in levels.items()} == {"city": 1, "district": 2, "township": 3, "village": 2}
    assert levels["city"]["kinds"] == {"flood_plan": {"valid": 1, "overdue": 0, "missing": 0},
                                       "evacuation": {"valid": 0, "overdue": 1, "missing": 0}}
    assert levels["district"]["kinds"] == {"flood_plan": {"valid": 2, "overdue": 0, "missing": 0},
                                           "evacuation": {"valid": 1, "overdue": 0, "missing": 1}}
    assert levels["township"]["kinds"] == {"flood_plan": {"valid": 1, "overdue": 0, "missing": 2},
                                           "evacuation": {"valid": 2, "overdue": 0, "missing": 1}}
    assert levels["village"]["kinds"] == {"flood_plan": {"valid": 1, "overdue": 1, "missing": 0},
                                          "evacuation": {"valid": 1, "overdue": 0, "missing": 1}}
    assert [(lv, levels[lv]["complete"], levels[lv]["with_gaps"]) for lv in levels] == [
        ("city", 0, 0), ("district", 1, 1), ("township", 1, 2), ("village", 1, 1)]
    assert report["plans"]["total"] == 12
    assert report["plans"]["by_status"] == {"current": 7, "due_soon": 1, "overdue": 2, "revising": 1, "withdrawn": 1}
    assert (report["overdue_reviews"], report["due_soon_reviews"]) == (2, 1)
    assert report["gap_units"] == 4
    assert {(g["code"], tuple(g["missing_kinds"])) for g in report["gaps"]} == {
        (YI, ("evacuation",)), (T1, ("flood_plan", "evacuation")), (T2, ("flood_plan",)), (WEST, ("evacuation",))}
    # reachable: city flood plan (own contact), both 甲区 plans (unit contact), 东村 evacuation (deputy by WeCom)
    assert report["unreachable_plans"] == 7
    assert registry[(EAST, "flood_plan")] in report["unreachable_plan_ids"]
    assert registry[(T3, "flood_plan")] in report["unreachable_plan_ids"]   # a duty desk is not a 责任人


async def test_district_and_village_subtrees(registry, sessions, settings, today):
    async with sessions() as session:
        district = await coverage(session, JIA, settings.registry, today)
        village = await coverage(session, WEST, settings.registry, today)
    assert sum(e["units"] for e in district["levels"].values()) == 5
    assert (district["plans"]["total"], district["gap_units"]) == (7, 3)
    assert list(village["levels"]) == ["village"]
    assert (village["plans"]["total"], village["gap_units"], village["overdue_reviews"]) == (1, 1, 1)


async def test_unknown_root_is_not_found(registry, sessions, settings, today):
    async with sessions() as session:
        with pytest.raises(NotFound):
            await coverage(session, "410199000000", settings.registry, today)


@pytest.mark.parametrize("root", [None, JIA, YI, T2, WEST])
async def test_the_database_sums_the_same_figures_as_the_unit_by_unit_picture(registry, sessions, settings, today,
                                                                               root):
    async with sessions() as session:
        picture = await coverage(session, root, settings.registry, today)
        figures = await coverage_figures(session, root, settings.registry, today)
    assert figures == {**picture, "gaps": [], "unreachable_plan_ids": []}
