"""Plan routes: create, update, review, withdraw, listing; errors name the field; every write is audited."""

import pytest
from sqlalchemy import select
from support.api_fixtures import bearer

from fangxun.core.audit import AuditRecord

CITY, JIA, YI, T2 = "410100000000", "410102000000", "410103000000", "410102002000"
EAST, WEST = "410102002001", "410102002002"
BODY = {"unit_code": EAST, "kind": "flood_plan", "title": "东村防汛应急预案", "owner_org": "东村村委会",
        "approved_on": "2024-02-29",
        "contacts": [{"role": "责任人", "name": "张三", "position": "村支书", "phone": "139-0000-0001"}]}


@pytest.fixture
def editor(tokens):
    return bearer(tokens["editor"])


async def _create(client, headers, **overrides):
    response = await client.post("/api/plans", json={**BODY, **overrides}, headers=headers)
    assert response.status == 201, await response.text()
    return await response.json()


async def _audit(sessions, action):
    async with sessions() as session:
        return (await session.execute(select(AuditRecord).where(AuditRecord.action == action)
                                      .order_by(AuditRecord.id))).scalars().all()


async def test_create_returns_the_detail_and_audits_the_token(client, sessions, units, editor):
    plan = await _create(client, editor)
    assert plan["unit_name"] == "东村" and plan["unit"]["level"] == "village"
    assert plan["review_cycle_months"] == 36 and plan["next_review_due"] == "2027-02-28"
    assert plan["status"] == "current"
    assert [(c["name"], c["phone"], c["role"]) for c in plan["contacts"]] == [("张三", "13900000001", "responsible")]
    assert [r["action"] for r in plan["revisions"]] == ["created"]
    [row] = await _audit(sessions, "plan.create")
    assert row.actor == "token:2:editor-token" and row.target_id == str(plan["id"])
    assert (await client.get(f"/api/plans/{plan['id']}", headers=editor)).status == 200


async def test_create_errors(client, units, editor):
    await _create(client, editor)
    response = await client.post("/api/plans", json=BODY, headers=editor)
    assert response.status == 409
    assert (await response.json())["error"] == "conflict"

    cases = [({"approved_on": "2024-02-30"}, "approved_on"), ({"title": ""}, "title"),
             ({"unit_code": "4101"}, "unit_code"), ({"kind": "dam_plan"}, "kind"),
             ({"review_cycle_months": 0}, "review_cycle_months"), ({"colour": "red"}, "colour"),
             ({"contacts": [{"name": "李四", "phone": "12"}]}, "contacts[0].phone")]
    for change, field in cases:
        response = await client.post("/api/plans", json={**BODY, "kind": "evacuation", **change}, headers=editor)
        body = await response.json()
        assert response.status == 400, change
        assert body["error"] == "bad_input" and body["field"] == field and body["detail"].startswith(field), body
    response = await client.post("/api/plans", json={k: v for k, v in BODY.items() if k != "title"}, headers=editor)
    assert (await response.json())["detail"] == "title：缺少必填字段"
    response = await client.post("/api/plans", json={**BODY, "unit_code": "410102009009"}, headers=editor)
    assert response.status == 400 and "不存在" in (await response.json())["detail"]
    for raw in ("{not json", "[1, 2]", ""):
        response = await client.post("/api/plans", data=raw, headers={**editor, "Content-Type": "application/json"})
        assert response.status == 400, raw
        assert (await response.json())["error"] == "bad_input"


async def test_update_changes_fields_and_contacts_and_audits_before_after(client, sessions, units, editor):
    plan = await _create(client, editor)
    response = await client.patch(f"/api/plans/{plan['id']}", headers=editor, json={
        "title": "东村防汛应急预案（2026 修订）", "review_cycle_months": 12,
        "contacts": [{"name": "王五", "phone": "13800000002"}]})
    assert response.status == 200
    updated = await response.json()
    assert updated["title"] == "东村防汛应急预案（2026 修订）"
    assert updated["next_review_due"] == "2025-02-28" and updated["status"] == "overdue"
    assert [c["name"] for c in updated["contacts"]] == ["王五"]
    [row] = await _audit(sessions, "plan.update")
    assert row.before["title"] == "东村防汛应急预案" and row.after["review_cycle_months"] == 12
    assert row.actor.startswith("token:")

    for change, status in [({"unit_code": CITY}, 400), ({}, 400), ({"approved_on": "someday"}, 400),
                           ({"lifecycle": "withdrawn"}, 400)]:
        response = await client.patch(f"/api/plans/{plan['id']}", json=change, headers=editor)
        assert response.status == status, change
    assert (await client.patch("/api/plans/999", json={"title": "x"}, headers=editor)).status == 404
    assert (await client.patch("/api/plans/abc", json={"title": "x"}, headers=editor)).status == 400


