"""A simulated generic voice gateway (语音网关) on 127.0.0.1, the other side of channels/voice.py.

It verifies each call request's signature, records every request, answers as scripted (200, 429, 500, a
timeout, …), places each call id once (a repeated request of a placed call is answered 200 and dials
nobody) and then reports the call's result by a signed callback to the request's callback_url, as the
callee's script says: answered with key 1, answered without a key, no answer, busy, failed. Callbacks
can be held back and released in any order, signed badly, sent twice; an unanswered one (connection
refused, 5xx) is retried until the service takes it, as a real gateway does.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Self

import aiohttp
from aiohttp import web

from fangxun.settings import Settings
from fangxun.warnings.delivery.channels.signing import body_signature, verify_body_signature
from fangxun.warnings.delivery.channels.voice_protocol import SIGNATURE_HEADER

SECRET = "voice-gateway-test-secret"
SECRET_ENV = "FX_TEST_VOICE_SECRET"


@dataclass(frozen=True)
class CallRequest:
    """One call request as the gateway received it."""

    body: bytes
    signed: bool  # the signature verified
    headers: dict
    at: float

    @property
    def json(self) -> dict:
        return json.loads(self.body)

    @property
    def call_id(self) -> str:
        return self.json["call_id"]


@dataclass(frozen=True)
class Callee:
    """What the person called does: the result the gateway reports (a REPORTED status, keys pressed, seconds
    on the line)."""

    status: str = "answered"
    keys: str = "1"
    duration_s: float = 35.0


ANSWERS_KEY_1 = Callee("answered", "1", 35.0)
ANSWERS_NO_KEY = Callee("answered", "", 40.0)
HANGS_UP_EARLY = Callee("answered", "", 6.0)
NO_ANSWER = Callee("no_answer", "", 0.0)
BUSY = Callee("busy", "", 0.0)
FAILS = Callee("failed", "", 0.0)


@dataclass
class Callback:
    """A result the gateway owes the service (sent, or held for the test to release)."""

    url: str
    body: bytes
    call_id: str
    responses: list[int] = field(default_factory=list)  # HTTP status of each try that got an answer
    unreachable: int = 0  # tries that found nobody listening (the service was down)


class VoiceGateway:
    """The simulator; `script` the HTTP answers to call requests, `callees` what each placed call does."""

    def __init__(self, secret: str = SECRET, *, hold: bool = False, default: Callee = ANSWERS_KEY_1):
        self.secret = secret
        self.hold = hold  # keep callbacks until release() instead of sending them at once
        self.default = default
        self.requests: list[CallRequest] = []
        self.placed: dict[str, dict] = {}  # call id -> the request that placed it
        self.held: dict[str, Callback] = {}
        self.callbacks: list[Callback] = []
        self._script: deque[tuple[int, float]] = deque()  # (status, delay)
        self._callees: deque[Callee] = deque()
        self._sending: set[asyncio.Task] = set()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self.port: int | None = None

    # --- scripting --------------------------------------------------------------------------

    def script(self, status: int | str, *, times: int = 1, delay: float = 30.0) -> Self:
        """Answer the next `times` call requests with `status`; "timeout" (or "slow") answers 200 only after
        `delay` seconds (the channel gives up first), the call placed meanwhile when it is "slow"."""
        for _ in range(times):
            if status in ("timeout", "slow"):
                self._script.append((-1 if status == "timeout" else 200, delay))
            else:
                self._script.append((int(status), 0.0))
        return self

    def callee(self, *callees: Callee) -> Self:
        """What the next placed calls do, in order (then `default`)."""
        self._callees.extend(callees)
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/call"

    def requests_of(self, call_id: str) -> list[CallRequest]:
        return [request for request in self.requests if request.signed and request.call_id == call_id]

    # --- callbacks --------------------------------------------------------------------------

    def report(self, call_id: str, callee: Callee, ended_at: datetime | None = None, **extra) -> bytes:
        """The callback body of `call_id` as `callee` went (extra fields added, or replacing, as given)."""
        document = {"call_id": call_id, "status": callee.status, "keys": callee.keys,
                    "duration_s": callee.duration_s,
                    "ended_at": (ended_at or datetime.now(UTC)).isoformat(timespec="seconds")}
        document.update(extra)
        return json.dumps(document, ensure_ascii=False).encode()

    async def post(self, url: str, body: bytes, *, signature: str | None = "good") -> tuple[int, dict]:
        """POST one callback once: signed with our secret ("good"), another ("bad"), or not at all (None)."""
        headers = {"Content-Type": "application/json"}
        if signature == "good":
            headers[SIGNATURE_HEADER] = body_signature(self.secret, body)
        elif signature == "bad":
            headers[SIGNATURE_HEADER] = body_signature("not-the-secret", body)
        async with self._client().post(url, data=body, headers=headers) as response:
            text = await response.text()
            try:
                return response.status, json.loads(text)
            except ValueError:
                return response.status, {"text": text}

    async def release(self, *call_ids: str, retry_for: float = 60.0) -> list[Callback]:
        """Send the held callbacks of `call_ids` (all held ones when none is named), one after another in
        the order given, each retried until the service answers it."""
        chosen = list(call_ids) or list(self.held)
        sent = []
        for call in chosen:
            callback = self.held.pop(call)
            await self._deliver(callback, retry_for)
            sent.append(callback)
        return sent

    async def settled(self) -> None:
        """Wait for the callbacks under way."""
        while self._sending:
            await asyncio.gather(*list(self._sending), return_exceptions=True)

    async def _deliver(self, callback: Callback, retry_for: float) -> None:
        """Post until the service answers anything but a 5xx (connection refused: it is restarting)."""
        self.callbacks.append(callback)
        deadline = asyncio.get_running_loop().time() + retry_for
        while True:
            try:
                status, _ = await self.post(callback.url, callback.body)
                callback.responses.append(status)
                if status < 500:
                    return
            except aiohttp.ClientError:
                callback.unreachable += 1
            if asyncio.get_running_loop().time() > deadline:
                return
            await asyncio.sleep(0.1)

    # --- the server -------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        signed = verify_body_signature(self.secret, body, request.headers.get(SIGNATURE_HEADER))
        self.requests.append(CallRequest(body, signed, dict(request.headers), asyncio.get_running_loop().time()))
        if not signed:
            return web.json_response({"error": "bad signature"}, status=401)
        status, delay = self._script.popleft() if self._script else (200, 0.0)
        if status == -1:  # a timeout: nothing placed, the answer comes too late
            await asyncio.sleep(delay)
            return web.json_response({"error": "late"}, status=504)
        if status >= 300:
            return web.json_response({"error": f"scripted {status}"}, status=status)
        document = json.loads(body)
        call = document["call_id"]
        if call not in self.placed:  # a call id already placed is not dialled again
            self.placed[call] = document
            callee = self._callees.popleft() if self._callees else self.default
            callback = Callback(document["callback_url"], self.report(call, callee), call)
            if self.hold:
                self.held[call] = callback
            else:
                task = asyncio.create_task(self._deliver(callback, 60.0))
                self._sending.add(task)
                task.add_done_callback(self._sending.discard)
        if delay:
            await asyncio.sleep(delay)
        return web.json_response({"call_id": call, "accepted": True})

    def _client(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        return self._http

    async def start(self) -> Self:
        app = web.Application()
        app.router.add_post("/call", self._handle)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.2, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def close(self) -> None:
        for task in list(self._sending):
            task.cancel()
        await asyncio.gather(*self._sending, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


def free_port() -> int:
    """A local port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def voice_settings(base: Settings, hook_url: str, gateway_url: str, *, public_url: str = "", **channel) -> Settings:
    """The warning settings of support.warning_factories with 责任人 called through a voice channel `voice` at
    `gateway_url` (departments stay on the webhook `hook`); `public_url` is where callbacks come back."""
    from support.warning_factories import warning_settings

    voice = {"kind": "voice", "url": gateway_url, "secret_env": SECRET_ENV, "timeout_seconds": 2,
             "concurrency": 4, "rate_per_second": None, **channel}
    config = warning_settings(base, hook_url, extra_channels={"voice": voice},
                              default_route={"departments": ["emergency"], "person_levels": [],
                                             "department_channel": "", "person_channels": ["voice"],
                                             "template": "default"})
    if public_url:
        config = config.model_copy(update={"server": config.server.model_copy(update={"public_url": public_url})})
    return config
