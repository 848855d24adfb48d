"""The duty board live in headless Chromium: a warning is dispatched to a sink, acknowledged through /ack/{token}
on a phone-sized page, and the board follows, with nothing loaded from outside the service."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from playwright.sync_api import sync_playwright
from sqlalchemy import update
from support.api_fixtures import PASSWORD
from support.sinks import Sink
from support.warning_api import manual_form
from support.warning_factories import EAST_VILLAGE, add_registry, warning_settings

from fangxun.accounts import create_token, create_user
from fangxun.api.app import create_app
from fangxun.clock import Clock
from fangxun.db import create_engine, session_factory
from fangxun.migrate import upgrade
from fangxun.plans.models import Contact
from fangxun.settings import load_settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
USER = "duty02"
HOSTILE = '<img src=x onerror="window.__xss=1">东村支书'
# The hand-entered red warning over 甲区: 3 departments and 7 persons, every one reachable.
RECIPIENTS = 10


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Service:
    """The real application with its dispatcher and scheduler, and a webhook sink, in a thread of their own."""

    def __init__(self, url: str, port: int):
        self.url, self.port, self.error = url, port, None
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._start())
        except Exception as exc:  # reported by start() in the test's thread
            self.error = exc
        self.ready.set()
        if self.error is None:
            self.loop.run_forever()

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

    def start(self) -> str:
        self.thread.start()
        self.ready.wait(60)
        if self.error is not None:
            raise self.error
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)


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


def _count(state: str) -> str:
    return f"#board [data-count-state='{state}'] b"


def test_the_board_follows_dispatch_and_acknowledgement_live(service):
    base, token, running = service
    assert Path(CHROMIUM).exists(), "Debian's chromium is needed (apt-get install chromium); never `playwright install`"
    ARTIFACTS.mkdir(exist_ok=True)
    failed, errors, outside = [], [], []

    def only_the_service(route):
        if route.request.url.startswith("http://127.0.0.1"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    def watch(page) -> None:
        page.route("**/*", only_the_service)
        page.on("requestfailed", lambda request: failed.append(f"{request.url} {request.failure}"))
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            board = browser.new_page(viewport={"width": 1500, "height": 1000}, locale="zh-CN")
            watch(board)
            board.goto(f"{base}/board")
            assert "/login" in board.url
            board.fill("#username", USER)
            board.fill("#password", PASSWORD)
            board.click("button[type=submit]")
            board.wait_for_selector("#board[data-board-ready='true']", timeout=30_000)
            assert board.url == f"{base}/board"
            assert "当前没有生效中的预警" in board.locator("#board-warnings").inner_text()

            posted = _post_warning(base, token)
            card = f"article[data-warning-id='{posted['warning_id']}']"
            board.wait_for_selector(card, timeout=20_000)
            board.wait_for_function(f"() => document.querySelector(\"{_count('delivered')}\")?.textContent === "
                                    f"'{RECIPIENTS}'", timeout=30_000)
            assert len({r.headers["Idempotency-Key"] for r in running.sink.requests}) == RECIPIENTS
            assert HOSTILE in board.locator(card).inner_text()   # shown as text, never parsed
            assert board.evaluate("() => window.__xss") is None
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

            board.wait_for_function(f"() => document.querySelector(\"{_count('acknowledged')}\")?.textContent === '1'",
                                    timeout=30_000)
            row = board.locator(f"{card} tr[data-state='acknowledged']")
            assert row.count() == 1 and "甲区区长" in row.inner_text()
            assert board.locator(_count("delivered")).inner_text() == str(RECIPIENTS - 1)
            board.screenshot(path=str(ARTIFACTS / "duty_board_acknowledged.png"), full_page=True)
            problems = (list(outside), list(failed), list(errors))
        finally:
            browser.close()
    assert problems == ([], [], [])
