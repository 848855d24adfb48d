"""The warning entry page and the journal form's unit picker in headless Chromium at 1366×900 and 390×844, cut off
from the network: two 新华路街道 told apart by their district, the preview equal to the API's dry run, the warning
posted and its board opened; a polygon drawn on the map and previewed; a journal entry's unit found by name."""

from __future__ import annotations

import asyncio
import json

import pytest
from support.api_fixtures import PASSWORD, START
from support.browser import ARTIFACTS, Watch, chromium, served, sign_in
from support.entry_registry import XINHUA_A, XINHUA_B, add_entry_registry, entry_settings

from fangxun.core.accounts import create_user
from fangxun.core.clock import Clock
from fangxun.core.db import create_engine, session_factory
from fangxun.core.migrate import upgrade
from fangxun.settings import load_settings
from fangxun.warnings.events.tables import Event

USER = "duty05"
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
EXPIRES = "2026-06-01T16:00"   # six hours after the service's clock (START, 10:00 Beijing time)
CSRF = {"X-Requested-With": "fangxun"}
READY = "html[data-entry-ready='true']"


async def _database(url: str) -> int:
    engine = create_engine(url)
    try:
        await upgrade(engine)
        async with session_factory(engine)() as session, session.begin():
            await add_entry_registry(session)
            await create_user(session, USER, PASSWORD, "editor")
            event = Event(kind="rainfall", name="6月1日降雨过程", status="open", started_at=START,
                          opened_by="rule:rainfall")
            session.add(event)
            await session.flush()
            return event.id
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('entry')}/entry.db"
    event_id = asyncio.run(_database(url))
    settings = entry_settings(load_settings())
    with served(url, settings, Clock(fixed=START, zone=settings.registry.timezone)) as base:
        yield base, event_id


def _dry_run(page, base: str, form: dict) -> dict:
    """The API's dry run of the same warning, asked with the page's session."""
    response = page.request.post(f"{base}/api/warnings?dry_run=1", data=json.dumps(form),
                                 headers={**CSRF, "Content-Type": "application/json"})
    assert response.status == 200, response.text()
    return response.json()


def _api_form(units=(), polygon=None) -> dict:
    areas = {"unit_codes": list(units)} if units else {}
    if polygon:
        areas["polygon"] = polygon
    return {"event": "暴雨", "colour": "red", "onset": "2026-06-01T10:00", "expires": EXPIRES,
            "description": "未来3小时降雨量将达100毫米以上。", "areas": areas}


def _shown_counts(page) -> tuple[list[list[str]], list[list[str]]]:
    """The preview's tables: per level (without the total) and per department, as the cells' text."""
    def rows(selector: str) -> list[list[str]]:
        return [[cell.strip() for cell in row.split("\t")] for row in page.locator(selector).all_inner_texts()]
    return (rows("#preview-levels tbody tr:not([data-level=total])"), rows("#preview-departments tbody tr"))


def _expected_counts(dry: dict) -> tuple[list[list[str]], list[list[str]]]:
    told = dry["recipients"]
    return ([[level["level_label"], str(level["units"]), str(level["persons"]), str(level["notifications"])]
             for level in told["by_level"]],
            [[department["name"], str(department["notifications"])] for department in told["by_department"]])


def _type(page, selector: str, text: str) -> None:
    page.click(selector)
    page.keyboard.type(text)


