"""A simulated 阿里云语音服务 (dyvmsapi) on 127.0.0.1, the other side of channels/aliyun_voice.py.

It checks each request's RPC signature the way Alibaba does (its own recomputation: parameters sorted,
RFC 3986 encoded, "POST&%2F&…", HMAC-SHA1 keyed with secret + "&"), records every request, answers as scripted
({"Code": "OK", "CallId": …}, a documented error Code with its HTTP status, a 5xx, a timeout) and pushes each
placed call's record (VoiceReport: a JSON array, unsigned) to the push URL set as in the console, as the
callee's script says. Pushes can be held and released in any order, repeated, posted with another token.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
from dataclasses import dataclass, field
from typing import Self
from urllib.parse import parse_qsl, quote

import aiohttp
from aiohttp import web

ACCESS_KEY_ID, ACCESS_KEY_SECRET, TOKEN = "LTAI-test-id", "aliyun-test-secret", "push-token-0123456789abcdef"
KEY_ID_ENV, SECRET_ENV, TOKEN_ENV = "FX_TEST_ALIYUN_AK", "FX_TEST_ALIYUN_SK", "FX_TEST_ALIYUN_TOKEN"


def alibaba_signature(secret: str, method: str, params: dict[str, str]) -> str:
    """The signature as the service recomputes it (written here apart from the code under test)."""
    def enc(text: str) -> str:
        return quote(text, safe="-_.~")
    query = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(params.items()) if k != "Signature")
    to_sign = f"{method}&{enc('/')}&{enc(query)}"
    return base64.b64encode(hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()).decode()


@dataclass(frozen=True)
class Callee:
    """What the called person does, as the call record says it: status_code, keys pressed, seconds on the line."""

    status_code: str = "200000"
    dtmf: str = "1"
    duration: int = 35


ANSWERS_KEY_1 = Callee("200000", "1", 35)
ANSWERS_NO_KEY = Callee("200000", "", 40)
HANGS_UP_EARLY = Callee("200001", "", 30)
KEY_TIMEOUT = Callee("200008", "", 45)
NO_ANSWER = Callee("200003", "", 0)
BUSY = Callee("200002", "", 0)
REJECTED = Callee("200005", "", 0)
SWITCHED_OFF = Callee("200010", "", 0)


@dataclass(frozen=True)
class IvrRequest:
    """One request as the service received it."""

    params: dict[str, str]
    signed: bool


@dataclass
class Push:
    """A push of records the service owes us (sent, or held for the test to release)."""

    body: bytes
    out_id: str
    responses: list[tuple[int, dict]] = field(default_factory=list)


class AliyunVoice:
    """The simulator; `script` the answers to requests, `callee` what each placed call does."""

    def __init__(self, secret: str = ACCESS_KEY_SECRET, *, hold: bool = False, default: Callee = ANSWERS_KEY_1):
        self.secret = secret
        self.hold = hold
        self.default = default
        self.push_url = ""  # the console's 接收地址
        self.requests: list[IvrRequest] = []
        self.placed: list[dict[str, str]] = []
        self.held: list[Push] = []
        self.pushes: list[Push] = []
        self._script: list[tuple[int, str | None]] = []
        self._callees: list[Callee] = []
        self._ids = itertools.count(100001616500)
        self._sending: set[asyncio.Task] = set()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self.port: int | None = None

    def script(self, status: int | str, code: str | None = None, *, times: int = 1) -> Self:
        """Answer the next requests with HTTP `status` and `code` ("timeout": no answer in time)."""
        self._script.extend([(-1 if status == "timeout" else int(status), code)] * times)
        return self

    def callee(self, *callees: Callee) -> Self:
        self._callees.extend(callees)
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def record(self, out_id: str, callee: Callee, call_id: str = "", **extra) -> dict:
        """A VoiceReport record of the call `out_id` as `callee` went."""
        answered = callee.status_code in ("200000", "200001", "200008")
        document = {"call_id": call_id or f"{next(self._ids)}^{next(self._ids)}", "status_code": callee.status_code,
                    "status_msg": "执行完成", "duration": str(callee.duration), "dtmf": callee.dtmf, "out_id": out_id,
                    "start_time": "2026-06-01 10:00:05" if answered else "",
                    "end_time": "2026-06-01 10:00:40" if answered else "", "caller": "057100000000",
                    "callee": "13900000008"}
        document.update(extra)
        return document

    async def push(self, records: list[dict], *, token: str = TOKEN, url: str = "") -> tuple[int, dict]:
        """POST `records` (a JSON array) once to the push URL, with `token` as its last segment."""
        target = (url or self.push_url).rsplit("/", 1)[0] + "/" + token
        async with self._client().post(target, data=json.dumps(records, ensure_ascii=False).encode(),
                                       headers={"Content-Type": "application/json"}) as response:
            text = await response.text()
            try:
                return response.status, json.loads(text)
            except ValueError:
                return response.status, {"text": text}

    async def release(self) -> list[Push]:
        """Send the held pushes in the order they were made."""
        sent, self.held = self.held, []
        for item in sent:
            await self._deliver(item)
        return sent

    async def settled(self) -> None:
        while self._sending:
            await asyncio.gather(*list(self._sending), return_exceptions=True)

    async def _deliver(self, item: Push) -> None:
        """Push; Alibaba retries a non-200 answer (after 1, 5, 10 minutes: here at once, three times)."""
        self.pushes.append(item)
        for _ in range(4):
            async with self._client().post(self.push_url, data=item.body,
                                           headers={"Content-Type": "application/json"}) as response:
                item.responses.append((response.status, await response.json(content_type=None)))
                if response.status == 200:
                    return

    async def _handle(self, request: web.Request) -> web.Response:
        params = dict(parse_qsl((await request.read()).decode(), keep_blank_values=True))
        params.update(request.query)
        signed = hmac.compare_digest(alibaba_signature(self.secret, request.method, params),
                                     params.get("Signature", ""))
        self.requests.append(IvrRequest(params, signed))
        request_id = "4ABF7FB6-449C-4624-8CC6-9AAE368453AA"
        if not signed:
            return web.json_response({"Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched "
                                      "with our calculation.", "RequestId": request_id}, status=400)
        status, code = self._script.pop(0) if self._script else (200, "OK")
        if status == -1:
            await asyncio.sleep(30)
        if code != "OK" or status != 200:
            return web.json_response({"Code": code, "Message": f"scripted {code}", "RequestId": request_id},
                                     status=status) if code else web.Response(status=status, text="error")
        call_id = f"{next(self._ids)}^{next(self._ids)}"
        self.placed.append(params)
        callee = self._callees.pop(0) if self._callees else self.default
        item = Push(json.dumps([self.record(params["OutId"], callee, call_id)], ensure_ascii=False).encode(),
                    params["OutId"])
        if self.hold:
            self.held.append(item)
        else:
            task = asyncio.create_task(self._deliver(item))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
        return web.json_response({"Message": "OK", "RequestId": request_id, "Code": "OK", "CallId": call_id})

    def _client(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        return self._http

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post("/", self._handle)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.2, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for task in list(self._sending):
            task.cancel()
        await asyncio.gather(*self._sending, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()


def aliyun_settings(base, hook_url: str, endpoint: str, **channel):
    """The warning settings of support.warning_factories with 责任人 called through an `aliyun` channel."""
    from support.warning_factories import warning_settings

    aliyun = {"kind": "aliyun_voice", "endpoint": endpoint, "access_key_id_env": KEY_ID_ENV,
              "access_key_secret_env": SECRET_ENV, "callback_token_env": TOKEN_ENV,
              "called_show_number": "057100000000", "tts_code": "TTS_100001", "ack_tts_code": "TTS_100002",
              "timeout_seconds": 2, "concurrency": 4, "rate_per_second": None, **channel}
    return warning_settings(base, hook_url, extra_channels={"aliyun": aliyun},
                            default_route={"departments": ["emergency"], "person_levels": [],
                                           "department_channel": "", "person_channels": ["aliyun"],
                                           "template": "default"})
