"""POST /api/warnings (CAP and the hand-entry form), the list, the thread object and each recipient's state."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest
from support.api_fixtures import CSRF, START, bearer, sign_in
from support.cap_samples import BILLION_LAUGHS, RSS, spec_example, xxe
from support.sinks import Sink
from support.warning_api import CAP_XML, chain, lenient_only, manual_form, post_cap, stored, zz
from support.warning_factories import DISTRICT_A, DISTRICT_B, notifications, warning_settings

from fangxun.api.app import create_app
from fangxun.api.keys import EXPANSION_RUNNER
from fangxun.core.accounts import signing_secret
from fangxun.warnings.acks.acknowledging import acknowledge
from fangxun.warnings.acks.escalation import escalate_due
from fangxun.warnings.acks.tokens import ack_token
from fangxun.warnings.delivery.channels.factory import build_channels, new_http_session
from fangxun.warnings.delivery.dispatcher import Dispatcher
from fangxun.warnings.delivery.outbox import compose
from fangxun.warnings.intake import accept
from fangxun.warnings.tables import Warning

HOOK = "http://127.0.0.1:9/hook"  # nothing is sent in these tests unless a sink is started
# The red sample over 甲区 and 乙区: 3 departments and 9 persons (one of them unreachable), see test_intake.
RED_NOTIFICATIONS, RED_UNREACHABLE = 12, 1


@pytest.fixture
def config(settings):
    return warning_settings(settings, HOOK)


async def test_a_posted_cap_warning_and_its_notifications_are_stored_before_the_201(client, sessions, tokens,
                                                                                     registry):
    response = await post_cap(client, zz(), tokens["editor"])
    body = await response.json()
    assert response.status == 201, body
    warning_id = body["warning_id"]
    assert response.headers["Location"] == f"/api/warnings/{warning_id}"
    assert body["created"] is True and body["thread_id"] == warning_id
    assert (body["notifications"], body["unreachable"]) == (RED_NOTIFICATIONS, RED_UNREACHABLE)
    assert body["units"] == 7  # both districts with everything below them (the city is not named)
    warning = body["warning"]
    assert (warning["event"], warning["colour"], warning["msg_type"], warning["status"]) == ("暴雨", "red", "Alert",
                                                                                          "active")
    assert warning["source"] == "cap" and warning["entered_by"].startswith("token:")
    # Everything was written before the answer: no dispatcher runs in this app.
    async with sessions() as session:
        rows = await notifications(session, warning_id)
    assert len(rows) == RED_NOTIFICATIONS
    assert sorted({row.status for row in rows}) == ["failed", "pending"]


async def test_the_same_message_again_answers_200_with_the_warning_already_held(client, sessions, tokens, registry):
    first = await (await post_cap(client, zz(), tokens["editor"])).json()
    again = await post_cap(client, zz(), tokens["admin"], content_type="text/xml")
    body = await again.json()
    assert again.status == 200 and body["created"] is False
    assert body["warning_id"] == first["warning_id"] and body["notifications"] == 0
    assert again.headers["Location"] == f"/api/warnings/{first['warning_id']}"
    assert await stored(sessions) == (1, RED_NOTIFICATIONS)


@pytest.mark.parametrize("example, content_type, assumed", [
    ("A1", "application/xml", True), ("A2", "text/xml", False), ("A3", CAP_XML, True), ("A4", CAP_XML, True)])
async def test_the_spec_examples_are_accepted(client, sessions, tokens, example, content_type, assumed):
    response = await post_cap(client, spec_example(example), tokens["editor"], content_type=content_type)
    body = await response.json()
    assert response.status == 201, body
    assert body["warning"]["identifier"] in spec_example(example).decode()
    assert body["units"] == 0  # nowhere near Zhengzhou
    async with sessions() as session:
        rows = await notifications(session, body["warning_id"])
    # All of 2003: A2 expired by its <expires>; the others name none, and the day assumed for them is over.
    assert body["warning"]["status"] == "expired" and rows == []
    assert body["warning"]["expires_assumed"] is assumed
    assert body["warning"]["notes"] == (["未注明失效时间，按 24 小时计"] if assumed else [])


async def test_the_hand_entry_form_is_accepted_as_json(client, sessions, tokens, registry):
    response = await client.post("/api/warnings", json=manual_form(), headers=bearer(tokens["editor"]))
    body = await response.json()
    assert response.status == 201, body
    warning = body["warning"]
    assert (warning["event"], warning["colour"], warning["source"], warning["sender"]) == ("暴雨", "red", "manual",
                                                                                        "duty@fangxun")
    assert warning["headline"].endswith("暴雨红色预警信号")
    assert body["units"] == 5  # 甲区 and its townships and villages
    assert body["notifications"] > 0
    bad = await client.post("/api/warnings", json=manual_form(colour="紫"), headers=bearer(tokens["editor"]))
    problem = await bad.json()
    assert bad.status == 400 and problem["error"] == "bad_input" and problem["field"] == "colour"
    assert (await stored(sessions))[0] == 1


async def test_a_hand_entered_warning_names_its_units_unless_the_area_was_drawn(client, sessions, tokens, registry):
    named = manual_form(areas={"unit_codes": [DISTRICT_A, "410102002001", DISTRICT_B]})  # 东村 lies in 甲区
    body = await (await client.post("/api/warnings", json=named, headers=bearer(tokens["editor"]))).json()
    assert [area["description"] for area in body["warning"]["areas"]] == ["甲区、乙区"]
    async with sessions() as session:
        warning = await session.get(Warning, body["warning_id"])
        rows = await notifications(session, body["warning_id"])
    texts = {compose(row.payload, warning.messages, row.recipient_name)[1] for row in rows}
    assert all("影响区域：甲区、乙区" in text and "手工划定区域" not in text for text in texts)
    square = {"type": "Polygon", "coordinates": [[[113.6, 34.7], [113.7, 34.7], [113.7, 34.8], [113.6, 34.7]]]}
    drawn = manual_form(areas={"unit_codes": [DISTRICT_A], "polygon": square})
    body = await (await client.post("/api/warnings", json=drawn, headers=bearer(tokens["editor"]))).json()
    assert [area["description"] for area in body["warning"]["areas"]] == ["手工划定区域"]
    described = manual_form(areas={"unit_codes": [DISTRICT_A], "description": "甲区沿河低洼地带"})
    body = await (await client.post("/api/warnings", json=described, headers=bearer(tokens["editor"]))).json()
    assert [area["description"] for area in body["warning"]["areas"]] == ["甲区沿河低洼地带"]


@pytest.mark.parametrize("document, content_type, status, error, words", [
    (BILLION_LAUGHS, CAP_XML, 400, "cap_rejected", "实体"),
    (xxe("file:///etc/passwd"), "application/xml", 400, "cap_rejected", ""),
    (RSS, "text/xml", 400, "cap_rejected", ""),
    (b"<alert", CAP_XML, 400, "cap_rejected", ""),
    (lenient_only(), CAP_XML, 400, "cap_rejected", "Soon"),
    (b"event=storm", "application/x-www-form-urlencoded", 415, "unsupported_media_type", "CAP"),
])
async def test_refused_documents_store_nothing(client, sessions, tokens, registry, document, content_type, status,
                                               error, words):
    response = await post_cap(client, document, tokens["editor"], content_type=content_type)
    body = await response.json()
    assert (response.status, body["error"]) == (status, error), body
    assert words in body["detail"]
    assert await stored(sessions) == (0, 0)


async def test_lenient_parsing_accepts_what_it_can_and_says_what_it_skipped(client, tokens, registry):
    response = await post_cap(client, lenient_only(), tokens["editor"], lenient="1")
    body = await response.json()
    assert response.status == 201, body
    assert any("urgency" in item for item in body["skipped"])
    assert body["warning"]["colour"] == "orange"
    bad = await post_cap(client, lenient_only(), tokens["editor"], lenient="maybe")
    assert bad.status == 400 and (await bad.json())["field"] == "lenient"


async def test_notes_an_assumed_expiry_and_the_effective_time_are_shown(client, tokens, registry):
    # No <expires>, an empty <polygon> (schema-valid: accepted strictly) and an <effective> before the onset.
    document = zz(expires=None, polygon="").replace(
        b"<onset>", b"<effective>2026-06-01T09:50:00+08:00</effective><onset>", 1)
    response = await post_cap(client, document, tokens["editor"])
    body = await response.json()
    assert response.status == 201, body
    notes = ["区域“郑州市金水区、二七区、中原区”的多边形为空，已略去该多边形", "未注明失效时间，按 24 小时计"]
    assert body["warning"]["notes"] == notes and body["skipped"] == []
    assert body["units"] == 7  # the area's geocodes still count
    view = await (await client.get(f"/api/warnings/{body['warning_id']}", headers=bearer(tokens["viewer"]))).json()
    shown = view["current"]
    assert shown["notes"] == notes and view["messages"][0]["notes"] == notes
    assert shown["expires_assumed"] is True
    assert (shown["effective"], shown["onset"], shown["expires"]) == (
        "2026-06-01T01:50:00+00:00", "2026-06-01T01:55:00+00:00", "2026-06-02T01:55:00+00:00")
    listed = await (await client.get("/api/warnings", headers=bearer(tokens["viewer"]))).json()
    assert listed["items"][0]["notes"] == notes and listed["items"][0]["expires_assumed"] is True


async def test_oversized_bodies_are_refused_by_length_and_while_reading(aiohttp_client, engine, config, clock,
                                                                        sessions, tokens, registry):
    small = config.model_copy(update={"warnings": config.warnings.model_copy(update={"max_cap_bytes": 4096})})
    client = await aiohttp_client(create_app(engine, small, clock))
    padded = zz().replace(b"</alert>", b"<!--" + b"x" * 5000 + b"--></alert>")
    response = await post_cap(client, padded, tokens["editor"])
    body = await response.json()
    assert response.status == 413 and body["error"] == "payload_too_large" and body["max_bytes"] == 4096

    async def chunks():  # no Content-Length: the limit is checked while reading
        for start in range(0, len(padded), 1000):
            yield padded[start:start + 1000]

    response = await client.post("/api/warnings", data=chunks(),
                                 headers={**bearer(tokens["editor"]), "Content-Type": CAP_XML})
    assert response.status == 413 and (await response.json())["error"] == "payload_too_large"
    assert await stored(sessions) == (0, 0)


async def test_reading_needs_a_credential_and_writing_an_editor(client, tokens, user):
    assert (await client.get("/api/warnings")).status == 401
    assert (await post_cap(client, zz(), tokens["viewer"])).status == 403
    response = await client.post("/api/warnings", data=zz(), headers={"Content-Type": CAP_XML})
    assert response.status == 401 and "Bearer" in response.headers["WWW-Authenticate"]
    assert (await client.get("/api/warnings", headers=bearer(tokens["viewer"]))).status == 200
    # A signed-in page session may post, with the CSRF header only.
    await sign_in(client, user, "correct-horse-battery")
    without = await client.post("/api/warnings", data=zz(), headers={"Content-Type": CAP_XML})
    assert without.status == 403
    with_header = await client.post("/api/warnings", data=zz(), headers={"Content-Type": CAP_XML, **CSRF})
    assert with_header.status == 201
    assert (await with_header.json())["warning"]["entered_by"] == "user:duty01"


async def test_a_thread_is_one_object_from_alert_through_update_to_cancel(client, tokens, registry):
    ids = []
    for document in chain():
        response = await post_cap(client, document, tokens["editor"])
        assert response.status == 201, await response.text()
        ids.append((await response.json())["warning_id"])
    alert_id, update_id, cancel_id = ids
    views = [await (await client.get(f"/api/warnings/{i}", headers=bearer(tokens["viewer"]))).json() for i in ids]
    assert {view["thread_id"] for view in views} == {alert_id}
    thread = views[0]
    assert [m["id"] for m in thread["messages"]] == ids
    assert [m["msg_type"] for m in thread["messages"]] == ["Alert", "Update", "Cancel"]
    assert [m["status"] for m in thread["messages"]] == ["superseded", "cancelled", "cancelled"]
    assert thread["status"] == "cancelled" and thread["status_label"] == "已解除"
    assert thread["current"]["id"] == cancel_id and thread["current"]["msg_type"] == "Cancel"
    # The 解除 names the same areas; the areas and units shown are the last message's that had some.
    assert thread["areas"][0]["description"] == "郑州市金水区、二七区、中原区"
    units = {unit["code"]: unit for unit in thread["units"]}
    assert units[DISTRICT_A] == {"code": DISTRICT_A, "name": "甲区", "level": "district", "fraction": 1.0}
    assert DISTRICT_B in units
    first, upgrade, cancel = thread["messages"]
    assert first["colour"] == "orange" and upgrade["colour"] == "red"
    assert upgrade["references"][0]["identifier"] == first["identifier"]
    # Nothing had been sent: the Update cancelled the Alert's notices, the Cancel the Update's; the
    # Cancel itself tells everyone told before.
    assert first["notifications"]["cancelled"] == first["notifications"]["total"] - 1  # the unreachable one
    assert upgrade["notifications"]["pending"] == 0
    assert cancel["notifications"]["pending"] > 0
    assert thread["notifications"]["total"] == sum(m["notifications"]["total"] for m in thread["messages"])
    missing = await client.get("/api/warnings/999999", headers=bearer(tokens["viewer"]))
    assert missing.status == 404 and (await missing.json())["error"] == "not_found"


async def test_the_list_filters_by_status_event_colour_and_time(client, tokens, registry):
    for document in chain():
        await post_cap(client, document, tokens["editor"])
    await client.post("/api/warnings", json=manual_form(event="大风", colour="蓝"), headers=bearer(tokens["editor"]))
    viewer = bearer(tokens["viewer"])

    async def listed(**params):
        response = await client.get("/api/warnings", params=params, headers=viewer)
        body = await response.json()
        assert response.status == 200, body
        return body

    everything = await listed()
    assert everything["total"] == 4
    assert [item["msg_type"] for item in everything["items"][:3]] in (["Alert", "Cancel", "Update"],
                                                                      ["Cancel", "Update", "Alert"])
    assert (await listed(status="active"))["total"] == 1
    assert (await listed(colour="红"))["total"] == 2 and (await listed(colour="red"))["total"] == 2
    assert (await listed(event="大风"))["items"][0]["colour"] == "blue"
    assert (await listed(since="2026-06-01T09:58:00+08:00"))["total"] == 3
    assert (await listed(since="2026-06-02"))["total"] == 0
    page = await listed(per_page=2, page=2)
    assert (page["total"], len(page["items"]), page["page"]) == (4, 2, 2)
    for params, field in (({"status": "gone"}, "status"), ({"colour": "purple"}, "colour"),
                          ({"since": "yesterday"}, "since"), ({"per_page": "0"}, "per_page")):
        response = await client.get("/api/warnings", params=params, headers=viewer)
        assert response.status == 400 and (await response.json())["field"] == field


async def test_each_recipient_has_a_state(aiohttp_client, engine, sessions, settings, clock, tokens, registry):
    async with Sink() as sink:
        config = warning_settings(settings, sink.url_for("/hook"))
        client = await aiohttp_client(create_app(engine, config, clock))
        warning_id = (await (await post_cap(client, zz(), tokens["editor"])).json())["warning_id"]
        async with new_http_session(config.warnings.channels) as http:
            dispatcher = Dispatcher(sessions, build_channels(config.warnings.channels, http), config, clock, "t1",
                                    rng=random.Random(1))
            assert await dispatcher.run_until_idle() == RED_NOTIFICATIONS - RED_UNREACHABLE
            async with sessions() as session, session.begin():
                secret = await signing_secret(session)
                rows = await notifications(session, warning_id)
                by_name = {row.recipient_name: row for row in rows}
                chief = by_name["甲区区长"]
                await acknowledge(session, ack_token(secret, chief.idempotency_key), START + timedelta(minutes=3), "page")
            # Past the red deadline (15 min): overdue; the escalation job then reminds and steps up.
            clock.advance(minutes=16)
            viewer = bearer(tokens["viewer"])
            overdue = await (await client.get(f"/api/warnings/{warning_id}/notifications",
                                              params={"state": "overdue"}, headers=viewer)).json()
            assert overdue["total"] == RED_NOTIFICATIONS - RED_UNREACHABLE - 1
            assert all(item["overdue"] and item["state"] == "delivered" for item in overdue["items"])
            async with sessions() as session, session.begin():
                assert await escalate_due(session, clock.now(), config) > 0

    response = await client.get(f"/api/warnings/{warning_id}/notifications", headers=viewer)
    body = await response.json()
    assert response.status == 200 and body["total"] >= RED_NOTIFICATIONS
    items = {item["recipient_name"]: item for item in body["items"] if item["purpose"] == "notice"}
    acked = items["甲区区长"]
    assert acked["state"] == "acknowledged" and acked["acked_via"] == "page" and not acked["acked_late"]
    assert acked["attempts"] == 1 and acked["delivered_at"] and acked["ack_deadline"] and acked["acked_at"]
    assert acked["unit_name"] == "甲区" and acked["address"] == "13900000001"
    unreachable = items["三号街道主任"]
    assert unreachable["state"] == "escalated" and unreachable["last_error"] == "无可用联系方式"
    assert unreachable["escalated_at"] is not None
    reminded = items["乙区区长"]
    assert reminded["state"] == "delivered" and reminded["overdue"] and reminded["reminders"] == 1
    escalations = [item for item in body["items"] if item["purpose"] == "escalation"]
    assert escalations and all(item["escalation_step"] >= 1 and item["escalated_from"] for item in escalations)
    assert body["counts"]["acknowledged"] == 1 and body["counts"]["escalated"] >= 1
    assert sum(body["counts"][state] for state in ("pending", "delivered", "acknowledged", "escalated", "failed",
                                                    "dead", "cancelled")) == body["counts"]["total"]
    only = await (await client.get(f"/api/warnings/{warning_id}/notifications",
                                   params={"state": "acknowledged"}, headers=viewer)).json()
    assert [item["recipient_name"] for item in only["items"]] == ["甲区区长"]
    bad = await client.get(f"/api/warnings/{warning_id}/notifications", params={"state": "lost"}, headers=viewer)
    assert bad.status == 400
    assert json.loads(json.dumps(body))  # plain JSON throughout


async def test_a_web_process_without_a_dispatcher_answers_a_large_warning_after_its_desks(
        aiohttp_client, engine, config, clock, sessions, tokens, registry, monkeypatch):
    # As `serve --no-dispatch` runs it: its expansion runner writes the rest after the answer.
    monkeypatch.setattr(accept, "INLINE_UNITS", 0)  # the sample's units make a large warning
    app = create_app(engine, config, clock, expand=True)
    client = await aiohttp_client(app)
    body = await (await post_cap(client, zz(), tokens["editor"])).json()
    assert body["notifications"] is None and body["expansion"]["state"] == "expanding"
    assert body["notifications_written"] < RED_NOTIFICATIONS
    await app[EXPANSION_RUNNER].wait_idle()
    async with sessions() as session:
        rows = await notifications(session, body["warning_id"])
    assert len(rows) == len({row.idempotency_key for row in rows}) == RED_NOTIFICATIONS
