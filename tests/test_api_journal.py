"""The journal over HTTP: the API (append, list, one entry; edits and deletes refused with 405) and the form page."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from support.api_fixtures import CSRF, PASSWORD, START, bearer, sign_in
from support.tree import add_units
from support.warning_factories import DISTRICT_A

from fangxun.core.accounts import create_token, create_user
from fangxun.warnings.events.tables import Event, JournalEntry

ENTRY = {"department": "water", "action": "开启贾鲁河闸门泄洪", "figures": {"evacuated": 120, "economic_loss": 8.5},
         "text": "下游群众已提前转移"}


@pytest.fixture
async def event_id(sessions):
    async with sessions() as session, session.begin():
        await add_units(session)
        event = Event(kind="rainfall", name="6月1日降雨过程", status="open", started_at=START, opened_by="rule:rainfall")
        session.add(event)
        await session.flush()
        return event.id


@pytest.fixture
async def reporters(sessions):
    """A water department token, and a reporter token without a department."""
    async with sessions() as session, session.begin():
        return {"water": await create_token(session, "reporter", label="water", department="water"),
                "none": await create_token(session, "reporter", label="no department")}


async def rows(sessions) -> list[tuple]:
    async with sessions() as session:
        table = JournalEntry.__table__
        return [tuple(row) for row in (await session.execute(select(table).order_by(table.c.id))).all()]


async def post(client, event_id, body, token):
    return await client.post(f"/api/events/{event_id}/journal", json=body, headers=bearer(token))


async def test_an_entry_is_appended_and_listed_with_the_totals(client, sessions, tokens, event_id, clock):
    clock.advance(minutes=42)
    response = await post(client, event_id, ENTRY, tokens["editor"])
    created = await response.json()
    assert response.status == 201, created
    assert response.headers["Location"] == f"/api/events/{event_id}/journal/{created['id']}"
    assert created["recorded_at"] == "2026-06-01T02:42:00+00:00" and created["author"].startswith("token:")
    assert (created["department_name"], created["figures"], created["standing"]) == (
        "市水利局", {"evacuated": 120, "economic_loss": 8.5}, True)
    listed = await (await client.get(f"/api/events/{event_id}/journal", headers=bearer(tokens["viewer"]))).json()
    assert [e["id"] for e in listed["entries"]] == [created["id"]]
    assert listed["totals"]["evacuated"] == 120 and listed["totals"]["deaths"] is None
    one = await client.get(f"/api/events/{event_id}/journal/{created['id']}", headers=bearer(tokens["viewer"]))
    assert (await one.json()) == listed["entries"][0]


async def test_a_correction_is_a_new_entry_and_the_list_says_which_stands(client, tokens, event_id):
    first = await (await post(client, event_id, ENTRY, tokens["editor"])).json()
    fixed = await (await post(client, event_id, {**ENTRY, "corrects_id": first["id"],
                                                 "figures": {"evacuated": 135}}, tokens["editor"])).json()
    again = await post(client, event_id, {**ENTRY, "corrects_id": first["id"]}, tokens["editor"])
    refusal = await again.json()
    assert again.status == 409 and refusal["corrected_by"] == fixed["id"] and refusal["field"] == "corrects_id"
    listed = await (await client.get(f"/api/events/{event_id}/journal", headers=bearer(tokens["editor"]))).json()
    assert [(e["id"], e["corrected_by"], e["standing"]) for e in listed["entries"]] == [
        (first["id"], fixed["id"], False), (fixed["id"], None, True)]
    assert listed["totals"]["evacuated"] == 135 and listed["totals"]["economic_loss"] is None


@pytest.mark.parametrize(("change", "field"), [
    ({"recorded_at": "2026-05-01T00:00:00Z"}, "recorded_at"),
    ({"figures": {"evacuated": -5}}, "figures.evacuated"),
    ({"figures": {"missing": 1.5}}, "figures.missing"),
    ({"text": "长" * 4001}, "text"),
    ({"department": "army"}, "department"),
    ({"unit_code": "410100999999"}, "unit_code"),
    ({"severity": "high"}, "severity"),
])
async def test_bad_input_names_the_field_and_writes_nothing(client, sessions, tokens, event_id, change, field):
    response = await post(client, event_id, {**ENTRY, **change}, tokens["editor"])
    body = await response.json()
    assert response.status == 400 and body["error"] == "bad_input" and body["field"] == field
    assert body["detail"].startswith(f"{field}：")
    assert await rows(sessions) == []


async def test_a_missing_event_is_404(client, tokens, event_id):
    response = await post(client, event_id + 1, ENTRY, tokens["editor"])
    assert response.status == 404 and "不存在" in (await response.json())["detail"]
    listed = await client.get(f"/api/events/{event_id + 1}/journal", headers=bearer(tokens["editor"]))
    assert listed.status == 404


async def test_department_tokens_write_only_for_their_department(client, sessions, tokens, reporters, event_id):
    assert (await post(client, event_id, ENTRY, reporters["water"])).status == 201
    other = await post(client, event_id, {**ENTRY, "department": "transport"}, reporters["water"])
    detail = (await other.json())["detail"]
    assert other.status == 403 and "市水利局（water）" in detail and "市交通运输局（transport）" in detail
    unscoped = await post(client, event_id, ENTRY, reporters["none"])
    assert unscoped.status == 403 and "未指定所属部门" in (await unscoped.json())["detail"]
    assert (await post(client, event_id, ENTRY, tokens["viewer"])).status == 403
    # a reporter writes journal entries and nothing else
    assert (await client.post("/api/warnings", json={}, headers=bearer(reporters["water"]))).status == 403
    assert (await post(client, event_id, {**ENTRY, "department": "transport"}, tokens["admin"])).status == 201
    assert [row.department for row in await _entries(sessions)] == ["water", "transport"]


async def _entries(sessions):
    async with sessions() as session:
        return list((await session.execute(select(JournalEntry).order_by(JournalEntry.id))).scalars())


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_edits_and_deletes_are_refused_by_the_api(client, sessions, tokens, event_id, method):
    created = await (await post(client, event_id, ENTRY, tokens["admin"])).json()
    before = await rows(sessions)
    for path in (f"/api/events/{event_id}/journal/{created['id']}", f"/api/events/{event_id}/journal"):
        response = await client.request(method, path, json={**ENTRY, "figures": {"evacuated": 1}},
                                        headers=bearer(tokens["admin"]))
        body = await response.json()
        assert response.status == 405, path
        assert body == {"error": "append_only", "detail": "事件日志只能追加，更正请提交新的更正条目"}
        assert "GET" in response.headers["Allow"] and method not in response.headers["Allow"]
    assert await rows(sessions) == before


async def test_a_page_session_needs_the_csrf_header_to_post(client, sessions, user, event_id):
    await sign_in(client, user, PASSWORD)
    refused = await client.post(f"/api/events/{event_id}/journal", json=ENTRY)
    assert refused.status == 403
    accepted = await client.post(f"/api/events/{event_id}/journal", json=ENTRY, headers=CSRF)
    assert accepted.status == 201 and (await accepted.json())["author"] == "user:duty01"
    assert len(await rows(sessions)) == 1


# --- the form page ---

FORM = {"department": "water", "unit_code": DISTRICT_A, "action": "转移甲区低洼地带群众", "evacuated": "230",
        "housed": "", "economic_loss": "12.5", "text": "", "corrects_id": ""}


async def test_the_form_appends_and_goes_back_to_the_timeline(client, sessions, user, event_id):
    await sign_in(client, user, PASSWORD)
    page = await client.get(f"/events/{event_id}/journal")
    html = await page.text()
    assert page.status == 200 and '<form method="post" action="/events/' in html and "市水利局" in html
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    response = await client.post(f"/events/{event_id}/journal", data=FORM, allow_redirects=False)
    [entry] = await _entries(sessions)
    assert response.status == 303 and response.headers["Location"] == f"/events/{event_id}#entry-{entry.id}"
    assert (entry.evacuated, entry.housed, entry.economic_loss, entry.unit_code, entry.author) == (
        230, None, 12.5, DISTRICT_A, "user:duty01")
    correcting = await client.get(f"/events/{event_id}/journal?corrects={entry.id}")
    assert f'<option value="{entry.id}" selected>' in await correcting.text()


async def test_the_form_finds_the_unit_by_name_and_shows_it_with_its_district(client, sessions, user, event_id):
    await sign_in(client, user, PASSWORD)
    page = await client.get(f"/events/{event_id}/journal")
    html = await page.text()
    # the typed code gave way to the picker (names with their district from /api/units/search); the code still posts
    assert '<div class="unit-picker" id="unit-picker" data-name="unit_code" data-multiple="false"' in html
    assert '<script src="/static/units/picker.js" defer></script>' in html and 'name="unit_code" value' not in html
    assert "connect-src 'self'" in page.headers["Content-Security-Policy"]
    response = await client.post(f"/events/{event_id}/journal", data={**FORM, "unit_code": "410102001000"},
                                 allow_redirects=False)
    [entry] = await _entries(sessions)
    assert response.status == 303 and entry.unit_code == "410102001000"
    correcting = await (await client.get(f"/events/{event_id}/journal?corrects={entry.id}")).text()
    assert ('<li class="unit-picker-chip" data-code="410102001000"><span class="unit-picker-place">甲区 · 一号街道'
            '</span><input type="hidden" name="unit_code" value="410102001000">') in correcting
    assert f'<option value="{entry.id}" selected>' in correcting and "市水利局 转移甲区低洼地带群众" in correcting


@pytest.mark.parametrize(("change", "words"), [
    ({"evacuated": "-3"}, "figures.evacuated：转移人数应为不小于 0 的整数"),
    ({"housed": "十二"}, "figures.housed：安置人数应为数字"),
    ({"department": "", "unit_code": ""}, "至少填写一项"),
])
async def test_a_bad_form_comes_back_with_the_error_and_the_values(client, sessions, user, event_id, change, words):
    await sign_in(client, user, PASSWORD)
    response = await client.post(f"/events/{event_id}/journal", data={**FORM, **change}, allow_redirects=False)
    html = await response.text()
    assert response.status == 400 and words in html
    assert "转移甲区低洼地带群众" in html   # what was typed is kept
    assert await rows(sessions) == []


async def test_the_form_keeps_a_department_user_to_the_department(client, sessions, event_id):
    async with sessions() as session, session.begin():
        await create_user(session, "water01", PASSWORD, "reporter", department="water")
        session.add(JournalEntry(event_id=event_id, recorded_at=START, author="token:1", department="transport",
                                 action="封闭京广路隧道", roads_closed=1))
    await sign_in(client, "water01", PASSWORD)
    page = await (await client.get(f"/events/{event_id}/journal")).text()
    # neither the transport department nor its entries are offered to correct
    assert "市交通运输局" not in page and "京广路" not in page and '<option value="water" selected>' in page
    refused = await client.post(f"/events/{event_id}/journal", data={**FORM, "department": "transport"},
                                allow_redirects=False)
    assert refused.status == 403 and "只能为本部门填报" in await refused.text()
    accepted = await client.post(f"/events/{event_id}/journal", data=FORM, allow_redirects=False)
    assert accepted.status == 303
    assert [(e.department, e.author) for e in await _entries(sessions)] == [("transport", "token:1"),
                                                                          ("water", "user:water01")]


async def test_a_form_posted_from_another_site_is_refused(client, sessions, user, event_id):
    await sign_in(client, user, PASSWORD)
    response = await client.post(f"/events/{event_id}/journal", data=FORM, allow_redirects=False,
                                 headers={"Origin": "https://evil.example"})
    assert response.status == 403
    async with sessions() as session:
        assert (await session.execute(select(func.count()).select_from(JournalEntry))).scalar_one() == 0


async def test_a_viewer_sees_the_form_but_cannot_post_it(client, sessions, event_id):
    async with sessions() as session, session.begin():
        await create_user(session, "watcher", PASSWORD, "viewer")
    await sign_in(client, "watcher", PASSWORD)
    page = await (await client.get(f"/events/{event_id}/journal")).text()
    assert "当前账号只有查看权限" in page
    refused = await client.post(f"/events/{event_id}/journal", data=FORM, allow_redirects=False)
    assert refused.status == 403 and await rows(sessions) == []