@pytest.mark.parametrize("screen", sorted(VIEWPORTS))
def test_a_warning_is_entered_by_picking_units_previewed_and_posted(service, screen):
    base, _ = service
    watch = Watch()
    with chromium() as browser:
        page = browser.new_page(viewport=VIEWPORTS[screen], locale="zh-CN")
        watch(page)
        sign_in(page, base, "/warnings/new", USER, READY)
        assert page.locator("header nav a[href='/warnings/new']").is_visible()
        # Previewed too early: the API's errors, each beside its field, one after the other.
        for field, words, fix in (("colour", "必须选择预警颜色", lambda: page.click("label.colour-red")),
                                  ("expires", "必须填写失效时间", lambda: page.fill("#expires", EXPIRES)),
                                  ("areas", "至少给出 unit_codes 或 polygon 之一", None)):
            page.click("#preview-button")
            error = page.locator(f"[data-error-for='{field}']")
            error.wait_for()
            assert words in error.inner_text() and page.locator(".field-error:not([hidden])").count() == 1
            assert page.locator(f"[data-field='{field}']").evaluate("(node) => node.classList.contains('has-error')")
            if fix:
                fix()
        assert page.locator("#entry-preview").is_hidden()

        # Two towns of one name: each shown with its district.
        _type(page, "#entry-units-search", "新华")
        page.wait_for_selector("#entry-units-matches li.unit-picker-match >> nth=1")
        matches = page.locator("#entry-units-matches li.unit-picker-match")
        assert [" ".join(text.split()) for text in matches.all_inner_texts()] == [
            "甲区 · 新华路街道 乡镇街道", "乙区 · 新华路街道 乡镇街道"]
        matches.nth(1).click()
        chips = page.locator("#entry-units .unit-picker-chip .unit-picker-place")
        assert chips.all_inner_texts() == ["乙区 · 新华路街道"]
        assert page.locator("#entry-units input[name=unit_codes]").evaluate_all(
            "(inputs) => inputs.map((input) => input.value)") == [XINHUA_B]
        assert page.locator("#entry-units-matches").is_hidden()

        # The tree: 甲区 opened, 二号镇 picked, named with its district.
        page.click("#entry-units .unit-picker-browse")
        page.click("#entry-units-tree button[aria-label='展开 甲区']")
        page.click("#entry-units-tree button[aria-label='选择 甲区 · 二号镇']")
        assert chips.all_inner_texts() == ["乙区 · 新华路街道", "甲区 · 二号镇"]

        page.fill("#description", "未来3小时降雨量将达100毫米以上。")
        assert page.locator("#confirm-button").is_hidden()
        page.click("#preview-button")
        page.wait_for_selector("#entry-preview:not([hidden])")
        dry = _dry_run(page, base, _api_form([XINHUA_B, "410102002000"]))
        assert _shown_counts(page) == _expected_counts(dry)
        assert [row[0] for row in _shown_counts(page)[0]] == ["乡镇街道", "村社区"]
        assert len(_shown_counts(page)[1]) == 3   # 市水利局, 市应急管理局, 市气象局
        summary = page.locator("#preview-summary").inner_text()
        assert f"将发出 {dry['recipients']['notifications']} 条通知" in summary and "辖区内" in summary
        assert "影响区域：乙区新华路街道、甲区二号镇" in page.locator("#preview-headline").inner_text()
        page.screenshot(path=str(ARTIFACTS / f"warning_entry_preview_{screen}.png"), full_page=True)

        # A change after the preview asks for it again before anything can be posted.
        page.fill("#instruction", "立即转移低洼地带人员。")
        assert page.locator("#entry-preview").is_hidden() and "请重新预览" in page.locator("#preview-state").inner_text()
        page.click("#preview-button")
        page.wait_for_selector("#entry-preview:not([hidden])")

        page.click("#confirm-button")
        page.wait_for_url(f"{base}/board?warning=*")
        warning_id = int(page.url.rsplit("=", 1)[1])
        thread = page.request.get(f"{base}/api/warnings/{warning_id}").json()
        message = thread["messages"][0]
        assert (message["colour"], message["source"], message["entered_by"]) == ("red", "manual", f"user:{USER}")
        assert message["instruction"] == "立即转移低洼地带人员。"
        # The board opens on the new warning's thread: its message in the timeline, its recipients' groups.
        page.wait_for_selector(f"#timeline li[data-message-id='{warning_id}']")
        page.wait_for_selector("#groups > details.group")
        problems = (list(watch.outside), list(watch.failed), list(watch.errors))
    assert problems == ([], [], [])


