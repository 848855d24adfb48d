"""Units, coverage and stats through the API on a hand-built registry (today 2026-06-01, 60-day window)."""

import pytest
from support.api_fixtures import bearer

CITY, JIA, YI = "410100000000", "410102000000", "410103000000"
T1, T2, T3 = "410102001000", "410102002000", "410103001000"
EAST, WEST = "410102002001", "410102002002"
PHONE = [{"name": "值班员", "phone": "13900000009"}]

# (unit, kind, approved_on, contacts) -> status with 36-month cycles
PLANS = [
    (CITY, "flood_plan", "2025-01-01", PHONE),   # current (due 2028-01-01)
    (CITY, "evacuation", "2022-01-01", []),      # overdue (due 2025-01-01), unreachable
    (JIA, "flood_plan", "2023-07-15", PHONE),    # due soon (due 2026-07-15)
    (JIA, "evacuation", "2025-03-01", PHONE),    # current
    (EAST, "flood_plan", "2024-01-01", []),      # current (due 2027-01-01), unreachable
    (WEST, "evacuation", "2025-01-01", []),      # withdrawn below: missing, not counted unreachable
]


@pytest.fixture
async def registry(client, units, tokens):
    editor = bearer(tokens["editor"])
    ids = []
    for unit, kind, approved, contacts in PLANS:
        response = await client.post("/api/plans", headers=editor, json={
            "unit_code": unit, "kind": kind, "title": f"{unit}-{kind}", "approved_on": approved, "contacts": contacts})
        assert response.status == 201
        ids.append((await response.json())["id"])
    response = await client.post(f"/api/plans/{ids[-1]}/withdraw", headers=editor,
                                 json={"withdrawn_on": "2026-05-01", "reason": "村庄撤并"})
    assert response.status == 200
    return bearer(tokens["viewer"])


async def test_unit_tree_and_detail(client, registry):
    response = await client.get("/api/units/tree", params={"depth": "2"}, headers=registry)
    tree = await response.json()
    assert tree["code"] == CITY
    assert [d["code"] for d in tree["children"]] == [JIA, YI]
    assert [t["code"] for t in tree["children"][0]["children"]] == [T1, T2]
    assert tree["children"][0]["children"][1]["children"] == []   # villages lie beyond depth 2
    tree = await (await client.get(f"/api/units/tree?root={T2}&depth=3", headers=registry)).json()
    assert [v["name"] for v in tree["children"]] == ["东村", "西村"]
    for query in ("depth=0", "depth=4", "depth=two", "root=12"):
        response = await client.get(f"/api/units/tree?{query}", headers=registry)
        assert response.status == 400, query

    unit = await (await client.get(f"/api/units/{JIA}", headers=registry)).json()
    assert unit["parent"]["code"] == CITY and [c["code"] for c in unit["children"]] == [T1, T2]
    assert [(p["kind"], p["status"]) for p in unit["plans"]] == [("evacuation", "current"), ("flood_plan", "due_soon")]
    assert {c["phone"] for c in unit["contacts"]} == {"13900000009"}
    assert (await client.get("/api/units/410102009000", headers=registry)).status == 404
    response = await client.get("/api/units/41010", headers=registry)
    assert response.status == 400 and (await response.json())["field"] == "code"


async def test_coverage_of_the_city_and_of_a_district(client, registry):
    city = await (await client.get("/api/coverage", headers=registry)).json()
    assert city["root"]["code"] == CITY and city["as_of"] == "2026-06-01"
    levels = city["levels"]
    assert {lv: (e["units"], e["complete"], e["with_gaps"]) for lv, e in levels.items()} == {
        "city": (1, 0, 0),       # evacuation overdue: not complete, but no gap
        "district": (2, 1, 1),   # 甲区 complete, 乙区 has nothing
        "township": (3, 0, 3),
        "village": (2, 0, 2),    # 东村 lacks evacuation, 西村's was withdrawn
    }
    assert levels["city"]["kinds"]["evacuation"] == {"valid": 0, "overdue": 1, "missing": 0}
    assert levels["village"]["kinds"]["evacuation"] == {"valid": 0, "overdue": 0, "missing": 2}
    assert city["gap_units"] == 6 and len(city["gaps"]) == 6
    assert city["plans"]["total"] == 6
    assert city["plans"]["by_status"] == {"current": 3, "due_soon": 1, "overdue": 1, "revising": 0, "withdrawn": 1}
    assert (city["overdue_reviews"], city["due_soon_reviews"], city["unreachable_plans"]) == (1, 1, 2)

    jia = await (await client.get(f"/api/coverage?root={JIA}", headers=registry)).json()
    assert sum(e["units"] for e in jia["levels"].values()) == 5
    assert (jia["gap_units"], jia["overdue_reviews"], jia["due_soon_reviews"], jia["unreachable_plans"]) == (4, 0, 1, 1)
    assert (await client.get("/api/coverage?root=abc", headers=registry)).status == 400
    assert (await client.get("/api/coverage?root=410199000000", headers=registry)).status == 404


async def test_stats_summarise_the_same_figures(client, registry):
    stats = await (await client.get("/api/stats", headers=registry)).json()
    assert stats["units_by_level"] == {"city": 1, "district": 2, "township": 3, "village": 2}
    assert stats["plans_total"] == 6
    assert stats["plans_by_kind"] == {"flood_plan": 3, "flood_scheme": 0, "evacuation": 3, "other": 0}
    assert stats["plans_by_status"] == {"current": 3, "due_soon": 1, "overdue": 1, "revising": 0, "withdrawn": 1}
    assert (stats["gap_units"], stats["overdue_reviews"], stats["due_soon_reviews"], stats["unreachable_plans"]) \
        == (6, 1, 1, 2)
    assert stats["complete_by_level"]["district"] == {"units": 2, "complete": 1, "with_gaps": 1}
    yi = await (await client.get(f"/api/stats?root={YI}", headers=registry)).json()
    assert yi["units_by_level"] == {"district": 1, "township": 1, "village": 0}   # the root's level down
    assert yi["gap_units"] == 2 and yi["plans_total"] == 0


async def test_stats_of_an_empty_registry_are_zero(client, tokens):
    stats = await (await client.get("/api/stats", headers=bearer(tokens["viewer"]))).json()
    assert stats["root"] is None and stats["plans_total"] == 0 and stats["gap_units"] == 0
    assert set(stats["units_by_level"].values()) == {0}
