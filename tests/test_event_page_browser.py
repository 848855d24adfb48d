"""The event page in headless Chromium: the timeline and totals render, the journal form posts back to it, the
打印 button prints, and in print media the navigation is gone; nothing is loaded from outside the service."""

from __future__ import annotations

import asyncio

import pytest
from support.api_fixtures import PASSWORD
from support.browser import ARTIFACTS, Watch, chromium, served, sign_in
from support.event_story import build_story
from support.warning_factories import add_registry, warning_settings

from fangxun.core.accounts import create_user
from fangxun.core.clock import Clock
from fangxun.core.db import create_engine, session_factory
from fangxun.core.migrate import upgrade
from fangxun.settings import load_settings

USER = "duty03"
HOOK = "http://127.0.0.1:9/hook"  # no dispatcher runs: nothing is sent


def _settings():
    return warning_settings(load_settings(), HOOK)


async def _database(url: str):
    engine = create_engine(url)
    try:
        await upgrade(engine)
        async with session_factory(engine)() as session, session.begin():
            await add_registry(session)
            story = await build_story(session, _settings())
            await create_user(session, USER, PASSWORD, "editor")
            return story
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('event')}/event.db"
    story = asyncio.run(_database(url))
    settings = _settings()
    with served(url, settings, Clock(zone=settings.registry.timezone)) as base:
        yield base, story


def test_the_event_page_renders_prints_and_takes_a_report(service):
    base, story = service
    watch = Watch()
    path = f"/events/{story.event_id}"
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        watch(page)
        sign_in(page, base, path, USER, "ol.timeline")
        assert page.locator("ol.timeline > li.item").count() == 8
        assert page.locator("li.item-decision").inner_text().count("预警发布后 42 分钟决策") == 1
        assert page.locator("#totals tr[data-total='evacuated'] td.n").inner_text() == "320"
        assert page.locator(f"#entry-{story.entries['first']} .mark-corrected").is_visible()
        assert page.evaluate("() => window.__xss") is None
        for selector in ("header", "nav.top-nav", "#print-button"):
            assert page.locator(selector).is_visible(), selector
        page.screenshot(path=str(ARTIFACTS / "event_timeline.png"), full_page=True)

        # 打印 calls the browser's print (replaced here: headless Chromium has no dialog to show).
        page.evaluate("() => { window.print = () => { window.__printed = true; }; }")
        page.click("#print-button")
        assert page.evaluate("() => window.__printed") is True

        page.emulate_media(media="print")
        for selector in ("header", "nav.top-nav", "#print-button", ".toolbar", ".correct-link >> nth=0"):
            assert not page.locator(selector).is_visible(), selector
        assert page.locator("ol.timeline").is_visible() and page.locator("#totals").is_visible()
        assert page.evaluate("() => getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
        first = "getComputedStyle(document.querySelector('.item'))"
        assert page.evaluate(f"() => [{first}.breakInside, {first}.borderLeftColor]") == ["avoid", "rgb(0, 0, 0)"]
        assert page.evaluate("() => getComputedStyle(document.querySelector('.mark a')).color") == "rgb(0, 0, 0)"
        page.screenshot(path=str(ARTIFACTS / "event_timeline_print.png"), full_page=True)
        page.emulate_media(media="screen")

        page.click("a[href$='/journal']")
        page.wait_for_selector("form textarea#action")
        page.select_option("#department", "emergency")
        page.fill("#action", "启用城区地下通道封闭措施")
        page.fill("#roads_closed", "6")
        page.click(".journal-form button[type=submit]")
        page.wait_for_selector("ol.timeline")
        assert page.url.startswith(f"{base}{path}#entry-")
        added = page.locator("ol.timeline > li.item").last
        assert "启用城区地下通道封闭措施" in added.inner_text() and "封闭道路 6" in added.inner_text()
        assert page.locator("#totals tr[data-total='roads_closed'] td.n").inner_text() == "6"
        problems = (list(watch.outside), list(watch.failed), list(watch.errors))
    assert problems == ([], [], [])
