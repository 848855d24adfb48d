"""The duty map in headless Chromium against the real service on the demo registry, cut off from the network."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select, update
from support.api_fixtures import PASSWORD, START
from support.browser import ARTIFACTS, Watch, chromium, served, sign_in

from fangxun.core.accounts import create_user
from fangxun.core.clock import Clock
from fangxun.core.db import create_engine, session_factory
from fangxun.core.migrate import upgrade
from fangxun.demo.registry import load_demo
from fangxun.plans.models import AdminUnit, Contact
from fangxun.settings import load_settings

HOSTILE = '<img src=x onerror="window.__xss=1">王'
USER = "duty01"
# Functions, not expressions: Playwright evaluates a bare expression with eval, which the page's CSP forbids.
PATHS_ARE = "(count) => document.querySelectorAll('path.leaflet-interactive').length === count"


async def _demo_database(url: str, today) -> dict:
    """The demo registry with a user and one hostile contact name; returns the unit to search for."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
        async with session_factory(engine)() as session, session.begin():
            await load_demo(session, load_settings(), today)
            await create_user(session, USER, PASSWORD, "viewer")
            unique = (select(AdminUnit.name).where(AdminUnit.level == "village").group_by(AdminUnit.name)
                      .having(func.count() == 1).order_by(AdminUnit.name).limit(1)).scalar_subquery()
            target = (await session.execute(
                select(AdminUnit.code, AdminUnit.name).where(AdminUnit.name == unique))).one()
            contact_id = (await session.execute(
                select(Contact.id).where(Contact.unit_code == target.code).order_by(Contact.id).limit(1))).scalar_one()
            await session.execute(update(Contact).where(Contact.id == contact_id).values(name=HOSTILE))
            counts = dict((await session.execute(
                select(AdminUnit.level, func.count()).where(AdminUnit.geometry.is_not(None))
                .group_by(AdminUnit.level))).all())
        return {"code": target.code, "name": target.name, "counts": counts}
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """The service on a SQLite file holding the demo registry."""
    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder}/demo.db"
    target = asyncio.run(_demo_database(url, START.date()))
    with served(url, load_settings(), Clock(fixed=START)) as base:
        yield base, target


LEVEL_IS = "(level) => document.documentElement.getAttribute('data-map-level') === level"
# Every village path drawn lies in the view (with the margin the map asks for).
VILLAGES_IN_VIEW = """() => {
  const fm = window.FangxunMap, view = fm.map.getBounds().pad(0.2), layers = Object.values(fm.paged.units.byCode);
  return layers.length > 0 && layers.every((layer) => view.intersects(layer.getBounds()));
}"""
SETTLED = ("() => !window.FangxunMap.map._animatingZoom"
           " && !document.documentElement.hasAttribute('data-map-loading')")
ZOOM_ANIMATION_SEEN = """
window.fxZoomAnimated = false;
new MutationObserver(function (changes) {
  changes.forEach(function (change) {
    if (change.target.classList.contains('leaflet-zoom-anim')) { window.fxZoomAnimated = true; }
  });
}).observe(document, {attributes: true, attributeFilter: ['class'], subtree: true});
"""
SHOW_AT = "([lat, lon, zoom]) => window.FangxunMap.map.setView([lat, lon], zoom, {animate: false})"


def _interactive_paths(page) -> int:
    return page.locator("path.leaflet-interactive").count()


def _levels(page) -> dict[str, int]:
    return dict(page.evaluate("() => window.FangxunMap.config.paged.levels"))


def test_duty_map_pages_by_viewport_in_chromium(service):
    base, target = service
    watch = Watch()
    asked: list[str] = []
    sizes: list[int] = []
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")
        watch(page)
        page.add_init_script(ZOOM_ANIMATION_SEEN)
        page.on("request", lambda request: asked.append(request.url) if "/api/units.geojson" in request.url else None)
        page.on("response", lambda response: sizes.append(len(response.body()))
                if "/api/units.geojson" in response.url else None)
        sign_in(page, base, "/map", USER, "html[data-map-ready='true']")

        counts = target["counts"]
        levels = _levels(page)
        assert list(levels) == ["district", "township", "village"]
        # The whole city in view (zoom 10 here): all its townships are drawn, and no village was asked for.
        assert page.evaluate("() => window.FangxunMap.map.getZoom()") < levels["village"]
        page.wait_for_function(LEVEL_IS, arg="township")
        page.wait_for_function(PATHS_ARE, arg=counts["township"])
        # The townships, and the districts for the outlines over them; all for the view only.
        assert {parse_qs(urlsplit(url).query)["level"][0] for url in asked} == {"township", "district"}
        assert all("bbox=" in url for url in asked)
        # The page opens on the city without a zoom animation (Leaflet marks one on the map while it runs).
        assert page.evaluate("() => window.fxZoomAnimated") is False
        assert page.locator("#fx-level").inner_text() == "当前显示：乡镇街道（放大可看村社区）"
        # Zoomed out a step: the districts, once the load the opening view started has finished.
        page.wait_for_function(SETTLED)
        page.evaluate("() => window.FangxunMap.map.zoomOut(1, {animate: false})")
        page.wait_for_function(LEVEL_IS, arg="district")
        page.wait_for_function(PATHS_ARE, arg=counts["district"])
        assert not any("level=village" in url for url in asked)
        assert page.locator(".fx-cluster").count() > 0
        assert page.locator("#fx-legend").inner_text().count("示意边界（非真实界线）") == 1
        page.screenshot(path=str(ARTIFACTS / "coverage_map.png"))

        shelters = page.locator(".leaflet-control-layers-overlays label", has_text="避险安置点").locator("input")
        shelters.uncheck()
        assert page.locator(".fx-cluster, .fx-shelter").count() == 0
        shelters.check()
        assert page.locator(".fx-cluster, .fx-shelter").count() > 0

        # Zoomed in on the urban core: the villages of the view only, with the district outlines over them.
        asked.clear()
        page.evaluate(SHOW_AT, [34.757, 113.665, levels["village"] + 1])
        page.wait_for_function(LEVEL_IS, arg="village")
        villages = page.evaluate("() => Object.keys(window.FangxunMap.paged.units.byCode).length")
        assert 0 < villages < counts["village"] / 2
        assert page.evaluate(VILLAGES_IN_VIEW)
        assert any("level=village" in url and "bbox=" in url for url in asked)
        assert page.locator(".fx-place-village").count() > 0   # their names
        page.screenshot(path=str(ARTIFACTS / "coverage_map_villages.png"))

        page.fill("#fx-search-input", target["name"])
        page.locator("#fx-search-results li.fx-search-item").first.click()
        popup = page.locator(".leaflet-popup-content a.fx-sheet-link")
        popup.wait_for()
        text = page.locator(".leaflet-popup-content").inner_text()
        assert target["name"] in text and target["code"] in text and "示意边界（非真实界线）" in text
        assert HOSTILE in text   # shown as text, never parsed
        assert page.evaluate("window.__xss") is None
        assert page.evaluate("() => document.documentElement.getAttribute('data-map-level')") == "village"
        assert max(sizes) < 2_000_000
        page.screenshot(path=str(ARTIFACTS / "coverage_map_search.png"))

        with page.expect_navigation():
            popup.click()
        assert page.url == f"{base}/units/{target['code']}"
        assert HOSTILE in page.locator("main").inner_text()
        page.emulate_media(media="print")
        page.screenshot(path=str(ARTIFACTS / "unit_sheet_print.png"), full_page=True)
    assert watch.outside == [] and watch.failed == [] and watch.errors == []
