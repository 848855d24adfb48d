"""The interface page /api/docs in headless Chromium, at a desk and on a phone: opened without signing in, its
tables of operations and schemas shown, nothing requested from outside, no CSP or console error."""

from __future__ import annotations

import asyncio
import json
from urllib.request import urlopen

import pytest
from support.browser import ARTIFACTS, Watch, chromium, served

from fangxun.core.clock import Clock
from fangxun.core.db import create_engine
from fangxun.core.migrate import upgrade
from fangxun.settings import load_settings


async def _database(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('docs')}/docs.db"
    asyncio.run(_database(url))
    settings = load_settings()
    with served(url, settings, Clock(zone=settings.registry.timezone)) as base:
        yield base


@pytest.mark.parametrize("width, height", [(1366, 900), (390, 844)])
def test_the_interface_page_shows_every_operation_without_signing_in(service, width, height):
    watch = Watch()
    with chromium() as browser:
        page = browser.new_page(viewport={"width": width, "height": height}, locale="zh-CN")
        watch(page)
        response = page.goto(f"{service}/api/docs")
        assert response.status == 200
        with urlopen(f"{service}/api/openapi.json") as reply:
            document = json.load(reply)
        operations = [(method.upper(), path) for path, item in document["paths"].items() for method in item]
        shown = page.locator(".op h3").all_inner_texts()
        for method, path in operations:
            assert any(text.startswith(method) and path in text for text in shown), (method, path)
        plans = page.locator("#post_plans")
        assert "登记预案" in plans.inner_text() and "PlanCreate" in plans.inner_text()
        page.locator("#post_plans a[href='#schema-PlanCreate']").click()
        assert "unit_code" in page.locator("#schema-PlanCreate").inner_text()
        # The page fits the phone: only the tables may scroll sideways, inside their own box.
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
        page.screenshot(path=str(ARTIFACTS / f"api_docs_{width}.png"))
        problems = (list(watch.outside), list(watch.failed), list(watch.errors))
    assert problems == ([], [], [])
