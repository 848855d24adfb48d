"""Contacts and shelters through the API: added, edited, deleted and imported by an editor, each change in the
audit an administrator reads (GET /api/audit); sign-ins audited without the password."""

from __future__ import annotations

import io
import json
import zipfile

import shapely
from aiohttp import FormData
from sqlalchemy import func, select, update
from support.api_fixtures import CSRF, PASSWORD, bearer, sign_in
from support.warning_factories import add_registry

from fangxun.core.audit import AuditRecord
from fangxun.plans.models import AdminUnit, Contact

DISTRICT_A, EAST_VILLAGE = "410102000000", "410102002001"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _registry(sessions) -> None:
    async with sessions() as session, session.begin():
        await add_registry(session)
        await session.execute(update(AdminUnit).where(AdminUnit.code == EAST_VILLAGE).values(
            geometry=shapely.to_wkb(shapely.box(113.60, 34.70, 113.62, 34.72)), geometry_synthetic=False))


async def _audit(client, tokens, **query) -> list[dict]:
    response = await client.get("/api/audit", params=query, headers=bearer(tokens["admin"]))
    assert response.status == 200, await response.text()
    return (await response.json())["items"]


async def _contact_count(sessions) -> int:
    async with sessions() as session:
        return (await session.execute(select(func.count()).select_from(Contact))).scalar_one()


async def test_a_contact_added_edited_and_deleted_leaves_its_history_in_the_audit(client, sessions, tokens, user):
    await _registry(sessions)
    editor = bearer(tokens["editor"])
    response = await client.post("/api/contacts", headers=editor, json={
        "unit_code": DISTRICT_A, "role": "副责任人", "name": "张三", "position": "副区长", "phone": "139-0000-7777"})
    assert response.status == 201, await response.text()
    created = await response.json()
    assert (created["role"], created["phone"], created["plan_id"]) == ("deputy", "13900007777", None)
    contact_id = created["id"]

    response = await client.patch(f"/api/contacts/{contact_id}", headers=editor,
                                  json={"phone": "13900008888", "channels": {"landline": "0371-6000 0001"}})
    assert response.status == 200 and (await response.json())["channels"] == {"landline": "037160000001"}
    listed = await client.get(f"/api/units/{DISTRICT_A}/contacts", headers=bearer(tokens["viewer"]))
    assert "张三" in {item["name"] for item in (await listed.json())["items"]}
    await sign_in(client, user, PASSWORD)
    sheet = await (await client.get(f"/units/{DISTRICT_A}")).text()
    assert '固话 <a href="tel:037160000001">037160000001</a>' in sheet
    response = await client.delete(f"/api/contacts/{contact_id}", headers=editor)
    assert response.status == 200 and (await response.json())["before"]["phone"] == "13900008888"
    assert (await client.get(f"/api/contacts/{contact_id}", headers=editor)).status == 404

    history = await _audit(client, tokens, target_type="contact", target_id=str(contact_id))
    assert [item["action"] for item in history] == ["contact.delete", "contact.update", "contact.create"]
    assert {item["actor"] for item in history} == {"token:2:editor-token"}
    change = history[1]
    assert (change["before"]["phone"], change["after"]["phone"]) == ("13900007777", "13900008888")
    assert (change["before"]["channels"], change["after"]["channels"]) == ({}, {"landline": "037160000001"})
    assert history[0]["after"] is None and history[0]["before"]["name"] == "张三"


async def test_bad_contact_writes_are_refused_and_roles_are_checked(client, sessions, tokens):
    await _registry(sessions)
    response = await client.post("/api/contacts", headers=bearer(tokens["viewer"]),
                                 json={"unit_code": DISTRICT_A, "name": "张三"})
    assert response.status == 403
    response = await client.post("/api/contacts", headers=bearer(tokens["editor"]),
                                 json={"unit_code": "410199000000", "name": "张三"})
    assert response.status == 400 and (await response.json())["field"] == "unit_code"
    response = await client.patch("/api/contacts/1", headers=bearer(tokens["editor"]), json={"unit_code": DISTRICT_A})
    assert response.status == 400 and (await response.json())["field"] == "unit_code"
    response = await client.patch("/api/contacts/1", headers=bearer(tokens["editor"]), json={"phone": "12"})
    assert response.status == 400 and (await response.json())["field"] == "phone"
    response = await client.patch("/api/contacts/1", headers=bearer(tokens["editor"]),
                                  json={"channels": {"landline": "12"}})
    assert response.status == 400 and "landline" in (await response.json())["detail"]
    assert (await client.get("/api/audit", headers=bearer(tokens["editor"]))).status == 403
    assert [item["action"] for item in await _audit(client, tokens, target_type="contact")] == []


