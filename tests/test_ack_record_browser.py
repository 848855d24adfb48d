"""The board in headless Chromium with a rate-limited channel against a real local sink: the held-back line says how
many messages wait and until when, and a person's 叫应 record (calls, key 1) shows beside them."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from sqlalchemy import insert, select
from support.api_fixtures import PASSWORD
from support.browser import ARTIFACTS, ServiceThread, Watch, chromium, free_port, sign_in
from support.sinks import Sink
from support.warning_api import manual_form
from support.warning_factories import add_registry, warning_settings

from fangxun.api.app import create_app
from fangxun.core.accounts import create_token, create_user
from fangxun.core.clock import Clock
from fangxun.core.db import create_engine, session_factory
from fangxun.core.migrate import upgrade
from fangxun.settings import load_settings
from fangxun.warnings.acks.acknowledging import acknowledge_notification
from fangxun.warnings.tables import CallAttempt, Notification

USER = "duty03"
RECIPIENTS = 10  # the hand-entered red warning over 甲区: 3 departments and 7 persons
RATE = 0.02  # one message every 50 s: after the first, the other nine wait


class Service(ServiceThread):
    """The application with its dispatcher; the one channel `hook` is rate-limited and posts to a sink."""

    async def _start(self) -> None:
        self.sink = await Sink().start()
        base = load_settings()
        settings = warning_settings(base, self.sink.url_for("/hook"), extra_channels={"hook": {
            "kind": "webhook", "url": self.sink.url_for("/hook"), "concurrency": 1, "rate_per_second": RATE}})
        server = settings.server.model_copy(update={"port": self.port, "public_url": f"http://127.0.0.1:{self.port}"})
        settings = settings.model_copy(update={"server": server})
        self.engine = create_engine(self.url)
        app = create_app(self.engine, settings, Clock(zone=settings.registry.timezone), dispatch=True)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    def stop(self) -> None:
        """As ServiceThread.stop, waiting longer: rows queued at the gate keep the dispatcher up to its stop
        timeout (30 s) before it cancels them (they go again once their lease lapses)."""
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(90)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)

    async def _stop(self) -> None:
        await self.runner.cleanup()
        await self.engine.dispose()
        await self.sink.close()


async def _database(url: str) -> str:
    engine = create_engine(url)
    try:
        await upgrade(engine)
        async with session_factory(engine)() as session, session.begin():
            await add_registry(session)
            await create_user(session, USER, PASSWORD, "viewer")
            return await create_token(session, "editor", label="record-browser-test")
    finally:
        await engine.dispose()


async def _answered_on_the_third_call(url: str, name: str) -> None:
    """Two unanswered calls and a third answered with key 1 for `name`'s notice, acknowledged by the key."""
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session, session.begin():
            row = (await session.execute(select(Notification).where(Notification.recipient_name == name,
                                                                    Notification.purpose == "notice"))).scalar_one()
            start = datetime.now(UTC) - timedelta(minutes=3)
            await session.execute(insert(CallAttempt), [
                {"notification_id": row.id, "call_id": f"fxc-browser-{number}", "call_number": number,
                 "channel": "hook", "to_number": row.address, "requested_at": start + timedelta(minutes=number - 1),
                 "status": status, "answered": status == "answered", "keys": keys}
                for number, status, keys in ((1, "no_answer", ""), (2, "no_answer", ""), (3, "answered", "1"))])
            await acknowledge_notification(session, row, datetime.now(UTC), "voice")
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('record')}/record.db"
    token = asyncio.run(_database(url))
    running = Service(url, free_port())
    base = running.start()
    yield base, token, running, url
    running.stop()


def _post_warning(base: str, token: str) -> dict:
    expires = (datetime.now(UTC) + timedelta(hours=6)).isoformat(timespec="seconds")
    request = urllib.request.Request(f"{base}/api/warnings", data=json.dumps(manual_form(onset=None, expires=expires))
                                     .encode(), method="POST",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201
        return json.loads(response.read())


def test_the_board_says_what_the_rate_holds_back_and_shows_the_record(service):
    base, token, running, url = service
    watch = Watch()
    with chromium() as browser:
        board = browser.new_page(viewport={"width": 1500, "height": 1000}, locale="zh-CN")
        watch(board)
        sign_in(board, base, "/board", USER, "#board[data-board-ready='true']")
        posted = _post_warning(base, token)
        board.wait_for_selector(f"button.thread[data-thread-id='{posted['warning_id']}']", timeout=20_000)
        # The first message went out at once; the rate holds the other nine back.
        board.wait_for_function("() => (document.querySelector(\"#held-back [data-channel='hook']\")?.textContent"
                                f" || '').includes('{RECIPIENTS - 1} 条等待发送')", timeout=30_000)
        line = board.locator("#held-back [data-channel='hook']").inner_text()
        assert line.startswith("Webhook hook 限速：9 条等待发送，预计 ") and "前发完（每分钟 1.2 条）" in line
        assert len(running.sink.requests) == 1

        # On the service's loop: the browser's driver holds one in this thread.
        asyncio.run_coroutine_threadsafe(_answered_on_the_third_call(url, "甲区区长"), running.loop).result(30)
        board.fill("#filters input[name='q']", "甲区区长")  # the search lists the rows at once, refreshed
        row = "#search-results tr[data-state='acknowledged']"
        board.wait_for_selector(row, timeout=30_000)
        record = board.locator(f"{row} td.record").inner_text()
        assert "甲区区长" in board.locator(row).inner_text()
        assert "电话 3 次（重拨 2 次）" in record and "无人接听、无人接听、已接听（按键 1）" in record
        assert "语音按键确认" in record
        board.screenshot(path=str(ARTIFACTS / "duty_board_record_held_back.png"), full_page=True)
        problems = (list(watch.outside), list(watch.failed), list(watch.errors))
    assert problems == ([], [], [])
