"""The 叫应 page in headless Chromium, as a village 责任人 opens it on a 390×844 phone (and on a desktop): whom it is
for and what they answer for, the 收到 button and the deadline on the first screen even under a long red warning,
the answer shown after pressing it; no console error, nothing loaded from outside the service."""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from support.browser import ARTIFACTS, Watch, chromium, served
from support.sinks import Sink
from support.warning_factories import add_registry, make_warning, notifications, warning_settings

from fangxun.core.accounts import signing_secret
from fangxun.core.clock import Clock
from fangxun.core.db import create_engine, session_factory
from fangxun.core.migrate import upgrade
from fangxun.settings import load_settings
from fangxun.warnings.acks.tokens import ack_token
from fangxun.warnings.delivery.channels.factory import build_channels, new_http_session
from fangxun.warnings.delivery.dispatcher import Dispatcher
from fangxun.warnings.intake.accept import ingest

PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1366, "height": 900}
# A red warning as the city's observatory writes one: the page must not push the button below the fold.
DESCRIPTION = ("郑州市气象台2026年6月1日9时55分升级发布暴雨红色预警信号：受副热带高压外围暖湿气流和低涡切变共同影响，"
               "目前我市西部、南部已出现短时强降水，小时雨强达80毫米以上，预计未来3小时内，巩义、荥阳、新密、登封、"
               "二七区、中原区、金水区等地累计降水量将达100毫米以上，局地可达200毫米，并伴有雷电和7级以上阵风，"
               "城区低洼地带积水、山区中小河流洪水和山洪、地质灾害的风险极高。")
INSTRUCTION = ("1. 政府及相关部门按照职责做好防暴雨应急和抢险工作；2. 停止集会、停课、停业（除特殊行业外）；"
               "3. 做好山洪、滑坡、泥石流等灾害的防御和抢险工作；4. 危险地带人员立即转移到安全场所。")


async def _database(url: str, settings) -> dict[str, str]:
    """The small registry and a long red warning delivered to everyone; the 叫应 links by recipient."""
    engine = create_engine(url)
    now = datetime.now(UTC)
    try:
        await upgrade(engine)
        sessions = session_factory(engine)
        async with sessions() as session, session.begin():
            await add_registry(session)
        warning = replace(make_warning(description=DESCRIPTION, sent=now - timedelta(minutes=5),
                                       expires=now + timedelta(hours=6)), instruction=INSTRUCTION)
        result = await ingest(sessions, warning, settings, now)
        async with new_http_session(settings.warnings.channels) as http:
            dispatcher = Dispatcher(sessions, build_channels(settings.warnings.channels, http), settings,
                                    Clock(zone=settings.registry.timezone), "browser", rng=random.Random(5))
            await dispatcher.run_until_idle()
        async with sessions() as session:
            secret = await signing_secret(session)
            rows = await notifications(session, result.warning.id)
        return {row.recipient_name: ack_token(secret, row.idempotency_key) for row in rows}
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('ack')}/ack.db"

    async def delivered():
        async with Sink() as sink:
            settings = warning_settings(load_settings(), sink.url_for("/hook"))
            return settings, await _database(url, settings)

    settings, links = asyncio.run(delivered())
    with served(url, settings, Clock(zone=settings.registry.timezone)) as base:
        yield base, links


def _box(page, selector: str) -> dict:
    box = page.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not shown"
    return box


def _on_first_screen(page, selector: str, height: int) -> None:
    box = _box(page, selector)
    assert 0 <= box["y"] and box["y"] + box["height"] <= height, (selector, box)


@pytest.mark.parametrize(("viewport", "name", "recipient", "duty"), [
    (PHONE, "phone", "东村支书", "您是 东村 防汛责任人（《410102002001flood_plan》）"),
    (DESKTOP, "desktop", "东村主任", "您是 东村 防汛副责任人（《410102002001flood_plan》）"),
])
def test_the_button_and_the_deadline_are_on_the_first_screen(service, viewport, name, recipient, duty):
    base, links = service
    watch = Watch()
    with chromium() as browser:
        page = browser.new_page(viewport=viewport, locale="zh-CN")
        watch(page)
        page.goto(f"{base}/ack/{links[recipient]}")
        assert page.locator("p.duty").inner_text() == duty
        assert page.locator(".to").inner_text() == f"致：{recipient}"
        _on_first_screen(page, "button[type=submit]", viewport["height"])
        _on_first_screen(page, "p.deadline", viewport["height"])
        _on_first_screen(page, "p.duty", viewport["height"])
        assert page.locator("button[type=submit]").inner_text() == "收到"
        assert page.locator("p.deadline").inner_text().startswith("请于 ")
        assert "逾期将逐级上报" in page.locator("p.deadline").inner_text()
        assert _box(page, "button[type=submit]")["height"] >= 44   # a thumb's target
        # The whole warning is still there below: the description and the defence guidance.
        assert "局地可达200毫米" in page.inner_text("body") and "危险地带人员立即转移" in page.inner_text("body")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
        page.screenshot(path=str(ARTIFACTS / f"ack_page_{name}.png"))

        page.click("button[type=submit]")
        page.wait_for_selector("p.done")
        assert page.locator("p.done").inner_text() == "✓ 已确认收到"
        _on_first_screen(page, "p.done", viewport["height"])
        page.screenshot(path=str(ARTIFACTS / f"ack_page_{name}_done.png"))
        problems = (list(watch.outside), list(watch.failed), list(watch.errors))
    assert problems == ([], [], [])