async def test_an_uploaded_list_is_refused_whole_or_applied(client, sessions, tokens):
    await _registry(sessions)
    editor = bearer(tokens["editor"])
    bad = "区划代码,姓名,角色,手机\n410102000000,甲区区长,责任人,13900001111\n410102000000,李四,责任人,123\n"
    count = await _contact_count(sessions)
    response = await client.post("/api/contacts/import", headers=editor,
                                 data=_form(bad, "名单.csv"))
    body = await response.json()
    assert response.status == 400 and body["error"] == "import_rejected"
    assert body["problems"] == [{"row": 3, "column": "手机", "reason": "手机号码无效：“123”（应为 11 位手机号）"}]
    assert await _contact_count(sessions) == count
    response = await client.post("/api/contacts/import", headers=editor,
                                 data=_form("区划代码,姓名,角色,手机\n410102000000,张\x00三,责任人,13900001111\n", "a.csv"))
    assert response.status == 400 and (await response.json())["problems"] == [
        {"row": 2, "column": "姓名", "reason": "含有不允许的空字符（NUL）"}]

    good = "区划代码,姓名,角色,手机\n410102000000,甲区区长,责任人,13900001111\n"
    response = await client.post("/api/contacts/import?dry_run=1", headers={**editor, "Content-Type": "text/csv"},
                                  data=good.encode())
    preview = await response.json()
    assert response.status == 200 and preview["dry_run"] and (preview["updated"], preview["deleted"]) == (1, 1)
    assert await _contact_count(sessions) == count
    response = await client.post("/api/contacts/import", headers=editor, data=_form(good, "名单.csv"))
    assert response.status == 200 and not (await response.json())["dry_run"]
    assert await _contact_count(sessions) == count - 1
    summary = await _audit(client, tokens, target_type="contact", actor="token:2:editor-token")
    assert summary[0]["action"] == "contacts.import" and summary[0]["after"]["file"] == "名单.csv"
    response = await client.post("/api/contacts/import", headers={**editor, "Content-Type": "application/json"},
                                 data=b"{}")
    assert response.status == 415


def _form(text: str, name: str) -> FormData:
    form = FormData()
    form.add_field("file", text.encode(), filename=name, content_type="text/csv")
    return form


async def test_shelters_are_checked_against_their_unit_and_shown_on_the_map(client, sessions, tokens, user):
    await _registry(sessions)
    editor = bearer(tokens["editor"])
    far = {"unit_code": EAST_VILLAGE, "name": "东村小学", "capacity": 300, "lon": 113.70, "lat": 34.71}
    response = await client.post("/api/shelters", headers=editor, json=far)
    assert response.status == 400 and (await response.json())["field"] == "lon"
    response = await client.post("/api/shelters", headers=editor, json={**far, "lon": 113.61})
    assert response.status == 201
    shelter = await response.json()
    response = await client.patch(f"/api/shelters/{shelter['id']}", headers=editor, json={"capacity": -1})
    assert response.status == 400 and (await response.json())["field"] == "capacity"
    response = await client.patch(f"/api/shelters/{shelter['id']}", headers=editor, json={"capacity": 320})
    assert response.status == 200 and (await response.json())["capacity"] == 320

    await sign_in(client, user, PASSWORD)
    page = await (await client.get("/map")).text()
    assert "东村小学" in page or json.dumps("东村小学") in page
    listed = await client.get(f"/api/units/{EAST_VILLAGE}/shelters", headers=editor)
    assert [item["name"] for item in (await listed.json())["items"]] == ["东村小学"]
    assert (await client.delete(f"/api/shelters/{shelter['id']}", headers=editor)).status == 200
    history = await _audit(client, tokens, target_type="shelter", target_id=str(shelter["id"]))
    assert [(item["action"], (item["before"] or {}).get("capacity"), (item["after"] or {}).get("capacity"))
            for item in history] == [("shelter.delete", 320, None), ("shelter.update", 300, 320),
                                     ("shelter.create", None, 300)]


