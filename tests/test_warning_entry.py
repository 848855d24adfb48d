"""The warning entry page (/warnings/new): who may open it, the preview equal to the API's dry run, bad fields refused
by name with nothing written, and the confirmed warning stored as the API stores it, then its board."""

from __future__ import annotations

import json

import pytest
from aiohttp import FormData
from sqlalchemy import select
from support.api_fixtures import PASSWORD, bearer, sign_in
from support.entry_registry import XINHUA_A, XINHUA_B, add_entry_registry, entry_settings
from support.warning_api import stored, zz
from support.warning_factories import DISTRICT_A, DISTRICT_B

from fangxun.api.routes_warning_entry import error_slot
from fangxun.core.accounts import create_user
from fangxun.warnings.tables import Warning

# 10:00 Beijing time on the suite's day is the clock: six hours from now.
FORM = {"event": "暴雨", "colour": "red", "status": "Actual", "onset": "2026-06-01T10:00",
        "expires": "2026-06-01T16:00", "headline": "", "description": "未来3小时降雨量将达100毫米以上。",
        "instruction": "立即转移低洼地带人员。", "area_description": "", "polygon": ""}
# The north of 甲区 (its 新华路街道) and a sliver of 乙区's, drawn.
SQUARE = {"type": "Polygon", "coordinates": [[[113.2, 34.6], [114.1, 34.6], [114.1, 34.9], [113.2, 34.9],
                                              [113.2, 34.6]]]}
BOW_TIE = {"type": "Polygon", "coordinates": [[[113, 34], [114, 35], [114, 34], [113, 35], [113, 34]]]}


@pytest.fixture
def config(settings):
    return entry_settings(settings)


@pytest.fixture
async def registry(sessions):
    async with sessions() as session, session.begin():
        await add_entry_registry(session)


def form_data(units=(), **changes) -> FormData:
    """The page's form as the browser posts it: each picked unit one `unit_codes` value."""
    data = FormData()
    for name, value in {**FORM, **changes}.items():
        data.add_field(name, value)
    for code in units:
        data.add_field("unit_codes", code)
    return data


def api_form(units=(), polygon=None) -> dict:
    """The same warning as the API's hand-entry JSON."""
    areas = {"unit_codes": list(units)} if units else {}
    if polygon:
        areas["polygon"] = polygon
    return {"event": "暴雨", "colour": "red", "status": "Actual", "onset": FORM["onset"], "expires": FORM["expires"],
            "description": FORM["description"], "instruction": FORM["instruction"], "areas": areas}


async def signed_in(client, sessions, role: str = "editor") -> None:
    async with sessions() as session, session.begin():
        await create_user(session, f"{role}01", PASSWORD, role)
    assert (await sign_in(client, f"{role}01", PASSWORD)).status == 303


def test_each_error_goes_to_the_slot_of_its_field():
    assert error_slot("areas.unit_codes[1]") == "areas.unit_codes"
    assert error_slot("areas.polygon.coordinates[0][2]") == "areas.polygon"
    assert error_slot("areas") == "areas" and error_slot("areas.description") == "areas.description"
    assert error_slot("expires") == "expires" and error_slot("description") == "description"
    assert error_slot("urgent") == "" and error_slot("") == ""


async def test_the_page_renders_for_an_editor(client, sessions, registry):
    await signed_in(client, sessions)
    response = await client.get("/warnings/new")
    html = await response.text()
    assert response.status == 200
    assert '<form id="entry-form" method="post" action="/warnings/new"' in html
    assert '<option value="暴雨" selected>' in html and 'value="2026-06-01T10:00"' in html  # now, Beijing time
    assert 'class="unit-picker"' in html and 'id="entry-map"' in html and "预览通知范围" in html
    for script in ("/static/vendor/leaflet/leaflet.js", "/static/units/picker.js", "/static/warnings/draw.js",
                   "/static/warnings/entry.js"):
        assert f'<script src="{script}" defer></script>' in html
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "connect-src 'self'" in policy and "unsafe" not in policy
    assert '<a href="/warnings/new">录入预警</a>' in html   # in the navigation of every signed-in page
    assert '<a href="/warnings/new">录入预警</a>' in await (await client.get("/")).text()


