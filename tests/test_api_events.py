"""The events API: a posted warning opens an event; list and detail; open, close and link by hand with roles."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from support.api_fixtures import bearer
from support.warning_api import chain, manual_form, post_cap, zz
from support.warning_factories import warning_settings

from fangxun.core.audit import AuditRecord
from fangxun.warnings.events.tables import Event, EventWarning

HOOK = "http://127.0.0.1:9/hook"


@pytest.fixture
def config(settings):
    return warning_settings(settings, HOOK)


async def count(sessions, table) -> int:
    async with sessions() as session:
        return (await session.execute(select(func.count()).select_from(table))).scalar_one()


async def open_event(client, token, **body):
    return await client.post("/api/events", json=body, headers=bearer(token))


async def test_a_posted_warning_chain_opens_one_event_shown_by_the_api(client, sessions, tokens, registry):
    ids = []
    for document in chain():   # orange Alert, red Update, Cancel of both
        body = await (await post_cap(client, document, tokens["editor"])).json()
        ids.append((body["warning_id"], body["event_id"]))
    event_id = ids[0][1]
    assert event_id is not None and {event for _, event in ids} == {event_id}

    listed = await (await client.get("/api/events?year=2026&kind=rainfall", headers=bearer(tokens["viewer"]))).json()
    assert listed["total"] == 1
    [item] = listed["items"]
    assert (item["id"], item["name"], item["status"], item["warning_count"]) == (event_id, "2026年6月1日降雨过程",
                                                                                 "open", 3)
    assert item["started_at"] == "2026-06-01T09:55:00+08:00" and item["opened_by"] == "rule:rainfall"

    response = await client.get(f"/api/events/{event_id}", headers=bearer(tokens["viewer"]))
    detail = await response.json()
    assert response.status == 200
    assert [(w["id"], w["msg_type"], w["colour"], w["status"]) for w in detail["warnings"]] == [
        (ids[0][0], "Alert", "orange", "superseded"), (ids[1][0], "Update", "red", "cancelled"),
        (ids[2][0], "Cancel", "red", "cancelled")]
    assert [d["name"] for d in detail["units"]["districts"]] == ["甲区", "乙区"]
    assert detail["notifications"]["total"] > 0 and detail["notifications"]["acknowledged"] == 0
    assert (detail["decisions"], detail["journal_entries"]) == (0, 0)
    earlier = await (await client.get("/api/events?year=2025", headers=bearer(tokens["viewer"]))).json()
    assert earlier == {"total": 0, "items": []}


async def test_an_editor_opens_and_closes_an_event_by_hand(client, sessions, tokens, clock):
    response = await open_event(client, tokens["editor"], kind="snow_ice", started_at="2026-06-01T08:00:00+08:00",
                                note="寒潮")
    body = await response.json()
    assert response.status == 201, body
    assert response.headers["Location"] == f"/api/events/{body['id']}"
    assert (body["kind"], body["kind_label"], body["name"], body["status"]) == ("snow_ice", "雨雪冰冻",
                                                                                "2026年6月1日雨雪冰冻", "open")
    assert body["started_at"] == "2026-06-01T08:00:00+08:00" and body["opened_by"].startswith("token:")
    assert body["warnings"] == [] and body["notifications"]["ack_rate"] is None

    clock.advance(hours=3)
    closed = await client.post(f"/api/events/{body['id']}/close", json={"note": "已结束"},
                               headers=bearer(tokens["admin"]))
    shown = await closed.json()
    assert closed.status == 200, shown
    assert (shown["status"], shown["ended_at"], shown["close_reason"]) == ("closed", "2026-06-01T13:00:00+08:00",
                                                                           "manual")
    again = await client.post(f"/api/events/{body['id']}/close", json={}, headers=bearer(tokens["admin"]))
    assert again.status == 409 and (await again.json())["error"] == "conflict"
    async with sessions() as session:
        actions = list((await session.execute(select(AuditRecord.action).where(AuditRecord.target_type == "event")
                                              .order_by(AuditRecord.id))).scalars())
    assert actions == ["event.open", "event.close"]


async def test_a_viewer_may_read_but_not_open_close_or_link(client, sessions, tokens):
    opened = await (await open_event(client, tokens["editor"], kind="rainfall")).json()
    for path, body in [("/api/events", {"kind": "rainfall"}), (f"/api/events/{opened['id']}/close", {}),
                       (f"/api/events/{opened['id']}/warnings", {"warning_id": 1})]:
        response = await client.post(path, json=body, headers=bearer(tokens["viewer"]))
        assert response.status == 403, path
    assert (await client.get(f"/api/events/{opened['id']}", headers=bearer(tokens["viewer"]))).status == 200
    async with sessions() as session:
        event = await session.get(Event, opened["id"])
    assert event.status == "open" and await count(sessions, Event) == 1


@pytest.mark.parametrize("body, field", [
    ({"kind": "flood"}, "kind"), ({}, "kind"), ({"kind": "rainfall", "started_at": "昨天"}, "started_at"),
    ({"kind": "rainfall", "started_at": "2026-06-02T10:00:00+08:00"}, "started_at"),   # in the future
    ({"kind": "rainfall", "name": 7}, "name"), ({"kind": "rainfall", "colour": "red"}, "colour")])
async def test_bad_input_to_open_is_refused_naming_the_field_and_changes_nothing(client, sessions, tokens, body,
                                                                                field):
    response = await open_event(client, tokens["editor"], **body)
    answer = await response.json()
    assert response.status == 400 and answer["error"] == "bad_input"
    assert answer["field"] == field and answer["detail"].startswith(f"{field}：")
    assert await count(sessions, Event) == 0
    async with sessions() as session:
        assert (await session.execute(select(func.count()).select_from(AuditRecord)
                                      .where(AuditRecord.target_type == "event"))).scalar_one() == 0


async def test_close_and_link_refuse_bad_input_and_unknown_objects(client, sessions, tokens):
    opened = await (await open_event(client, tokens["editor"], kind="rainfall",
                                     started_at="2026-06-01T09:00:00+08:00")).json()
    editor = bearer(tokens["editor"])
    second = await open_event(client, tokens["editor"], kind="rainfall")
    assert second.status == 409 and str(opened["id"]) in (await second.json())["detail"]
    early = await client.post(f"/api/events/{opened['id']}/close", json={"ended_at": "2026-06-01T08:00:00+08:00"},
                              headers=editor)
    assert early.status == 400 and (await early.json())["field"] == "ended_at"
    assert (await client.post("/api/events/999/close", json={}, headers=editor)).status == 404
    bad_id = await client.post(f"/api/events/{opened['id']}/warnings", json={"warning_id": "x"}, headers=editor)
    assert bad_id.status == 400 and (await bad_id.json())["field"] == "warning_id"
    missing = await client.post(f"/api/events/{opened['id']}/warnings", json={"warning_id": 999}, headers=editor)
    assert missing.status == 404
    async with sessions() as session:
        assert (await session.get(Event, opened["id"])).status == "open"


async def test_a_warning_is_linked_by_hand_only_when_it_is_in_no_event(client, sessions, tokens, registry):
    editor = bearer(tokens["editor"])
    # a 大风 warning opens nothing; a red rainstorm opens a rainfall event
    wind = await (await client.post("/api/warnings", json=manual_form(event="大风"), headers=editor)).json()
    assert wind["event_id"] is None
    rain = await (await post_cap(client, zz(), tokens["editor"])).json()
    snow = await (await open_event(client, tokens["editor"], kind="snow_ice")).json()

    linked = await client.post(f"/api/events/{snow['id']}/warnings", json={"warning_id": wind["warning_id"]},
                               headers=editor)
    body = await linked.json()
    assert linked.status == 200, body
    [member] = body["warnings"]
    assert member["id"] == wind["warning_id"] and member["joined_by"].endswith(":editor-token")
    moved = await client.post(f"/api/events/{snow['id']}/warnings", json={"warning_id": rain["warning_id"]},
                              headers=editor)
    answer = await moved.json()
    assert moved.status == 409 and answer["event_id"] == rain["event_id"]
    assert f"事件 {rain['event_id']}" in answer["detail"]
    async with sessions() as session:
        where = (await session.execute(select(EventWarning.event_id)
                                       .where(EventWarning.warning_id == rain["warning_id"]))).scalar_one()
    assert where == rain["event_id"]


async def test_list_filters_are_checked(client, tokens):
    viewer = bearer(tokens["viewer"])
    for query, field in [("status=done", "status"), ("kind=flood", "kind"), ("year=abc", "year"),
                         ("year=26", "year")]:
        response = await client.get(f"/api/events?{query}", headers=viewer)
        assert response.status == 400 and (await response.json())["field"] == field, query
    assert (await client.get("/api/events/abc", headers=viewer)).status == 400
    assert (await client.get("/api/events/12345", headers=viewer)).status == 404


@pytest.mark.parametrize("kind", [["rainfall"], {"rainfall": 1}, 7])
async def test_an_event_kind_that_is_not_text_is_refused_naming_the_field(client, sessions, tokens, kind):
    response = await open_event(client, tokens["editor"], kind=kind)
    assert response.status == 400 and (await response.json())["field"] == "kind"
    assert await count(sessions, Event) == 0


@pytest.mark.parametrize("warning_id", [2**31, 30720103031399380046934465052672, 0])
async def test_a_warning_id_outside_the_column_is_refused_naming_the_field(client, tokens, warning_id):
    opened = await (await open_event(client, tokens["editor"], kind="rainfall")).json()
    response = await client.post(f"/api/events/{opened['id']}/warnings", json={"warning_id": warning_id},
                                 headers=bearer(tokens["editor"]))
    assert response.status == 400 and (await response.json())["field"] == "warning_id"
