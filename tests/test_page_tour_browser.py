"""Every signed-in page a duty officer opens, in headless Chromium at a desk's 1366×900 and a phone's 390×844, on
the demo registry with a red warning over 金水区 and its event: each shows its own heading and content, fits the
screen's width, logs no console error and loads nothing from outside the service."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from support.api_fixtures import START
from support.browser import ARTIFACTS, Watch, chromium, served, sign_in
from support.demo_warning import demo_with_red_warning

from fangxun.core.accounts import Principal
from fangxun.core.clock import Clock
from fangxun.core.db import create_engine, session_factory
from fangxun.settings import load_settings
from fangxun.warnings.events.journal import EntryFields, add_entry

USER = "duty05"
JINSHUI = "410105000000"
VIEWPORTS = {"desk": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


async def _demo_database(url: str) -> dict:
    """The demo registry, an editor, a red 暴雨 warning over 金水区 that opened an event, and a journal entry."""
    engine = create_engine(url)
    try:
        settings = load_settings()
        result = await demo_with_red_warning(engine, USER, "editor", START - timedelta(minutes=30), "tour-red")
        async with session_factory(engine)() as session, session.begin():
            fields = EntryFields(department=None, unit_code=JINSHUI, corrects_id=None, action="巡查",
                                 text="金水区已组织巡查积水点", figures={})
            await add_entry(session, result.event_id, fields, Principal(name=f"user:{USER}", role="editor"),
                            settings, START - timedelta(minutes=10))
        return {"warning_id": result.warning.id, "event_id": result.event_id}
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """The service (no dispatcher) on a SQLite file holding the demo registry, the warning and its event."""
    url = f"sqlite:///{tmp_path_factory.mktemp('tour')}/demo.db"
    facts = asyncio.run(_demo_database(url))
    assert facts["event_id"] is not None
    with served(url, load_settings(), Clock(fixed=START)) as base:
        yield base, facts


def _pages(facts: dict) -> list[tuple[str, str, str, str]]:
    """(path, selector of the page's own content, text it must show, name) for each page of the tour."""
    event = facts["event_id"]
    return [
        ("/events", "main", "2026年6月1日降雨过程", "events"),
        (f"/events/{event}", "ol.timeline", "金水区已组织巡查积水点", "event"),
        (f"/events/{event}/journal", "form", "区划", "journal_form"),
        (f"/units/{JINSHUI}", "main", "金水区", "unit"),
        ("/warnings/new", "form", "录入预警", "warning_entry"),
        (f"/board?warning={facts['warning_id']}", "#groups > details.group", "金水区", "board"),
        ("/map", "html[data-map-ready='true']", "图例", "map"),
        ("/", "#in-force", "生效中的预警", "overview"),
    ]


@pytest.mark.parametrize("screen", sorted(VIEWPORTS))
def test_each_page_shows_its_content_and_fits_the_screen(service, screen):
    base, facts = service
    watch = Watch()
    with chromium() as browser:
        page = browser.new_page(viewport=VIEWPORTS[screen], locale="zh-CN")
        watch(page)
        page.goto(f"{base}/login")
        assert page.locator("#username").is_visible() and page.locator("#password").is_visible()
        assert page.evaluate("() => document.documentElement.scrollWidth") <= VIEWPORTS[screen]["width"]
        sign_in(page, base, "/", USER, "#in-force")
        for path, ready, text, name in _pages(facts):
            page.goto(f"{base}{path}")
            page.wait_for_selector(ready, timeout=30_000)
            shown = page.locator("body").inner_text()
            assert text in shown, (path, text)
            if name == "map":  # the full-screen map keeps its panel's way back instead of the header
                assert page.locator("a[href='/']").get_by_text("返回概况").count() == 1
            else:
                for nav in ("概况", "值班图", "值班看板", "事件", "录入预警"):
                    assert page.locator("header nav").get_by_text(nav, exact=True).count() == 1, (path, nav)
            wide = page.evaluate("() => document.documentElement.scrollWidth")
            assert wide <= VIEWPORTS[screen]["width"], (path, wide)
            page.screenshot(path=str(ARTIFACTS / f"tour_{name}_{screen}.png"))
    assert watch.outside == [] and watch.failed == [] and watch.errors == []
