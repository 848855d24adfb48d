"""The duty board in headless Chromium, at 1366×900 and on a 390×844 phone: the thread picker (a warning in force that
could not be placed first, with its link to assign units, then a lifted one), the lifted thread's timeline (发布 →
解除), groups collapsed with their counts, a group opened down to its village, the reminded deadline, a filter and a
search narrowing the rows; no console error and nothing loaded from outside the service."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from support.api_fixtures import PASSWORD, MovableClock
from support.board_story import Story
from support.browser import ARTIFACTS, Watch, chromium, served, sign_in
from support.sinks import Sink
from support.warning_factories import (DISTRICT_A, DISTRICT_B, EAST_VILLAGE, NOON, TOWN_2, make_warning,
                                       warning_settings)

from fangxun.core.accounts import create_user
from fangxun.core.clock import Clock
from fangxun.core.db import create_engine, session_factory
from fangxun.core.migrate import upgrade
from fangxun.settings import load_settings
from fangxun.warnings.intake.accept import ingest

USER = "duty06"
NOWHERE = "http://127.0.0.1:9/hook"  # the served board sends nothing
LIFTED = NOON + timedelta(minutes=40)
VIEWPORTS = {"desk": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


async def _database(url: str) -> Story:
    """The story of support.board_story, told to a real sink, and a signed-in viewer."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
        sessions = session_factory(engine)
        async with Sink() as sink:
            config = warning_settings(load_settings(), sink.url_for("/hook"), repeat=1)
            story = await Story(sessions, config, MovableClock(fixed=NOON)).run()
            story.unplaced_id = (await ingest(sessions, make_warning("unplaced", geocodes=(), area_description="某地",
                                                                     sent=LIFTED), config, LIFTED)).warning.id
        async with sessions() as session, session.begin():
            await create_user(session, USER, PASSWORD, "viewer")
        return story
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('board-thread')}/board.db"
    story = asyncio.run(_database(url))
    settings = warning_settings(load_settings(), NOWHERE, repeat=1)
    with served(url, settings, Clock(zone=settings.registry.timezone, fixed=LIFTED)) as base:
        yield base, story


def _group(key: str) -> str:
    return f"details.group[data-group='{key}']"


