"""The event page's response desk in headless Chromium at 1366×900 and 390×844: the live proposal and the level in
force as worded, a decision recorded through the form shown at once with its notice's 叫应, a refused decision
named at its field, print without the form; no console error (but Chromium's note of the refused form's 409), nothing loaded from outside the service."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

import pytest
from support.api_fixtures import PASSWORD
from support.browser import ARTIFACTS, Watch, chromium, served, sign_in
from support.response_story import RULE, red_over_a_street
from support.tree import add_units

from fangxun.core.accounts import create_user
from fangxun.core.clock import Clock
from fangxun.core.db import create_engine, session_factory
from fangxun.core.migrate import upgrade
from fangxun.settings import load_settings

USER = "duty05"
# The departments with actions at Ⅱ级 in the default configuration: each desk is told.
TOLD_AT_II = 9
REFUSED = "Failed to load resource: the server responded with a status of 409 (Conflict)"
DESKTOP, PHONE = {"width": 1366, "height": 900}, {"width": 390, "height": 844}


async def _database(url: str) -> int:
    engine = create_engine(url)
    try:
        await upgrade(engine)
        async with session_factory(engine)() as session, session.begin():
            await add_units(session)
            event_id, _ = await red_over_a_street(session, datetime.now(UTC))
            await create_user(session, USER, PASSWORD, "editor")
            return event_id
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('response')}/response.db"
    event_id = asyncio.run(_database(url))
    settings = load_settings()
    with served(url, settings, Clock(zone=settings.registry.timezone)) as base:
        yield base, event_id


def _text(page, selector: str) -> str:
    return " ".join(page.locator(selector).inner_text().split())


def _counts(item) -> dict[str, str]:
    return {key: item.locator(f"[data-count='{key}'] b").inner_text()
            for key in ("told", "acknowledged", "waiting", "escalated")}


def test_the_desk_records_a_decision_on_a_desktop_and_a_phone(service):
    base, event_id = service
    path = f"/events/{event_id}"
    watch = Watch()
    with chromium() as browser:
        # 1366×900: the proposal is a proposal; the form, set to it, records the decision.
        page = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
        watch(page)
        sign_in(page, base, path, USER, "#response")
        assert _text(page, "#current-level") == "当前：未启动应急响应"
        assert _text(page, "#proposal-text") == "建议启动Ⅱ级应急响应（尚未决定）"
        assert _text(page, "#proposal-rule") == RULE
        assert _text(page, "#proposal-districts tbody") == "甲区 25.0%"
        assert page.locator("#decision-action").input_value() == "activate"
        assert page.locator("#decision-level").input_value() == "II"
        assert page.locator("#decision-form").is_visible() and page.locator("#proposal").is_visible()
        page.fill("#decision-decided_by", "张三")
        page.fill("#decision-note", "会商决定启动")
        page.click("#decision-form button[type=submit]")
        page.wait_for_url(re.compile(r".*#response-decision-\d+$"))
        assert re.fullmatch(r"当前：Ⅱ级应急响应（\d{4}-\d\d-\d\d \d\d:\d\d 由 张三 决定）", _text(page, "#current-level"))
        assert _text(page, "#proposal-text") == "系统建议Ⅱ级应急响应，与当前响应一致"
        first = page.locator(".decision-list > li").first
        assert "启动Ⅱ级应急响应" in first.inner_text() and "会商决定启动" in first.inner_text()
        assert _counts(first) == {"told": str(TOLD_AT_II), "acknowledged": "0", "waiting": str(TOLD_AT_II),
                                  "escalated": "0"}
        assert first.locator(".unanswered li").count() == TOLD_AT_II
        assert first.locator("a.board-link").get_attribute("href").startswith("/board#warning-")
        assert page.locator("li.item-decision .badge").inner_text() == "启动Ⅱ级应急响应"
        page.screenshot(path=str(ARTIFACTS / "event_response_desktop.png"), full_page=True)

        page.emulate_media(media="print")
        assert not page.locator("#decision-form").is_visible() and not page.locator("a.board-link").is_visible()
        assert page.locator("#proposal").is_visible() and page.locator(".decision-list").is_visible()
        page.emulate_media(media="screen")

        # 390×844: the level decided on the desktop; a refused decision is named at its field, then one is taken.
        phone = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True).new_page()
        watch(phone)
        sign_in(phone, base, path, USER, "#response")
        assert "由 张三 决定" in _text(phone, "#current-level")
        assert phone.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        box = phone.locator("#decision-form button[type=submit]").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        phone.select_option("#decision-action", "upgrade")
        phone.select_option("#decision-level", "IV")
        phone.fill("#decision-decided_by", "李四")
        assert watch.errors == []
        phone.click("#decision-form button[type=submit]")
        phone.wait_for_selector("#error-level")
        # The refused form comes back as a 409 page: Chromium logs that status, the page itself has no error.
        assert watch.errors == [REFUSED]
        watch.errors.clear()
        assert "提升应至更高级别" in _text(phone, "#error-level") and phone.locator("#error-level").is_visible()
        assert phone.locator("#decision-level").get_attribute("aria-invalid") == "true"
        assert phone.locator(".decision-list > li").count() == 1
        assert phone.locator("#decision-decided_by").input_value() == "李四"
        phone.select_option("#decision-action", "downgrade")
        phone.select_option("#decision-level", "III")
        phone.click("#decision-form button[type=submit]")
        phone.wait_for_url(re.compile(r".*#response-decision-\d+$"))
        assert re.fullmatch(r"当前：Ⅲ级应急响应（.* 由 李四 决定）", _text(phone, "#current-level"))
        assert _text(phone, "#proposal-text") == "建议提升至Ⅱ级应急响应（尚未决定）"
        assert phone.locator(".decision-list > li").count() == 2
        newest = phone.locator(".decision-list > li").first
        assert "降低至Ⅲ级应急响应" in newest.inner_text() and "决策人：李四" in newest.inner_text()
        assert _counts(newest)["told"] != "0"
        # The Ⅱ notice's unsent rows were cancelled: the Ⅲ notice tells those desks again.
        earlier = phone.locator(".decision-list > li").nth(1)
        assert _counts(earlier)["told"] == "0"
        assert earlier.locator("[data-count='cancelled'] b").inner_text() == str(TOLD_AT_II)
        assert phone.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        phone.screenshot(path=str(ARTIFACTS / "event_response_phone.png"), full_page=True)
        problems = (list(watch.outside), list(watch.failed), list(watch.errors))
    assert problems == ([], [], [])
