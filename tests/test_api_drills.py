"""The drills through the API (editors start, anyone reads; the report as JSON and XLSX) and the duty room's pages."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from support.api_fixtures import PASSWORD, bearer, sign_in
from support.warning_factories import CITY, DISTRICT_A, NOON, add_registry, make_warning, warning_settings

from fangxun.core.accounts import create_user, signing_secret
from fangxun.warnings.acks.tokens import ack_token
from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.tables import Notification


@pytest.fixture
def config(settings):
    return warning_settings(settings, "http://127.0.0.1:9/hook")


@pytest.fixture
async def registry(sessions):
    async with sessions() as session, session.begin():
        return await add_registry(session)


async def test_an_editor_starts_a_drill_and_anyone_reads_its_report(client, tokens, registry):
    response = await client.post("/api/drills", json={"scope_code": DISTRICT_A, "levels": ["village", "township"],
                                                      "deadline": "45m"}, headers=bearer(tokens["editor"]))
    assert response.status == 201, await response.text()
    started = await response.json()
    assert response.headers["Location"] == f"/api/drills/{started['id']}"
    assert (started["scope_name"], started["levels"], started["channels"], started["deadline_minutes"],
            started["told"], started["units_without_persons"]) == ("甲区", ["village", "township"], ["hook"], 45, 5,
                                                                   ["410102002002"])
    listed = await (await client.get("/api/drills", headers=bearer(tokens["viewer"]))).json()
    assert [item["id"] for item in listed["items"]] == [started["id"]]
    one = await (await client.get(f"/api/drills/{started['id']}", headers=bearer(tokens["viewer"]))).json()
    assert one["told"] == 5 and one["finished_at"] is None
    report = await (await client.get(f"/api/drills/{started['id']}/report", headers=bearer(tokens["viewer"]))).json()
    assert report["totals"]["told"] == 5 and report["totals"]["waiting"] == 5
    assert [d["district_name"] for d in report["districts"]] == ["甲区"]
    xlsx = await client.get(f"/api/drills/{started['id']}/report?format=xlsx", headers=bearer(tokens["viewer"]))
    assert xlsx.status == 200 and "fangxun-drill-" in xlsx.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(await xlsx.read()))
    assert len(list(book["人员明细"].values)) == 1 + 5


@pytest.mark.parametrize("body, field", [({}, "scope_code"), ({"scope_code": CITY, "colour": "red"}, "colour"),
                                         ({"scope_code": CITY, "deadline": True}, "deadline"),
                                         ({"scope_code": CITY, "levels": [1]}, "levels"),
                                         ({"scope_code": CITY, "channels": "fax"}, "channels")])
async def test_bad_bodies_are_400_naming_the_field_and_start_nothing(client, tokens, registry, body, field):
    response = await client.post("/api/drills", json=body, headers=bearer(tokens["editor"]))
    assert response.status == 400
    assert (await response.json())["detail"].startswith(f"{field}：")
    assert (await (await client.get("/api/drills", headers=bearer(tokens["viewer"]))).json())["items"] == []


async def test_a_viewer_cannot_start_and_an_unknown_drill_is_404(client, tokens, registry):
    refused = await client.post("/api/drills", json={"scope_code": CITY}, headers=bearer(tokens["viewer"]))
    assert refused.status == 403
    assert (await client.get("/api/drills/99/report", headers=bearer(tokens["viewer"]))).status == 404


async def test_the_pages_start_a_drill_and_show_its_report(client, sessions, registry):
    async with sessions() as session, session.begin():
        await create_user(session, "duty01", PASSWORD, "editor")
        await create_user(session, "view01", PASSWORD, "viewer")
    assert (await sign_in(client, "duty01", PASSWORD)).status == 303
    page = await (await client.get("/drills")).text()
    assert "开始叫应演练" in page and 'name="scope_code"' in page and "还没有演练" in page
    missing = await client.post("/drills", data={"levels": "village", "channels": "hook", "deadline": "30"})
    assert missing.status == 400 and "请选择一个演练范围" in await missing.text()
    posted = await client.post("/drills", data={"scope_code": CITY, "levels": "district", "channels": "hook",
                                                "deadline": "20m"}, allow_redirects=False)
    assert posted.status == 303
    report = await (await client.get(posted.headers["Location"])).text()
    assert "【演练】测试市叫应演练" in report and "本次为演练，不是真实预警" in report and "甲区区长" in report
    await client.post("/logout")
    assert (await sign_in(client, "view01", PASSWORD)).status == 303
    viewer = await (await client.get("/drills")).text()
    assert "只有查看权限" in viewer and 'id="drill-form"' not in viewer
    refused = await client.post("/drills", data={"scope_code": CITY, "levels": "district", "channels": "hook"})
    assert refused.status == 403


async def _token(sessions, **where) -> str:
    async with sessions() as session:
        query = select(Notification).order_by(Notification.id)
        for key, value in where.items():
            query = query.where(getattr(Notification, key) == value)
        row = (await session.execute(query)).scalars().first()
        return ack_token(await signing_secret(session), row.idempotency_key)


async def test_the_ack_page_of_a_drill_says_it_is_a_drill(client, sessions, tokens, registry):
    await client.post("/api/drills", json={"scope_code": DISTRICT_A, "levels": "village"},
                      headers=bearer(tokens["editor"]))
    token = await _token(sessions, recipient_name="东村支书")
    page = await (await client.get(f"/ack/{token}")).text()
    assert "防汛演练 · 叫应确认" in page and "【演练】甲区防汛叫应演练" in page
    assert "本条为防汛叫应演练消息，不是真实预警，除回复确认（叫应）外无需采取任何行动。" in page
    assert "您是 东村 防汛责任人" in page and "{ack_url}" not in page and "预警叫应确认" not in page
    answered = await (await client.post(f"/ack/{token}")).text()
    assert "已确认收到" in answered


async def test_the_ack_page_of_an_exercise_warning_is_marked(client, sessions, config, registry):
    await ingest(sessions, make_warning(status="Exercise"), config, NOON)
    token = await _token(sessions, recipient_kind="person")
    page = await (await client.get(f"/ack/{token}")).text()
    assert "防汛演练 · 叫应确认" in page and "【演练】郑州市气象台发布暴雨红色预警信号" in page
    assert "【演练】暴雨红色预警" in page and "不是真实预警" in page


async def test_an_exercise_is_marked_in_the_feed_and_on_the_board(client, sessions, config, tokens, registry):
    result = await ingest(sessions, make_warning(status="Exercise"), config, NOON)
    feed = await (await client.get("/cap/feed.xml", headers=bearer(tokens["viewer"]))).text()
    assert "<title>【演练】郑州市气象台发布暴雨红色预警信号</title>" in feed and "<status>Exercise</status>" in feed
    threads = await (await client.get("/api/board/threads", headers=bearer(tokens["viewer"]))).json()
    thread = next(item for item in threads["threads"] if item["thread_id"] == result.warning.id)
    assert thread["headline"] == "【演练】郑州市气象台发布暴雨红色预警信号" and thread["exercise"] is True
    timeline = await (await client.get(f"/api/board/threads/{result.warning.id}",
                                       headers=bearer(tokens["viewer"]))).json()
    assert [message["headline"] for message in timeline["timeline"]] == ["【演练】郑州市气象台发布暴雨红色预警信号"]
    assert timeline["timeline"][0]["exercise"] is True
