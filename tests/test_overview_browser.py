"""The overview and the duty map in headless Chromium on the demo registry with a red warning over 金水区, at a
desk's 1366×900 and a phone's 390×844: what is in force comes first, the map names its places by zoom and draws
the warning so that it cannot be taken for overdue plans; nothing is loaded from outside the service."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select
from support.api_fixtures import START
from support.browser import ARTIFACTS, Watch, chromium, served, sign_in
from support.demo_warning import demo_with_red_warning

from fangxun.core.accounts import signing_secret
from fangxun.core.clock import Clock
from fangxun.core.db import create_engine, session_factory
from fangxun.geo.coverage_map import STATUS_COLOURS, WARNING_NOTE
from fangxun.settings import load_settings
from fangxun.warnings.acks.acknowledging import acknowledge
from fangxun.warnings.acks.tokens import ack_token
from fangxun.warnings.tables import Notification

USER = "duty03"
ANSWERED = 40
VIEWPORTS = {"desk": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
ZOOM_OF = "() => window.FangxunMap.map.getZoom()"
SHOWN_LEVEL = ("() => ['district', 'township', 'village'].filter("
               "(level) => document.querySelectorAll('.fx-place-' + level).length > 0)")


async def _demo_database(url: str) -> dict:
    """The demo registry, a viewer, and a red 暴雨 warning over 金水区 issued 40 minutes ago, some answered."""
    engine = create_engine(url)
    try:
        issued = START - timedelta(minutes=40)
        result = await demo_with_red_warning(engine, USER, "viewer", issued, "jinshui-red")
        async with session_factory(engine)() as session, session.begin():
            secret = await signing_secret(session)
            keys = (await session.execute(select(Notification.idempotency_key).where(
                Notification.warning_id == result.warning.id).order_by(Notification.id).limit(ANSWERED))).scalars()
            for key in keys:
                await acknowledge(session, ack_token(secret, key), issued + timedelta(minutes=5), "page")
        return {"warning_id": result.warning.id, "notifications": result.notifications}
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """The service (no dispatcher) on a SQLite file holding the demo registry and the warning."""
    url = f"sqlite:///{tmp_path_factory.mktemp('overview')}/demo.db"
    facts = asyncio.run(_demo_database(url))
    with served(url, load_settings(), Clock(fixed=START)) as base:
        yield base, facts


@pytest.mark.parametrize("screen", sorted(VIEWPORTS))
def test_the_overview_puts_the_warning_in_force_first(service, screen):
    base, facts = service
    watch = Watch()
    with chromium() as browser:
        page = browser.new_page(viewport=VIEWPORTS[screen], locale="zh-CN")
        watch(page)
        sign_in(page, base, "/", USER, "#in-force")
        first = page.locator("main section").first
        assert first.get_attribute("id") == "in-force"
        card = first.locator("article.warning")
        assert card.count() == 1
        text = card.inner_text()
        assert "暴雨红色预警" in text and "影响区域：金水区" in text and "发布：2026-06-01 09:20" in text
        counts = [item.inner_text().split() for item in card.locator(".acks > div").all()]
        assert counts == [["待确认", str(facts["notifications"] - ANSWERED)], ["已确认", str(ANSWERED)],
                          ["已上报", "0"]]
        # Nothing was sent (no dispatcher here): the first unanswered recipient has waited since it was written.
        assert "已等待 40 分钟（待发送）" in card.locator(".oldest").inner_text()
        assert "金水区 · " in card.locator(".oldest").inner_text()
        link = card.locator("a.board-link")
        assert link.get_attribute("href") == f"/board?warning={facts['warning_id']}"
        box = card.bounding_box()
        assert box["y"] + box["height"] <= VIEWPORTS[screen]["height"]    # the whole card on the first screen
        assert page.evaluate("() => document.scrollingElement.scrollWidth") <= VIEWPORTS[screen]["width"]

        events = page.locator("#events").inner_text()
        assert "降雨过程" in events and "未启动应急响应" in events and "建议启动Ⅱ级应急响应（尚未决定）" in events
        overdue = page.locator("#overdue tbody tr")
        assert overdue.count() == 20 and "共 " in page.locator("#overdue .more").inner_text()
        days = [int(row.locator("td").nth(4).inner_text().split()[0]) for row in overdue.all()]
        assert days == sorted(days, reverse=True) and days[0] > days[-1]
        place = overdue.first.locator("a")
        assert " · " in place.inner_text()     # the unit with its district
        # The demo keeps no duty roster: every desk is unstaffed, now and all week; the review reminders' section
        # lists overdue plans whose owner cannot be reminded, if any, under its total.
        duty = page.locator("#duty")
        assert duty.locator("td.nobody").count() == duty.locator("table.on-duty tbody tr").count() > 1
        assert "未来 7 天无人值班的时段" in duty.inner_text()
        assert "逾期且无法提醒的预案（共 " in page.locator("#reminders").inner_text()
        page.screenshot(path=str(ARTIFACTS / f"overview_{screen}.png"), full_page=True)

        icon = page.locator("link[rel=icon]").first.get_attribute("href")
        assert page.request.get(f"{base}{icon}").status == 200
        assert page.request.get(f"{base}/favicon.ico").status == 200
        href = place.get_attribute("href")
        with page.expect_navigation():
            place.click()
        assert page.url == f"{base}{href}" and href.startswith("/units/")
        problems = (list(watch.outside), list(watch.failed), list(watch.errors))
    assert problems == ([], [], [])


def _zoom_in(page) -> int:
    before = page.evaluate(ZOOM_OF)
    page.locator(".leaflet-control-zoom-in").click()
    page.wait_for_function(f"() => window.FangxunMap.map.getZoom() > {before}")
    page.wait_for_timeout(350)   # the zoom animation ends with moveend, which redraws the names
    return page.evaluate(ZOOM_OF)


@pytest.mark.parametrize("screen", sorted(VIEWPORTS))
def test_the_map_names_places_by_zoom_and_hatches_the_warning(service, screen):
    base, _ = service
    watch = Watch()
    with chromium() as browser:
        page = browser.new_page(viewport=VIEWPORTS[screen], locale="zh-CN")
        watch(page)
        sign_in(page, base, "/map", USER, "html[data-map-ready='true']")
        page.wait_for_selector(".fx-place-district span")
        districts = page.locator(".fx-place-district").all_inner_texts()
        # On a phone the small districts of the centre give way to the larger ones around: no name over another.
        assert len(districts) >= 8 and all(name.endswith(("区", "县", "市")) for name in districts)
        assert "金水区" in districts or screen == "phone"
        assert page.evaluate(SHOWN_LEVEL) == ["district"]

        # The warning: hatched in its colour with a thick dashed edge; overdue units are a solid red fill.
        warning = page.locator(".leaflet-fxWarnings-pane path")
        assert warning.count() == 1
        assert warning.get_attribute("fill") == "url(#fx-hatch-red)"
        assert warning.get_attribute("stroke-dasharray") == "12 6" and warning.get_attribute("stroke-width") == "4"
        assert page.locator("#fx-hatch-red").count() == 1
        overdue = page.locator(f".leaflet-overlay-pane path[fill='{STATUS_COLOURS['overdue']}']")
        assert overdue.count() > 0
        assert overdue.first.get_attribute("stroke-dasharray") != "12 6"
        # Inside the warned area a click reaches the unit below: only the warning's edge takes clicks.
        below = page.evaluate("""() => {
            const box = document.querySelector('.leaflet-fxWarnings-pane path').getBoundingClientRect();
            const hit = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
            return hit.closest('.leaflet-fxWarnings-pane') === null;
        }""")
        assert below

        legend = page.locator("#fx-legend")
        if screen == "phone":   # folded so as not to cover the map; a tap on 图例 opens it
            assert legend.get_attribute("open") is None
            legend.locator("summary").click()
        assert WARNING_NOTE in legend.inner_text() and "红色预警" in legend.inner_text()
        swatch = legend.locator(".fx-swatch-warning-red")
        style = swatch.evaluate("(el) => { const s = getComputedStyle(el); "
                                "return [s.backgroundImage, s.borderTopStyle]; }")
        assert style[0].startswith("repeating-linear-gradient") and style[1] == "dashed"
        page.screenshot(path=str(ARTIFACTS / f"map_labels_{screen}.png"))

        seen = ["district"]
        for _ in range(8):
            zoom = _zoom_in(page)
            shown = page.evaluate(SHOWN_LEVEL)
            assert len(shown) <= 1, (zoom, shown)    # one level's names at a time
            if shown and shown[0] != seen[-1]:
                seen.append(shown[0])
            if seen[-1] == "village":
                break
        assert seen == ["district", "township", "village"]
        assert page.locator(".fx-place-village").count() > 5
        page.screenshot(path=str(ARTIFACTS / f"map_villages_{screen}.png"))
        problems = (list(watch.outside), list(watch.failed), list(watch.errors))
    assert problems == ([], [], [])
