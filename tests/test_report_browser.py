"""The HTML annual report in headless Chromium: a signed-in user opens it from the service, its four SVG charts
render under the page's CSP, nothing is requested from outside and nothing fails."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from support.api_fixtures import PASSWORD
from support.browser import ARTIFACTS, Watch, chromium, served, sign_in
from support.report_year import YEAR, add_year

from fangxun.core.accounts import create_user
from fangxun.core.clock import Clock
from fangxun.core.db import create_engine, session_factory
from fangxun.core.migrate import upgrade
from fangxun.settings import load_settings

USER = "report01"
CHARTS = ("events_by_month", "warnings_by_month", "ack_times", "plans_by_district")


async def _database(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
        async with session_factory(engine)() as session, session.begin():
            await add_year(session, load_settings(), date(2026, 6, 1))
            await create_user(session, USER, PASSWORD, "viewer")
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('report')}/report.db"
    asyncio.run(_database(url))
    settings = load_settings()
    with served(url, settings, Clock(zone=settings.registry.timezone)) as base:
        yield base


def test_the_html_report_renders_with_its_charts(service):
    base = service
    watch = Watch()
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1100, "height": 1400}, locale="zh-CN")
        watch(page)
        sign_in(page, base, "/", USER, "main")
        response = page.goto(f"{base}/api/reports/annual?year={YEAR}&format=html")
        assert response.status == 200
        page.wait_for_selector("svg.chart")
        assert page.title() == "2025年防汛工作统计报告"
        assert "未发生因灾死亡" in page.locator("#summary").inner_text()
        for chart in CHARTS:
            svg = page.locator(f"svg[data-chart='{chart}']")
            assert svg.count() == 1
            box = svg.bounding_box()
            assert box["width"] > 300 and box["height"] > 100, (chart, box)
            assert svg.locator("rect").count() > 0, chart   # bars were drawn
        # July: the two rainstorm warnings W2 and W3 make the tallest column, its tooltip says so
        july = page.locator("svg[data-chart='warnings_by_month'] rect title", has_text="7月")
        assert july.count() == 1 and july.text_content() == "7月 气象预警：2"
        assert page.locator("section[data-table]").count() == 17
        page.screenshot(path=str(ARTIFACTS / "annual_report.png"), full_page=True)
        problems = (list(watch.outside), list(watch.failed), list(watch.errors))
    assert problems == ([], [], [])
