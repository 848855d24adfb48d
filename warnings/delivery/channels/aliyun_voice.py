"""Voice calls through 阿里云语音服务 (IvrCall): the message read out, key 1 acknowledges, key 2 replays.

Each call is in the call ledger (delivery/calls.py) before its request goes out, under a 15-character call id
(aliyun_protocol.out_id) sent as OutId: Alibaba gives it back in the call record it pushes to
/api/callbacks/voice/{channel}/{token} (api/routes_aliyun_voice.py). A call Alibaba took is not requested
again; one whose request timed out is requested again under the same OutId (Alibaba has no idempotency key:
it may then ring twice, and the first record of the call counts).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlencode

import aiohttp

from fangxun.warnings.delivery.calls import CallLedger, begin_call, settle_call
from fangxun.warnings.delivery.channels.aliyun_protocol import ACTION, VERSION, classify_answer, ivr_params, out_id
from fangxun.warnings.delivery.channels.aliyun_signing import percent_encode, signed_params
from fangxun.warnings.delivery.channels.base import ChannelResult, DispatchContext, OutgoingMessage
from fangxun.warnings.delivery.channels.config import AliyunVoiceConfig, Secrets
from fangxun.warnings.delivery.channels.speech import speech_text
from fangxun.warnings.delivery.channels.transport import USER_AGENT

MAX_ANSWER_BYTES = 64 * 1024


class AliyunVoiceChannel:
    """POSTs a signed IvrCall per message; Code OK means Alibaba took the call. Needs the dispatcher's database
    (attach) to keep its calls."""

    kind = "aliyun_voice"

    def __init__(self, name: str, http: aiohttp.ClientSession, config: AliyunVoiceConfig, access_key_id: str,
                 secret: str, *, clock: Callable[[], float] = time.time):
        self.name = name
        self._http = http
        self._config = config
        self._key_id = access_key_id
        self._secret = secret
        self._clock = clock  # Timestamp is the real time: Alibaba refuses a stale one
        self._ledger: CallLedger | None = None
        self._secrets = [secret, access_key_id]

    def attach(self, context: DispatchContext) -> None:
        """Keep the calls in the dispatcher's database."""
        self._ledger = CallLedger(context.sessions, context.now, out_id)

    async def send(self, message: OutgoingMessage) -> ChannelResult:
        """Open (or find again) the message's call in the ledger, then request it."""
        call = await begin_call(self._ledger, message, self.name, "Alibaba Cloud")
        if isinstance(call, ChannelResult):
            return call
        to = message.address.strip()
        result = await self._request(self._body(call.call_id, to, message))
        return await settle_call(self._ledger, self.name, call.call_id, result)

    def _body(self, call: str, to: str, message: OutgoingMessage) -> bytes:
        """The signed form body of the call's IvrCall."""
        config = self._config
        # An all-clear comes without an ack link: nobody is asked to press 1.
        text = speech_text(message.title, message.text, config.max_chars, message.ack_url, bool(message.ack_url))
        params = ivr_params(region_id=config.region_id, called_show_number=config.called_show_number, to=to,
                            tts_code=config.tts_code, tts_param=config.tts_param, text=text,
                            play_times=config.repeat, key_timeout_ms=config.key_timeout_ms,
                            ack_tts_code=config.ack_tts_code, call=call)
        stamp = datetime.fromtimestamp(self._clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        signed = signed_params(params, access_key_id=self._key_id, secret=self._secret, action=ACTION,
                               version=VERSION, timestamp=stamp, nonce=str(uuid.uuid4()))
        return urlencode(signed, quote_via=lambda value, *_: percent_encode(value)).encode("ascii")

    async def _request(self, body: bytes) -> ChannelResult:
        """One POST to the endpoint; any answer judged by its Code, transport failures retried."""
        headers = {"User-Agent": USER_AGENT, "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                   "Accept": "application/json"}
        try:
            async with self._http.post(self._config.endpoint, data=body, headers=headers, allow_redirects=False,
                                       timeout=aiohttp.ClientTimeout(total=self._config.timeout_seconds)) as answer:
                return classify_answer(answer.status, await _read_capped(answer), self._secrets)
        except TimeoutError:
            return ChannelResult(ok=False, retry=True, detail=f"timeout after {self._config.timeout_seconds:g} s")
        except aiohttp.InvalidURL:
            return ChannelResult(ok=False, retry=False, detail="invalid URL in the channel configuration")
        except (aiohttp.ClientError, OSError) as exc:
            return ChannelResult(ok=False, retry=True, detail=f"connection failed ({type(exc).__name__})")


async def _read_capped(answer: aiohttp.ClientResponse) -> bytes:
    """The answer's body, no more than MAX_ANSWER_BYTES of it."""
    body = bytearray()
    async for chunk in answer.content.iter_chunked(16 * 1024):
        body += chunk
        if len(body) >= MAX_ANSWER_BYTES:
            break
    return bytes(body[:MAX_ANSWER_BYTES])


def build(name: str, config: AliyunVoiceConfig, http: aiohttp.ClientSession, secrets: Secrets) -> AliyunVoiceChannel:
    """The channel `config` describes (registered in config.KINDS); the report token must be set too."""
    secrets.require(config.callback_token_env)
    return AliyunVoiceChannel(name, http, config, secrets.require(config.access_key_id_env),
                              secrets.require(config.access_key_secret_env))
