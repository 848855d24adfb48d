"""Real local HTTP receivers for channel tests: scripted answers, every request recorded."""

from __future__ import annotations

import asyncio
import json
import socket
from collections import deque
from dataclasses import dataclass, field
from typing import Self

import aiohttp
import pytest
from aiohttp import web
from multidict import CIMultiDict


@dataclass(frozen=True)
class Recorded:
    """One request as the sink saw it."""

    method: str
    path: str
    query: dict[str, str]
    query_string: str  # as sent, still percent-encoded
    headers: CIMultiDict
    body: bytes
    at: float

    @property
    def json(self):
        """The body parsed as JSON."""
        return json.loads(self.body)


@dataclass(frozen=True)
class Answer:
    """One scripted answer: a status (or "slow"), an optional JSON or raw body, a delay."""

    status: int
    json: object = None
    body: bytes | None = None
    delay: float = 0.0
    headers: dict = field(default_factory=dict)
    echo: bool = False


class Sink:
    """An aiohttp server on 127.0.0.1 that answers from a script (200 once the script runs out)."""

    def __init__(self, default: Answer | None = None):
        self.requests: list[Recorded] = []
        self.default = default or Answer(200)
        self._script: deque[Answer] = deque()
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        self.in_flight = 0
        self.max_in_flight = 0

    def script(
        self,
        status: int | str,
        *,
        json: object = None,
        body: bytes | str | None = None,
        delay: float = 0.0,
        headers: dict | None = None,
        echo: bool = False,
        times: int = 1,
    ) -> Sink:
        """Queue `times` answers; `"slow"` means 200 after `delay` seconds; `echo` returns the request."""
        if status == "slow":
            status, delay = 200, delay or 5.0
        raw = body.encode() if isinstance(body, str) else body
        for _ in range(times):
            self._script.append(Answer(int(status), json, raw, delay, headers or {}, echo))
        return self

    @property
    def url(self) -> str:
        """The base URL of the running sink."""
        return f"http://127.0.0.1:{self.port}"

    def url_for(self, path: str = "/hook", **query: str) -> str:
        """A URL on this sink with an optional query."""
        text = "&".join(f"{key}={value}" for key, value in query.items())
        return f"{self.url}{path}" + (f"?{text}" if text else "")

    async def start(self) -> Sink:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # handler_cancellation: a slow answer stops when the client gives up.
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.2, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def close(self) -> None:
        """Stop listening and drop open connections."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        loop = asyncio.get_running_loop()
        self.requests.append(
            Recorded(
                request.method,
                request.path,
                dict(request.query),
                request.rel_url.raw_query_string,
                CIMultiDict(request.headers),
                body,
                loop.time(),
            )
        )
        answer = self._script.popleft() if self._script else self.default
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if answer.delay:
                await asyncio.sleep(answer.delay)
        finally:
            self.in_flight -= 1
        if answer.echo:
            # A careless receiver that repeats the whole request back in its error page.
            # What carries credentials comes first, so it lands inside any excerpt the channel keeps.
            sensitive = [
                request.query_string,
                request.headers.get("Authorization", ""),
                request.headers.get("X-Fangxun-Signature", ""),
                str(request.url),
            ]
            echoed = " ".join(sensitive) + f" {dict(request.headers)} {body.decode(errors='replace')}"
            return web.Response(status=answer.status, text=echoed, headers=answer.headers)
        if answer.json is not None:
            return web.json_response(answer.json, status=answer.status, headers=answer.headers)
        return web.Response(status=answer.status, body=answer.body or b"", headers=answer.headers)


def refused_url(path: str = "/hook") -> str:
    """A URL on a local port nobody listens on (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


@pytest.fixture(name="sink")
async def sink_fixture():
    """A running sink in the test's event loop."""
    async with Sink() as running:
        yield running


@pytest.fixture(name="make_sink")
async def make_sink_fixture():
    """A factory of running sinks, all closed after the test."""
    started: list[Sink] = []

    async def make(default: Answer | None = None) -> Sink:
        started.append(await Sink(default).start())
        return started[-1]

    yield make
    for running in started:
        await running.close()


@pytest.fixture(name="http")
async def http_fixture():
    """One client session for the test, like the service's shared one."""
    async with aiohttp.ClientSession() as session:
        yield session