async def test_a_viewer_is_refused_in_chinese_and_a_stranger_sent_to_sign_in(client, sessions, registry):
    signed_out = await client.get("/warnings/new", allow_redirects=False)
    assert signed_out.status == 303 and signed_out.headers["Location"] == "/login?next=/warnings/new"
    await signed_in(client, sessions, "viewer")
    page = await client.get("/warnings/new")
    assert page.status == 403 and "当前账号只有查看权限，不能录入预警（录入预警需要 editor 角色）" in await page.text()
    posted = await client.post("/warnings/new", data=form_data([DISTRICT_A]), allow_redirects=False)
    assert posted.status == 403 and "只有查看权限" in await posted.text()
    previewed = await client.post("/warnings/new/preview", data=form_data([DISTRICT_A]))
    assert previewed.status == 403 and (await previewed.json())["error"] == "forbidden"
    assert await stored(sessions) == (0, 0)


@pytest.mark.parametrize("units, changes, field, words", [
    ((), {}, "areas", "至少给出 unit_codes 或 polygon 之一"),
    ((DISTRICT_A,), {"expires": "2026-06-01T09:00"}, "expires", "失效时间必须晚于生效时间"),
    ((DISTRICT_A,), {"expires": ""}, "expires", "必须填写失效时间"),
    ((DISTRICT_A,), {"onset": "明天早上"}, "onset", "无法读取"),
    ((DISTRICT_A,), {"colour": ""}, "colour", "必须选择预警颜色"),
    ((DISTRICT_A,), {"colour": "紫"}, "colour", "无法识别"),
    ((DISTRICT_A,), {"event": "洪水"}, "event", "不在列表中"),
    ((DISTRICT_A,), {"status": "Real"}, "status", "无法识别"),
    ((DISTRICT_A,), {"headline": "暴" * 201}, "headline", "超过上限 200 字"),
    (("4101",), {}, "areas.unit_codes[0]", "不是 12 位统计用区划代码"),
    ((), {"polygon": json.dumps(BOW_TIE)}, "areas.polygon.coordinates[0]", "多边形无效：自相交"),
    ((), {"polygon": "[[113, 34"}, "areas.polygon", "所画区域无法读取"),
])
async def test_bad_fields_are_refused_by_name_and_nothing_is_written(client, sessions, registry, units, changes,
                                                                     field, words):
    await signed_in(client, sessions)
    previewed = await client.post("/warnings/new/preview", data=form_data(units, **changes))
    problem = await previewed.json()
    assert previewed.status == 200 and problem["valid"] is False and problem["error"] == "bad_input", problem
    assert problem["field"] == field and words in problem["detail"]
    posted = await client.post("/warnings/new", data=form_data(units, **changes), allow_redirects=False)
    html = await posted.text()
    assert posted.status == 400
    # the error beside its field, and what was typed kept
    assert f'data-error-for="{error_slot(field)}" role="alert">{problem["detail"]}</p>' in html.replace("&#39;", "'")
    assert FORM["description"] in html
    assert await stored(sessions) == (0, 0)


async def test_the_form_comes_back_with_the_units_picked_named_with_their_district(client, sessions, registry):
    await signed_in(client, sessions)
    response = await client.post("/warnings/new", data=form_data([XINHUA_A, XINHUA_B], expires=""),
                                 allow_redirects=False)
    html = await response.text()
    assert response.status == 400
    for code, place in ((XINHUA_A, "甲区 · 新华路街道"), (XINHUA_B, "乙区 · 新华路街道")):
        assert (f'<li class="unit-picker-chip" data-code="{code}"><span class="unit-picker-place">{place}</span>'
                f'<input type="hidden" name="unit_codes" value="{code}">') in html


async def test_the_preview_is_the_api_dry_run(client, sessions, tokens, registry):
    await signed_in(client, sessions)
    for units, polygon in (((XINHUA_A, DISTRICT_B), None), ((), SQUARE), ((XINHUA_B,), SQUARE)):
        page = await client.post("/warnings/new/preview",
                                 data=form_data(units, polygon=json.dumps(polygon) if polygon else ""))
        api = await client.post("/api/warnings", params={"dry_run": "1"}, json=api_form(units, polygon),
                                headers=bearer(tokens["editor"]))
        shown, expected = await page.json(), await api.json()
        assert page.status == api.status == 200 and shown["valid"] is shown["dry_run"] is expected["dry_run"] is True
        assert shown["recipients"] == expected["recipients"] and shown["units"] == expected["units"]
        assert shown["areas"] == expected["areas"] and shown["headline"] == expected["headline"]
    assert await stored(sessions) == (0, 0)


