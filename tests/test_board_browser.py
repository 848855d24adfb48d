"""The duty board live in headless Chromium: a warning is dispatched to a sink, acknowledged through /ack/{token}
on a phone-sized page, and the board follows, with nothing loaded from outside the service."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from sqlalchemy import update
from support.api_fixtures import PASSWORD
from support.browser import ARTIFACTS, ServiceThread, Watch, chromium, free_port, sign_in
from support.sinks import Sink
from support.warning_api import manual_form
from support.warning_factories import EAST_VILLAGE, add_registry, warning_settings

from fangxun.api.app import create_app
from fangxun.core.accounts import create_token, create_user
from fangxun.core.clock import Clock
from fangxun.core.db import create_engine, session_factory
from fangxun.core.migrate import upgrade
from fangxun.plans.models import Contact
from fangxun.settings import load_settings

USER = "duty02"
HOSTILE = '<img src=x onerror="window.__xss=1">东村支书'
# The hand-entered red warning over 甲区: 3 departments and 7 persons, every one reachable.
RECIPIENTS = 10


class Service(ServiceThread):
    """The real application with its dispatcher and scheduler, and a webhook sink, in a thread of their own."""

    async def _start(self) -> None:
        self.sink = await Sink().start()
        base = load_settings()
        settings = warning_settings(base, self.sink.url_for("/hook"))
        server = settings.server.model_copy(update={"port": self.port, "public_url": f"http://127.0.0.1:{self.port}"})
        settings = settings.model_copy(update={"server": server})
        self.engine = create_engine(self.url)
        app = create_app(self.engine, settings, Clock(zone=settings.registry.timezone), dispatch=True)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def _stop(self) -> None:
        await self.runner.cleanup()
        await self.engine.dispose()
        await self.sink.close()


async def _database(url: str) -> str:
    """The small registry (one 责任人 with a hostile name), a signed-in user and an editor token."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
        async with session_factory(engine)() as session, session.begin():
            await add_registry(session)
            await session.execute(update(Contact).where(Contact.unit_code == EAST_VILLAGE,
                                                        Contact.name == "东村支书").values(name=HOSTILE))
            await create_user(session, USER, PASSWORD, "viewer")
            return await create_token(session, "editor", label="browser-test")
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('board')}/board.db"
    token = asyncio.run(_database(url))
    running = Service(url, free_port())
    base = running.start()
    yield base, token, running
    running.stop()


def _post_warning(base: str, token: str) -> dict:
    """The hand-entry form, in force from now (the service runs on the real clock) for six hours."""
    expires = (datetime.now(UTC) + timedelta(hours=6)).isoformat(timespec="seconds")
    form = manual_form(onset=None, expires=expires)
    request = urllib.request.Request(f"{base}/api/warnings", data=json.dumps(form).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201
        return json.loads(response.read())


def _count(key: str) -> str:
    return f"#totals [data-count='{key}'] b"


def test_the_board_follows_dispatch_and_acknowledgement_live(service):
    base, token, running = service
    watch = Watch()
    with chromium() as browser:
        board = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        watch(board)
        sign_in(board, base, "/board", USER, "#board[data-board-ready='true']")
        assert "当前没有生效中的预警" in board.locator("#thread-list").inner_text()
        assert board.locator("#thread").is_hidden()

        posted = _post_warning(base, token)
        board.wait_for_selector(f"button.thread[data-thread-id='{posted['warning_id']}']", timeout=20_000)
        board.wait_for_function(f"() => document.querySelector(\"{_count('total')}\")?.textContent === "
                                f"'{RECIPIENTS}'", timeout=30_000)
        for _ in range(300):
            if len({r.headers["Idempotency-Key"] for r in running.sink.requests}) == RECIPIENTS:
                break
            board.wait_for_timeout(100)
        assert len({r.headers["Idempotency-Key"] for r in running.sink.requests}) == RECIPIENTS
        # 甲区's own 责任人 once delivered, in their group opened by hand.
        board.click("details.group[data-group='unit:410102000000'] > summary")
        board.click("details.group[data-group='self:410102000000'] > summary", timeout=20_000)
        chief = "details.group[data-group='self:410102000000'] tr[data-recipient-id]:has-text('甲区区长')"
        board.wait_for_selector(f"{chief}[data-state='delivered']", timeout=30_000)
        # A name is shown as text, never parsed.
        board.fill("#filters input[name='q']", "东村支书")
        board.wait_for_selector("#search-results:not([hidden]) tr[data-recipient-id]")
        assert HOSTILE in board.locator("#search-results").inner_text()
        assert board.evaluate("() => window.__xss") is None
        board.fill("#filters input[name='q']", "")
        board.wait_for_selector("#search-results", state="hidden")
        board.screenshot(path=str(ARTIFACTS / "duty_board_delivered.png"), full_page=True)

        # 甲区区长 opens the link of the message they received on a phone and presses 收到.
        message = next(r.json for r in running.sink.requests if r.json["recipient"] == "甲区区长")
        assert message["ack_url"].startswith(f"{base}/ack/")
        phone_context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                            is_mobile=True)
        phone = phone_context.new_page()
        watch(phone)
        phone.goto(message["ack_url"])
        assert "甲区区长" in phone.locator("main").inner_text()
        phone.screenshot(path=str(ARTIFACTS / "ack_page.png"), full_page=True)
        phone.click("button[type=submit]")
        phone.wait_for_selector("p.done")
        assert "已确认收到" in phone.locator("p.done").inner_text()
        assert phone.url == message["ack_url"]
        phone.screenshot(path=str(ARTIFACTS / "ack_page_done.png"), full_page=True)
        phone_context.close()

        # The board follows: the count, and the row of the group still open.
        board.wait_for_function(f"() => document.querySelector(\"{_count('acknowledged')}\")?.textContent === '1'",
                                timeout=30_000)
        board.wait_for_selector(f"{chief}[data-state='acknowledged']", timeout=30_000)
        assert board.locator(_count("unacknowledged")).inner_text() == str(RECIPIENTS - 1)
        assert board.locator("details.group[data-group='self:410102000000']").get_attribute("open") is not None
        board.screenshot(path=str(ARTIFACTS / "duty_board_acknowledged.png"), full_page=True)
        problems = (list(watch.outside), list(watch.failed), list(watch.errors))
    assert problems == ([], [], [])