async def test_review_restarts_the_clock_and_refuses_the_future(client, sessions, units, editor):
    plan = await _create(client, editor, approved_on="2023-07-01")  # due 2026-07-01
    assert plan["status"] == "due_soon"
    url = f"/api/plans/{plan['id']}/reviews"
    response = await client.post(url, json={"reviewed_on": "2026-06-02", "summary": "评估"}, headers=editor)
    assert response.status == 400
    body = await response.json()
    assert body["detail"].startswith("reviewed_on") and "晚于今天" in body["detail"]
    response = await client.post(url, json={"reviewed_on": "2026-13-01"}, headers=editor)
    assert response.status == 400 and (await response.json())["field"] == "reviewed_on"
    response = await client.post(url, json={"reviewed_on": "2026-05-20", "summary": "汛前修订", "revised": True,
                                            "version": "2.0"}, headers=editor)
    assert response.status == 201
    reviewed = await response.json()
    assert reviewed["last_reviewed_on"] == "2026-05-20" and reviewed["next_review_due"] == "2029-05-20"
    assert reviewed["status"] == "current" and reviewed["version"] == "2.0"
    assert [r["action"] for r in reviewed["revisions"]] == ["created", "revision"]
    assert len(await _audit(sessions, "plan.revision")) == 1
    response = await client.post("/api/plans/999/reviews", json={"reviewed_on": "2026-05-20"}, headers=editor)
    assert response.status == 404


async def test_withdraw_keeps_the_plan_and_blocks_further_changes(client, sessions, units, editor):
    plan = await _create(client, editor)
    url = f"/api/plans/{plan['id']}/withdraw"
    assert (await client.post(url, json={"withdrawn_on": "2026-05-01"}, headers=editor)).status == 400
    response = await client.post(url, json={"withdrawn_on": "2026-07-01", "reason": "合并"}, headers=editor)
    assert response.status == 400 and (await response.json())["field"] == "withdrawn_on"
    response = await client.post(url, json={"withdrawn_on": "2026-05-01", "reason": "并入镇级预案"}, headers=editor)
    assert response.status == 200
    withdrawn = await response.json()
    assert withdrawn["status"] == "withdrawn" and withdrawn["revisions"][-1]["summary"] == "并入镇级预案"
    assert (await client.post(url, json={"withdrawn_on": "2026-05-01", "reason": "再次"}, headers=editor)).status == 409
    review = await client.post(f"/api/plans/{plan['id']}/reviews", json={"reviewed_on": "2026-05-20"}, headers=editor)
    assert review.status == 409
    assert (await client.patch(f"/api/plans/{plan['id']}", json={"title": "x"}, headers=editor)).status == 409
    assert len(await _audit(sessions, "plan.withdraw")) == 1


async def test_listing_filters_and_pages(client, units, editor, tokens):
    # (unit, kind, approved_on) -> status on 2026-06-01 with 36-month cycles and a 60-day window
    for unit, kind, approved in [(CITY, "flood_plan", "2025-01-01"),    # current, due 2028-01-01
                                 (CITY, "evacuation", "2020-01-01"),    # overdue, due 2023-01-01
                                 (JIA, "flood_plan", "2023-07-01"),     # due soon, due 2026-07-01
                                 (YI, "flood_plan", "2025-03-01"),      # current, due 2028-03-01
                                 (T2, "evacuation", "2024-01-01"),      # current, due 2027-01-01
                                 (EAST, "flood_plan", "2023-06-15"),    # due soon, due 2026-06-15
                                 (WEST, "flood_plan", None)]:           # never approved: overdue
        await _create(client, editor, unit_code=unit, kind=kind, approved_on=approved, contacts=[],
                      title=f"{unit}-{kind}")
    viewer = bearer(tokens["viewer"])

    async def listing(query):
        response = await client.get(f"/api/plans?{query}", headers=viewer)
        assert response.status == 200, await response.text()
        body = await response.json()
        return body["total"], [(p["unit_code"], p["kind"]) for p in body["items"]]

    assert (await listing(""))[0] == 7
    assert await listing(f"root={JIA}") == (4, [(JIA, "flood_plan"), (T2, "evacuation"), (EAST, "flood_plan"),
                                                (WEST, "flood_plan")])
    assert await listing(f"root={T2}&kind=flood_plan") == (2, [(EAST, "flood_plan"), (WEST, "flood_plan")])
    assert await listing("kind=evacuation") == (2, [(CITY, "evacuation"), (T2, "evacuation")])
    assert await listing("status=overdue") == (2, [(CITY, "evacuation"), (WEST, "flood_plan")])
    assert await listing("status=due_soon") == (2, [(JIA, "flood_plan"), (EAST, "flood_plan")])
    assert (await listing("status=current"))[0] == 3
    assert await listing("due_before=2026-07-01") == (2, [(CITY, "evacuation"), (EAST, "flood_plan")])
    assert await listing("level=district") == (2, [(JIA, "flood_plan"), (YI, "flood_plan")])
    total, page_two = await listing("per_page=3&page=2")
    assert total == 7 and page_two == [(T2, "evacuation"), (EAST, "flood_plan"), (WEST, "flood_plan")]
    assert await listing("per_page=3&page=4") == (7, [])

    for query, name in [("kind=dam", "kind"), ("status=late", "status"), ("level=region", "level"),
                        ("due_before=2026-02-30", "due_before"), ("page=0", "page"), ("per_page=501", "per_page"),
                        ("page=x", "page"), ("root=4101", "root")]:
        response = await client.get(f"/api/plans?{query}", headers=viewer)
        assert response.status == 400, query
        assert (await response.json())["detail"].startswith(name), query
    response = await client.get("/api/plans?root=410199000000", headers=viewer)
    assert response.status == 404


@pytest.mark.parametrize("query, field", [("kind=poster", "kind"), ("status=lost", "status"), ("level=galaxy", "level")])
async def test_a_bad_listing_filter_names_its_parameter(client, tokens, query, field):
    response = await client.get(f"/api/plans?{query}", headers=bearer(tokens["viewer"]))
    body = await response.json()
    assert response.status == 400 and body["field"] == field and body["error"] == "bad_input"
