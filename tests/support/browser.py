"""Headless Chromium against the real service: the service in a thread, the browser, and what a page let through."""

from __future__ import annotations

import asyncio
import socket
import threading
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import sync_playwright
from support.api_fixtures import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


class ServiceThread:
    """A service on 127.0.0.1 in a thread with its own event loop; subclasses define `_start` and `_stop`."""

    def __init__(self, url: str, port: int | None = None):
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
        raise NotImplementedError

    async def _stop(self) -> None:
        raise NotImplementedError

    def start(self) -> str:
        """Start the thread, wait for the service and return its base URL."""
        self.thread.start()
        self.ready.wait(60)
        if self.error is not None:
            raise self.error
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop the service, its loop and its thread."""
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)


def free_port() -> int:
    """A port of 127.0.0.1 free just now (for a service that must know its address before it starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class AppService(ServiceThread):
    """The application (no dispatcher) over the database at `url`, on a free port of 127.0.0.1."""

    def __init__(self, url: str, settings, clock):
        super().__init__(url)
        self.settings, self.clock = settings, clock

    async def _start(self) -> None:
        from aiohttp import web

        from fangxun.api.app import create_app
        from fangxun.core.db import create_engine

        self.engine = create_engine(self.url)
        self.runner = web.AppRunner(create_app(self.engine, self.settings, self.clock))
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.port = self.runner.addresses[0][1]

    async def _stop(self) -> None:
        await self.runner.cleanup()
        await self.engine.dispose()


@contextmanager
def served(url: str, settings, clock):
    """The application over `url` while the block runs; yields its base URL."""
    service = AppService(url, settings, clock)
    base = service.start()
    try:
        yield base
    finally:
        service.stop()


class Watch:
    """What pages let through: requests outside the service (aborted), failed requests, console and page errors."""

    def __init__(self):
        self.outside, self.failed, self.errors = [], [], []

    def _only_the_service(self, route) -> None:
        if route.request.url.startswith("http://127.0.0.1"):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def _failed(self, request) -> None:
        # Chromium asks for the icon after the page has loaded; leaving the page at once cancels that request,
        # which is no fault of the page (a missing icon would be a 404, and that is still caught).
        if request.failure == "net::ERR_ABORTED" and "/favicon." in request.url:
            return
        self.failed.append(f"{request.url} {request.failure}")

    def __call__(self, page) -> None:
        """Keep `page` to the service and collect what goes wrong on it."""
        page.route("**/*", self._only_the_service)
        page.on("requestfailed", self._failed)
        page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(str(error)))


@contextmanager
def chromium():
    """Debian's Chromium, headless, closed on exit; the artifacts folder exists."""
    assert Path(CHROMIUM).exists(), "Debian's chromium is needed (apt-get install chromium); never `playwright install`"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def sign_in(page, base: str, path: str, user: str, ready: str) -> None:
    """Open `path`, be sent to the sign-in form, sign in as `user` and wait for `ready` back on `path`."""
    page.goto(f"{base}{path}")
    assert "/login" in page.url
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector(ready, timeout=30_000)
    assert page.url == f"{base}{path}"
