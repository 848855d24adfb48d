"""The response desk of /events/{id}: the live proposal (the API's) against the level in force, the decision form for
editors only (the API's checks, errors at their field, nothing written on a refusal), and each decision notice's
叫应 with the names still waited for."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from support.api_fixtures import PASSWORD, START, bearer, sign_in
from support.event_story import build_story
from support.response_story import RULE, red_over_a_street
from support.tree import add_units
from support.warning_factories import DISTRICT_A, NOON, warning_settings

from fangxun.core.accounts import create_user
from fangxun.warnings.events.response_desk import unanswered
from fangxun.warnings.events.tables import ResponseDecision
from fangxun.warnings.tables import Notification

# The departments with actions at Ⅱ级 in the default configuration.
LEVEL_II = {"education", "housing", "urban", "transport", "police", "water", "planning", "weather", "emergency"}


@pytest.fixture
async def event_id(sessions):
    async with sessions() as session, session.begin():
        await add_units(session)
        event, _ = await red_over_a_street(session, START)
        return event


@pytest.fixture
async def viewer(sessions):
    async with sessions() as session, session.begin():
        await create_user(session, "look01", PASSWORD, "viewer")
    return "look01"


async def stored(sessions) -> tuple[int, int]:
    async with sessions() as session:
        return ((await session.execute(select(func.count()).select_from(ResponseDecision))).scalar_one(),
                (await session.execute(select(func.count()).select_from(Notification))).scalar_one())


async def page(client, event_id) -> str:
    response = await client.get(f"/events/{event_id}")
    assert response.status == 200
    return await response.text()


def text_of(html: str, element_id: str) -> str:
    """The text of the element with this id (tags removed)."""
    inner = re.search(rf'id="{element_id}"[^>]*>(.*?)</(p|span|table|div)>', html, re.S).group(1)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", inner)).strip()


def decision_item(html: str, decision_id: int) -> str:
    """The decision's entry in the response desk's list, up to the next one."""
    return html.split(f'id="response-decision-{decision_id}"')[1].split('id="response-decision-')[0].split("</ol>")[0]


async def test_the_page_shows_the_apis_proposal_beside_the_level_in_force(client, user, event_id, tokens):
    await sign_in(client, user, PASSWORD)
    api = (await (await client.get(f"/api/events/{event_id}/proposal")).json())["proposal"]
    assert (api["level"], api["rule"], api["cover"]) == (2, RULE, {DISTRICT_A: 0.25})
    html = await page(client, event_id)
    assert text_of(html, "current-level") == "当前：未启动应急响应"
    assert text_of(html, "proposal-text") == f"建议启动{api['level_label']}应急响应（尚未决定）"
    assert text_of(html, "proposal-rule") == api["rule"]
    shown = dict(re.findall(r'<tr data-district="(\d+)"><td>[^<]*</td><td class="n">([\d.]+)%</td>', html))
    assert shown == {code: f"{share * 100:.1f}" for code, share in api["cover"].items()}
    assert '<td>甲区</td><td class="n">25.0%</td>' in html and "合计 1 个区县" in html
    assert "未启动或已终止" not in html and "<dt>影响区县</dt><dd>甲区</dd>" in html  # by its township
    # The form is set to what the proposal points to; it is a proposal, not a decision.
    assert re.search(r'<option value="activate" selected>', html) and re.search(r'<option value="II" selected>', html)

    # Ⅲ decided through the API at 09:50: the page names it, and the proposal now reads as an upgrade.
    response = await client.post(f"/api/events/{event_id}/decisions", headers=bearer(tokens["editor"]), json={
        "action": "activate", "level": "III", "decided_by": "张三", "decided_at": "2026-06-01 09:50"})
    assert response.status == 201
    html = await page(client, event_id)
    assert text_of(html, "current-level") == "当前：Ⅲ级应急响应（2026-06-01 09:50 由 张三 决定）"
    assert text_of(html, "proposal-text") == "建议提升至Ⅱ级应急响应（尚未决定）"
    assert re.search(r'<option value="upgrade" selected>', html)


async def test_a_viewer_sees_the_record_but_no_form_and_cannot_post(client, sessions, viewer, event_id):
    await sign_in(client, viewer, PASSWORD)
    html = await page(client, event_id)
    assert "建议启动Ⅱ级应急响应（尚未决定）" in html
    assert 'id="decision-form"' not in html and "当前账号只有查看权限，不能记录应急响应决策" in html
    response = await client.post(f"/events/{event_id}/decisions",
                                 data={"action": "activate", "level": "II", "decided_by": "张三"})
    assert response.status == 403 and "当前账号只有查看权限" in await response.text()
    assert await stored(sessions) == (0, 0)


async def test_a_form_from_another_site_is_refused(client, sessions, user, event_id):
    await sign_in(client, user, PASSWORD)
    response = await client.post(f"/events/{event_id}/decisions", headers={"Origin": "http://evil.example"},
                                 data={"action": "activate", "level": "II", "decided_by": "张三"})
    assert response.status == 403
    assert await stored(sessions) == (0, 0)


@pytest.mark.parametrize("form, status, field, words", [
    ({"action": "", "level": "II", "decided_by": "张三"}, 400, "action", "应填写决策类型"),
    ({"action": "activate", "level": "V", "decided_by": "张三"}, 400, "level", "响应级别应为"),
    ({"action": "activate", "level": "II", "decided_by": "  "}, 400, "decided_by", "应填写决策人"),
    ({"action": "upgrade", "level": "II", "decided_by": "张三"}, 409, "action", "当前未启动应急响应"),
    ({"action": "activate", "level": "II", "decided_by": "张三", "decided_at": "2026-06-01T10:30"}, 400,
     "decided_at", "不能晚于当前时间"),
    ({"action": "activate", "level": "II", "decided_by": "张三", "decided_at": "明天"}, 400, "decided_at", "应为时间"),
    ({"action": "activate", "level": "II", "decided_by": "张三", "note": "长" * 2001}, 400, "note", "不能超过"),
])
async def test_bad_input_is_named_at_its_field_and_writes_nothing(client, sessions, user, event_id, form, status,
                                                                   field, words):
    await sign_in(client, user, PASSWORD)
    response = await client.post(f"/events/{event_id}/decisions", data=form, allow_redirects=False)
    html = await response.text()
    assert response.status == status
    error = re.search(rf'<p class="field-error" id="error-{field}">([^<]*)</p>', html)
    assert error and words in error.group(1) and not error.group(1).startswith(field), html
    assert re.findall(r'class="field-error" id="error-(\w+)"', html) == [field]
    assert "未记录，请按标出的提示修改后再提交" in html
    # What was posted is kept in the form.
    assert f'name="decided_by" value="{form["decided_by"].strip()}"' in html
    assert re.search(rf'<option value="{form["level"]}" selected>', html) or form["level"] == "V"
    assert await stored(sessions) == (0, 0)


async def test_a_recorded_decision_appears_with_its_notices_ack_counts(client, sessions, user, event_id, clock):
    await sign_in(client, user, PASSWORD)
    response = await client.post(f"/events/{event_id}/decisions", allow_redirects=False, data={
        "action": "activate", "level": "II", "decided_by": "市防指 张三", "decided_at": "", "note": "会商决定"})
    assert response.status == 303
    async with sessions() as session:
        decision = (await session.execute(select(ResponseDecision))).scalar_one()
        rows = list((await session.execute(select(Notification).where(
            Notification.warning_id == decision.notice_warning_id).order_by(Notification.id))).scalars())
    assert response.headers["Location"] == f"/events/{event_id}#response-decision-{decision.id}"
    assert (decision.level, decision.proposed_level, decision.recorded_by) == (2, 2, "user:duty01")
    assert {row.recipient_key for row in rows} == LEVEL_II

    # One desk acknowledges, one is escalated past its deadline; the rest are waited for.
    water = next(row for row in rows if row.recipient_key == "water")
    police = next(row for row in rows if row.recipient_key == "police")
    async with sessions() as session, session.begin():
        await session.execute(update(Notification).where(Notification.id == water.id).values(
            status="delivered", delivered_at=START, acked_at=START + timedelta(minutes=3), acked_via="link"))
        await session.execute(update(Notification).where(Notification.id == police.id).values(
            status="delivered", delivered_at=START, ack_deadline=START + timedelta(minutes=30),
            escalated_at=START + timedelta(minutes=31)))
    clock.advance(minutes=40)
    html = await page(client, event_id)
    assert text_of(html, "current-level") == "当前：Ⅱ级应急响应（2026-06-01 10:00 由 市防指 张三 决定）"
    assert text_of(html, "proposal-text") == "系统建议Ⅱ级应急响应，与当前响应一致"
    item = decision_item(html, decision.id)
    assert "启动Ⅱ级应急响应" in item and "决策人：市防指 张三" in item and "会商决定" in item
    counts = dict(re.findall(r'data-count="(\w+)">[^<]*<b>(\d+)</b>', item))
    assert counts == {"told": "9", "acknowledged": "1", "waiting": "7", "escalated": "1"}
    names = re.findall(r'<li data-notification="(\d+)"( class="overdue")?>([^<·]*)', item)
    assert [int(n) for n, _, _ in names][0] == police.id and names[0][1]  # overdue first
    assert {int(n) for n, _, _ in names} == {row.id for row in rows} - {water.id}
    assert any(name.startswith("市公安局") for _, _, name in names)
    assert f'href="/board#warning-{decision.notice_warning_id}"' in item


async def test_the_unanswered_are_named_with_their_district(sessions, settings, registry):
    async with sessions() as session, session.begin():
        story = await build_story(session, warning_settings(settings, "http://127.0.0.1:9/hook"))
    async with sessions() as session:
        people = (await unanswered(session, [story.update], NOON + timedelta(hours=2)))[story.update]
    places = {person["name"]: person["place"] for person in people}
    assert places["东村主任"] == "甲区 · 二号镇 · 东村" and places["乙区区长"] == "乙区"
    assert places["市水利局（市水利局值班室）"] == ""
    assert all(person["state"] != "acknowledged" for person in people)