@pytest.mark.parametrize("screen", sorted(VIEWPORTS))
def test_an_area_drawn_on_the_map_is_previewed(service, screen):
    base, _ = service
    watch = Watch()
    with chromium() as browser:
        page = browser.new_page(viewport=VIEWPORTS[screen], locale="zh-CN")
        watch(page)
        sign_in(page, base, "/warnings/new", USER, READY)
        page.wait_for_selector(".district-name >> nth=1")   # the districts outlined, with their names
        assert sorted(page.locator(".district-name").all_inner_texts()) == ["乙区", "甲区"]

        page.locator("#entry-map").scroll_into_view_if_needed()
        box = page.locator("#entry-map").bounding_box()
        x, y, w, h = box["x"], box["y"], box["width"], box["height"]
        corners = [(x + w * 0.3, y + h * 0.3), (x + w * 0.6, y + h * 0.3), (x + w * 0.6, y + h * 0.6),
                   (x + w * 0.3, y + h * 0.6)]
        page.click("#draw-start")
        for cx, cy in corners:
            page.mouse.click(cx, cy)
        assert "已点 4 个顶点" in page.locator("#draw-status").inner_text()
        if screen == "desktop":
            page.click("path.draw-first")   # the first point, drawn larger, closes it
        else:
            page.click("#draw-finish")
        drawn = json.loads(page.locator("#polygon").input_value())
        assert drawn["type"] == "Polygon" and len(drawn["coordinates"][0]) == 5
        assert drawn["coordinates"][0][0] == drawn["coordinates"][0][-1]
        assert "已划定一个区域（4 个顶点）" in page.locator("#draw-status").inner_text()

        page.click("label.colour-orange")
        page.fill("#expires", EXPIRES)
        page.click("#preview-button")
        page.wait_for_selector("#entry-preview:not([hidden])")
        form = {**_api_form(polygon=drawn), "colour": "orange"}
        dry = _dry_run(page, base, form)
        assert dry["units"] and _shown_counts(page) == _expected_counts(dry)
        assert "手工划定区域" in page.locator("#preview-headline").inner_text()
        page.screenshot(path=str(ARTIFACTS / f"warning_entry_drawn_{screen}.png"), full_page=True)

        page.click("#draw-clear")
        assert page.locator("#polygon").input_value() == "" and page.locator("#entry-preview").is_hidden()
        problems = (list(watch.outside), list(watch.failed), list(watch.errors))
    assert problems == ([], [], [])


@pytest.mark.parametrize("screen", sorted(VIEWPORTS))
def test_the_journal_form_finds_its_unit_by_name(service, screen):
    base, event_id = service
    watch = Watch()
    path = f"/events/{event_id}/journal"
    action = f"新华路沿线转移群众（{screen}）"
    with chromium() as browser:
        page = browser.new_page(viewport=VIEWPORTS[screen], locale="zh-CN")
        watch(page)
        sign_in(page, base, path, USER, "#unit-picker")
        _type(page, "#unit-picker-search", "新华")
        page.wait_for_selector("#unit-picker-matches li.unit-picker-match >> nth=1")
        page.locator("#unit-picker-matches li", has_text="甲区 · 新华路街道").click()
        assert page.locator("#unit-picker .unit-picker-place").all_inner_texts() == ["甲区 · 新华路街道"]
        page.fill("#action", action)
        page.screenshot(path=str(ARTIFACTS / f"journal_unit_picker_{screen}.png"), full_page=True)
        page.click(".journal-form button[type=submit]")
        page.wait_for_url(f"{base}/events/{event_id}#entry-*")
        entries = page.request.get(f"{base}/api/events/{event_id}/journal").json()["entries"]
        entry = next(entry for entry in entries if entry["action"] == action)
        assert entry["unit_code"] == XINHUA_A
        problems = (list(watch.outside), list(watch.failed), list(watch.errors))
    assert problems == ([], [], [])