async def test_the_preview_counts_who_is_told_per_level_and_department(client, sessions, registry):
    await signed_in(client, sessions)
    # 甲区 with everything below it, and 乙区's 新华路街道; red: every level's 责任人 and three departments.
    shown = await (await client.post("/warnings/new/preview", data=form_data([DISTRICT_A, XINHUA_B]))).json()
    told = shown["recipients"]
    assert told["by_level"] == [
        {"level": "district", "level_label": "区县", "units": 1, "persons": 2, "notifications": 2},
        {"level": "township", "level_label": "乡镇街道", "units": 4, "persons": 5, "notifications": 5},
        {"level": "village", "level_label": "村社区", "units": 2, "persons": 2, "notifications": 2}]
    assert told["by_department"] == [{"key": "water", "name": "市水利局", "notifications": 1},
                                     {"key": "emergency", "name": "市应急管理局", "notifications": 1},
                                     {"key": "weather", "name": "市气象局", "notifications": 1}]
    assert told["notifications"] == 12 and told["persons"] == 9
    assert [area["description"] for area in shown["areas"]] == ["甲区、乙区新华路街道"]


async def test_confirming_stores_the_warning_as_the_api_does_and_opens_its_board(client, sessions, registry):
    await signed_in(client, sessions)
    data = form_data([XINHUA_A], polygon=json.dumps(SQUARE), area_description="新华路沿线")
    shown = await (await client.post("/warnings/new/preview", data=data)).json()
    response = await client.post("/warnings/new", data=form_data([XINHUA_A], polygon=json.dumps(SQUARE),
                                                                 area_description="新华路沿线"),
                                 allow_redirects=False)
    assert response.status == 303
    async with sessions() as session:
        warning = (await session.execute(select(Warning))).scalar_one()
    assert response.headers["Location"] == f"/board?warning={warning.id}"
    assert (warning.source, warning.entered_by, warning.sender, warning.msg_type) == ("manual", "user:editor01",
                                                                                    "duty@fangxun", "Alert")
    assert (warning.event, warning.colour, warning.status) == ("暴雨", "red", "active")
    assert warning.headline == "郑州市气象台发布暴雨红色预警信号"
    assert [area["description"] for area in warning.areas] == ["新华路沿线"]
    assert json.loads(warning.raw)["areas"] == {"unit_codes": [XINHUA_A], "polygon": SQUARE,
                                                "description": "新华路沿线"}
    assert await stored(sessions) == (1, shown["recipients"]["notifications"])


async def test_a_form_posted_from_another_site_is_refused(client, sessions, registry):
    await signed_in(client, sessions)
    for path in ("/warnings/new", "/warnings/new/preview"):
        response = await client.post(path, data=form_data([DISTRICT_A]), allow_redirects=False,
                                     headers={"Origin": "https://evil.example"})
        assert response.status == 403
    assert await stored(sessions) == (0, 0)


async def test_the_api_dry_run_stores_nothing_and_counts_what_the_post_sends(client, sessions, tokens, registry):
    headers = {**bearer(tokens["editor"]), "Content-Type": "application/cap+xml"}
    dry = await client.post("/api/warnings", params={"dry_run": "1"}, data=zz(), headers=headers)
    preview = await dry.json()
    assert dry.status == 200 and preview["dry_run"] is True and await stored(sessions) == (0, 0)
    # The districts the message names stand for everything below them, counted by the database.
    named = {unit["code"] for unit in preview["units"] if unit["subtree"]}
    assert named >= {DISTRICT_A, DISTRICT_B} and not {XINHUA_A, XINHUA_B} & named
    assert sum(preview["units_by_level"].values()) == preview["unit_count"] > len(preview["units"])
    posted = await (await client.post("/api/warnings", data=zz(), headers=headers)).json()
    assert posted["notifications"] == preview["recipients"]["notifications"]
    assert posted["units"] == preview["unit_count"]
    bad = await client.post("/api/warnings", params={"dry_run": "yes please"}, json=api_form([DISTRICT_A]),
                            headers=bearer(tokens["editor"]))
    assert bad.status == 400 and (await bad.json())["field"] == "dry_run"
    refused = await client.post("/api/warnings", params={"dry_run": "1"}, json=api_form([DISTRICT_A]),
                                headers=bearer(tokens["viewer"]))
    assert refused.status == 403 and await stored(sessions) == (1, posted["notifications"])