async def test_sign_ins_and_failures_are_audited_without_the_password(client, sessions, tokens, user):
    assert (await sign_in(client, user, "wrong-password-123")).status == 401
    assert (await sign_in(client, user, PASSWORD)).status == 303
    response = await client.post("/logout", headers=CSRF, allow_redirects=False)
    assert response.status == 303
    history = await _audit(client, tokens, target_type="user", target_id=user)
    assert [(item["action"], item["actor"]) for item in history] == [
        ("auth.sign_out", "user:duty01"), ("auth.sign_in", "user:duty01"),
        ("auth.sign_in_failed", "address:127.0.0.1")]
    async with sessions() as session:
        rows = (await session.execute(select(AuditRecord))).scalars().all()
    stored = json.dumps([[r.actor, r.action, r.target_id, r.before, r.after] for r in rows], ensure_ascii=False)
    assert PASSWORD not in stored and "wrong-password-123" not in stored


async def test_the_audit_is_paged_newest_first_and_filtered_by_time_and_actor(client, sessions, tokens):
    await _registry(sessions)
    editor = bearer(tokens["editor"])
    for name in ("甲", "乙", "丙"):
        response = await client.post("/api/contacts", headers=editor, json={"unit_code": DISTRICT_A, "name": name})
        assert response.status == 201
    second = await _audit(client, tokens, target_type="contact", page="2", per_page="1")
    assert [item["after"]["name"] for item in second] == ["乙"]
    assert await _audit(client, tokens, actor="token:2:editor-token", since="2199-01-01") == []
    assert len(await _audit(client, tokens, actor="token:2:editor-token", since="2000-01-01T08:00")) == 3
    response = await client.get("/api/audit", params={"target_id": "1"}, headers=bearer(tokens["admin"]))
    assert response.status == 400 and (await response.json())["field"] == "target_id"


async def test_a_file_that_is_no_workbook_is_refused_as_unreadable(client, sessions, tokens):
    await _registry(sessions)
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as archive:   # a zip, but its parts are no workbook's XML
        archive.writestr("[Content_Types].xml", "<Types><broken")
        archive.writestr("xl/workbook.xml", "<<<")
    for body in (broken.getvalue(), b"not a zip"):
        response = await client.post("/api/shelters/import", data=body,
                                     headers={**bearer(tokens["editor"]), "Content-Type": XLSX})
        assert response.status == 400 and "xlsx" in (await response.json())["detail"]


async def test_a_plans_persons_replaced_through_the_api_are_audited(client, sessions, tokens):
    await _registry(sessions)
    editor = bearer(tokens["editor"])
    response = await client.post("/api/plans", headers=editor, json={
        "unit_code": EAST_VILLAGE, "kind": "other", "title": "东村巡查方案",
        "contacts": [{"name": "赵一", "phone": "13900000011"}]})
    assert response.status == 201, await response.text()
    plan = await response.json()
    [first] = plan["contacts"]
    same = {"contacts": [{"name": "赵一", "phone": "13900000011"}]}
    response = await client.patch(f"/api/plans/{plan['id']}", headers=editor, json=same)
    assert [c["id"] for c in (await response.json())["contacts"]] == [first["id"]]   # unchanged: kept as it was
    response = await client.patch(f"/api/plans/{plan['id']}", headers=editor,
                                  json={"contacts": [{"name": "赵一", "phone": "13900000022"}]})
    [second] = (await response.json())["contacts"]
    history = await _audit(client, tokens, target_type="contact")
    assert [(item["action"], item["target_id"], (item["before"] or item["after"])["phone"]) for item in history] == [
        ("contact.create", str(second["id"]), "13900000022"), ("contact.delete", str(first["id"]), "13900000011"),
        ("contact.create", str(first["id"]), "13900000011")]


async def test_a_contact_away_can_still_be_deleted_and_its_absence_goes_with_it(client, sessions, tokens):
    await _registry(sessions)
    editor = bearer(tokens["editor"])
    response = await client.post("/api/contacts", headers=editor, json={"unit_code": DISTRICT_A, "name": "孙九"})
    contact_id = (await response.json())["id"]
    response = await client.post(f"/api/contacts/{contact_id}/absences", headers=editor,
                                 json={"kind": "leave", "starts_at": "2026-06-01", "ends_at": "2026-06-03"})
    assert response.status == 201, await response.text()
    assert (await client.delete(f"/api/contacts/{contact_id}", headers=editor)).status == 200
    assert (await client.get(f"/api/contacts/{contact_id}/absences", headers=editor)).status == 404
