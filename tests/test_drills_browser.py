"""The duty room's drill page in headless Chromium at 1366×900 and 390×844, cut off from the network: the scope
picked by name with the unit picker (two 新华路街道 told apart by district), levels and deadline chosen, the drill
started and its report shown per district, marked 【演练】; a form without a scope shows the error and starts nothing."""

from __future__ import annotations

import asyncio

import pytest
from support.api_fixtures import PASSWORD, START
from support.browser import ARTIFACTS, Watch, chromium, served, sign_in
from support.entry_registry import XINHUA_B, add_entry_registry, entry_settings

from fangxun.core.accounts import create_user
from fangxun.core.clock import Clock
from fangxun.core.db import create_engine, session_factory
from fangxun.core.migrate import upgrade
from fangxun.settings import load_settings

USER = "duty07"
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


async def _database(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
        async with session_factory(engine)() as session, session.begin():
            await add_entry_registry(session)
            await create_user(session, USER, PASSWORD, "editor")
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('drills')}/drills.db"
    asyncio.run(_database(url))
    settings = entry_settings(load_settings())
    with served(url, settings, Clock(fixed=START, zone=settings.registry.timezone)) as base:
        yield base


@pytest.mark.parametrize("screen", sorted(VIEWPORTS))
def test_a_drill_is_started_from_the_page_and_its_report_shown(service, screen):
    base = service
    watch = Watch()
    with chromium() as browser:
        page = browser.new_page(viewport=VIEWPORTS[screen], locale="zh-CN")
        watch(page)
        sign_in(page, base, "/drills", USER, "#drill-form")
        assert page.locator("header nav a[href='/drills']").is_visible()
        # No scope picked: the error above the form, nothing started.
        page.click("#drill-submit")
        page.wait_for_selector("#drill-error")
        assert "请选择一个演练范围" in page.locator("#drill-error").inner_text()
        # The form comes back as the answer 400: the one message the console shows.
        assert watch.errors == ["Failed to load resource: the server responded with a status of 400 (Bad Request)"]
        watch.errors.clear()
        before = page.request.get(f"{base}/api/drills").json()["items"]

        page.click("#drill-scope-search")
        page.keyboard.type("新华")
        page.wait_for_selector("#drill-scope-matches li.unit-picker-match >> nth=1")
        matches = page.locator("#drill-scope-matches li.unit-picker-match")
        assert [" ".join(text.split()) for text in matches.all_inner_texts()] == [
            "甲区 · 新华路街道 乡镇街道", "乙区 · 新华路街道 乡镇街道"]
        matches.nth(1).click()
        assert page.locator("#drill-scope input[name=scope_code]").evaluate_all(
            "(inputs) => inputs.map((input) => input.value)") == [XINHUA_B]
        page.uncheck("input[name=levels][value=village]")
        page.fill("#deadline", "45m")
        page.screenshot(path=str(ARTIFACTS / f"drills_form_{screen}.png"), full_page=True)
        page.click("#drill-submit")
        page.wait_for_url(f"{base}/drills/*")
        drill_id = int(page.url.rsplit("/", 1)[1])
        heading = page.locator(".drill-report h2").inner_text()
        assert heading == f"【演练】新华路街道叫应演练（编号 {drill_id}）"
        assert "本次为演练，不是真实预警" in page.locator(".drill-report").inner_text()
        rows = [[cell.strip() for cell in row.split("\t")]
                for row in page.locator("#drill-districts tbody tr").all_inner_texts()]
        assert rows[0][:3] == ["乙区", "1", "0"] and rows[-1][:2] == ["合计", "1"]
        assert "乙区新华路街道主任" in page.locator("#drill-missing").inner_text()
        drill = page.request.get(f"{base}/api/drills/{drill_id}").json()
        assert (drill["scope_code"], drill["levels"], drill["deadline_minutes"]) == (
            XINHUA_B, ["township", "district", "desk"], 45)
        assert len(page.request.get(f"{base}/api/drills").json()["items"]) == len(before) + 1
        page.screenshot(path=str(ARTIFACTS / f"drills_report_{screen}.png"), full_page=True)
        problems = (list(watch.outside), list(watch.failed), list(watch.errors))
    assert problems == ([], [], [])