def _rows(page, scope: str = "#groups") -> list[str]:
    return page.locator(f"{scope} tr[data-recipient-id] .name").all_inner_texts()


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_one_thread_grouped_collapsed_filtered_and_searched(service, size):
    base, story = service
    watch = Watch()
    with chromium() as browser:
        context = browser.new_context(viewport=VIEWPORTS[size], locale="zh-CN", is_mobile=size == "phone")
        page = context.new_page()
        watch(page)
        sign_in(page, base, "/board", USER, "#groups[data-groups-ready='true'] details.group")
        page.wait_for_selector("#board[data-board-ready='true']")

        # The warning in force comes first and is shown: nobody but the city desk told, a link to assign its units.
        threads = page.locator("#thread-list button.thread")
        assert [threads.nth(i).get_attribute("data-thread-id") for i in range(threads.count())] == [
            str(story.unplaced_id), str(story.alert_id)]
        assert threads.nth(0).get_attribute("aria-pressed") == "true" and "生效中" in threads.nth(0).inner_text()
        link = page.locator("#thread-unlocated a")
        assert link.get_attribute("href") == f"/warnings/{story.unplaced_id}/assign" and link.is_visible()
        assert page.locator("#groups > details.group").get_attribute("data-group") == "desks"

        # The lifted thread, chosen: its timeline has the alert and its 解除, the alert shown first.
        threads.nth(1).click()
        page.wait_for_selector(f"#timeline li[data-message-id='{story.cancel_id}']")
        page.wait_for_selector(f"#groups > details.group[data-group='unit:{DISTRICT_A}']")
        assert page.url.endswith(f"#thread-{story.alert_id}") and page.locator("#thread-unlocated").is_hidden()
        picker = page.locator(f"button.thread[data-thread-id='{story.alert_id}']")
        assert picker.get_attribute("aria-pressed") == "true" and "已解除" in picker.inner_text()
        steps = page.locator("#timeline li.tl-item")
        assert [steps.nth(i).get_attribute("data-step") for i in range(steps.count())] == ["alert", "cancel"]
        assert "发布 · 红色" in steps.nth(0).inner_text() and "解除" in steps.nth(1).inner_text()
        assert steps.nth(0).locator("button").get_attribute("aria-pressed") == "true"
        assert page.locator("#totals [data-count='total'] b").inner_text() == "23"
        assert page.locator("#totals [data-count='overdue']").inner_text() == "逾期未确认 9"

        # Groups: desks, 甲区, 乙区, all collapsed, each with its counts.
        groups = page.locator("#groups > details.group")
        assert [groups.nth(i).get_attribute("data-group") for i in range(groups.count())] == [
            "desks", f"unit:{DISTRICT_A}", f"unit:{DISTRICT_B}"]
        assert page.locator("#groups details[open]").count() == 0
        district_a = page.locator(_group(f"unit:{DISTRICT_A}"))
        summary = district_a.locator("summary").inner_text()
        assert "甲区" in summary and "13" in summary and "已确认 1" in summary and "发送失败 1" in summary
        assert page.locator("tr[data-recipient-id]").count() == 0  # no row is fetched before its group opens
        page.screenshot(path=str(ARTIFACTS / f"board_thread_{size}.png"), full_page=True)
        groups_top = page.locator(_group("desks")).bounding_box()["y"]
        assert groups_top < VIEWPORTS[size]["height"] - 60  # the group list starts on the first screen

        # Opening 甲区 → 二号镇 → 东村 shows the two village rows, the overdue one first, names with their district.
        district_a.locator("summary").click()
        page.wait_for_selector(f"{_group(f'unit:{TOWN_2}')}")
        page.locator(f"{_group(f'unit:{TOWN_2}')} > summary").click()
        village = _group(f"unit:{EAST_VILLAGE}")
        page.wait_for_selector(village)
        page.locator(f"{village} > summary").click()
        page.wait_for_selector(f"{village} tr[data-recipient-id]")
        assert _rows(page, village) == ["东村主任", "东村支书"]
        row = page.locator(f"{village} tr[data-recipient-id]").first
        assert "甲区 · 二号镇 · 东村" in row.inner_text() and "逾期" in row.inner_text()
        deadline = row.locator("td.deadline").inner_text()
        assert "10:31" in deadline and "原时限 06/01 10:15" in deadline  # the reminder moved it
        assert row.locator("td.who").is_visible()
        page.screenshot(path=str(ARTIFACTS / f"board_thread_open_{size}.png"), full_page=True)

        # A filter narrows the groups and their rows: only 乙区 has someone without an address.
        page.select_option("#filters select[name='filter']", "unreachable")
        page.wait_for_function("() => document.querySelectorAll('#groups > details.group').length === 1")
        assert page.locator("#filter-summary").inner_text() == "符合条件：1 人"
        page.locator(f"{_group(f'unit:{DISTRICT_B}')} > summary").click()
        page.wait_for_selector(f"{_group(f'unit:410103001000')}")
        page.locator(f"{_group('unit:410103001000')} > summary").click()
        page.wait_for_selector(f"{_group('unit:410103001000')} tr[data-recipient-id]")
        assert _rows(page) == ["三号街道主任"]

        # A search by phone number lists the matches at once, with the number masked.
        page.select_option("#filters select[name='filter']", "")
        page.fill("#filters input[name='q']", "0008")
        page.wait_for_selector("#search-results:not([hidden]) tr[data-recipient-id]")
        assert _rows(page, "#search-results") == ["东村支书"]
        assert "139****0008" in page.locator("#search-results").inner_text()
        assert "13900000008" not in page.content()

        # The 解除 told everyone, nobody had to answer; all messages together list both.
        page.fill("#filters input[name='q']", "")
        page.locator("#timeline li[data-step='cancel'] button").click()
        page.wait_for_function("() => document.querySelector(\"#totals [data-count='informed'] b\")?.textContent"
                               " === '11'")
        page.locator("#scope button.scope-all").click()
        page.wait_for_function("() => document.querySelector(\"#totals [data-count='total'] b\")?.textContent"
                               " === '35'")
        no_overflow = page.evaluate("() => document.scrollingElement.scrollWidth <= window.innerWidth")
        failed_before_leaving = list(watch.failed)

        # The event page links a message as /board#warning-N, the overview and the entry page as /board?warning=N:
        # its thread, that message's recipients (followed within the page, and opened afresh).
        for link in (f"/board#warning-{story.cancel_id}", f"/board#warning-{story.cancel_id}",
                     f"/board?warning={story.cancel_id}"):
            page.goto(f"{base}{link}")
            page.wait_for_selector(f"#timeline li[data-message-id='{story.cancel_id}'] button[aria-pressed='true']")
            page.wait_for_function("() => document.querySelector(\"#totals [data-count='informed'] b\")"
                                   "?.textContent === '11'")
            assert page.locator(f"button.thread[data-thread-id='{story.alert_id}']").get_attribute(
                "aria-pressed") == "true"
            page.goto("about:blank")
        # Leaving a page aborts its refresh still under way: that is no failure of the page.
        left = [failure for failure in watch.failed[len(failed_before_leaving):] if not failure.endswith("ERR_ABORTED")]
        problems = (list(watch.outside), failed_before_leaving + left, list(watch.errors))
        context.close()
    assert no_overflow
    assert problems == ([], [], [])
