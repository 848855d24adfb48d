"""Voice calls through the generic voice gateway (语音网关): the message read out, key 1 acknowledges.

Each call is in the call ledger (delivery/calls.py) before its request goes out, under a call id derived
from the notification's idempotency key: a request repeated after a timeout or a crash is the same call,
and one the gateway already took is not requested again. The results come back by callback
(api/routes_voice.py).
"""

from __future__ import annotations

import logging
from dataclasses import replace

import aiohttp
from sqlalchemy.exc import SQLAlchemyError

from fangxun.warnings.delivery.calls import CallLedger
from fangxun.warnings.delivery.channels.base import ChannelResult, DispatchContext, OutgoingMessage
from fangxun.warnings.delivery.channels.classify import url_secrets
from fangxun.warnings.delivery.channels.config import Secrets, VoiceConfig
from fangxun.warnings.delivery.channels.signing import body_signature
from fangxun.warnings.delivery.channels.speech import speech_text
from fangxun.warnings.delivery.channels.transport import Reply, post
from fangxun.warnings.delivery.channels.voice_protocol import SIGNATURE_HEADER, call_request, callback_url

log = logging.getLogger(__name__)


class VoiceChannel:
    """POSTs a signed call request per message; 2xx means the gateway took the call. Needs the dispatcher's
    database (attach) to keep its calls."""

    kind = "voice"

    def __init__(self, name: str, http: aiohttp.ClientSession, url: str, secret: str, *, repeat: int = 2,
                 max_chars: int = 500, timeout_seconds: float = 10, callback_base_url: str | None = None):
        self.name = name
        self._http = http
        self._url = url
        self._secret = secret
        self._repeat = repeat
        self._max_chars = max_chars
        self._timeout = timeout_seconds
        self._callback_base_url = callback_base_url
        self._callback_url: str | None = None
        self._ledger: CallLedger | None = None
        self._secrets = [*url_secrets(url), secret]

    def attach(self, context: DispatchContext) -> None:
        """Keep the calls in the dispatcher's database; results come back to its public base URL (unless
        the configuration names another for the gateway)."""
        self._ledger = CallLedger(context.sessions, context.now)
        self._callback_url = callback_url(self._callback_base_url or context.base_url, self.name)

    async def send(self, message: OutgoingMessage) -> ChannelResult:
        """Open (or find again) the message's call in the ledger, then request it once."""
        to = message.address.strip()
        if not to:
            return ChannelResult(ok=False, retry=False, detail="no phone number")
        if self._ledger is None:
            return ChannelResult(ok=False, retry=False, detail="voice channel not attached to a dispatcher")
        try:
            call = await self._ledger.open(message.idempotency_key, self.name, to)
        except SQLAlchemyError as exc:
            return ChannelResult(ok=False, retry=True, detail=f"call ledger unavailable ({type(exc).__name__})")
        if call.call_id is None:
            return ChannelResult(ok=call.acknowledged, retry=False, detail=call.reason)
        if call.accepted:
            return ChannelResult(ok=True, retry=False, detail=f"call {call.call_id} already taken by the gateway")
        # An all-clear comes without an ack link: nobody is asked to press 1.
        text = speech_text(message.title, message.text, self._max_chars, message.ack_url, bool(message.ack_url))
        body = call_request(call.call_id, to, text, self._repeat, self._callback_url)
        signature = body_signature(self._secret, body)
        headers = {"Content-Type": "application/json; charset=utf-8", SIGNATURE_HEADER: signature,
                   "Idempotency-Key": call.call_id}
        outcome = await post(self._http, self._url, body, headers, self._timeout,
                             [*self._secrets, signature.removeprefix("sha256=")])
        return await self._settle(call.call_id, outcome)

    async def _settle(self, call: str, outcome: Reply | ChannelResult) -> ChannelResult:
        """Write what the gateway said to the ledger; the result names the call."""
        if isinstance(outcome, Reply):
            result = ChannelResult(ok=True, retry=False, detail=f"HTTP {outcome.status}, call {call}",
                                   status=outcome.status)
            step = self._ledger.accepted(call)
        else:
            result = replace(outcome, detail=f"{outcome.detail}, call {call}")
            step = (self._ledger.request_error if outcome.retry else self._ledger.refused)(call, outcome.detail)
        try:
            await step
        except SQLAlchemyError:
            # The request's fate is also the outbox row's; the call row still answers its callback.
            log.warning("voice channel %s: could not note the request of call %s", self.name, call, exc_info=True)
        return result


def build(name: str, config: VoiceConfig, http: aiohttp.ClientSession, secrets: Secrets) -> VoiceChannel:
    """The channel `config` describes (registered in config.KINDS)."""
    return VoiceChannel(name, http, config.url, secrets.require(config.secret_env), repeat=config.repeat,
                        max_chars=config.max_chars, timeout_seconds=config.timeout_seconds,
                        callback_base_url=config.callback_base_url)
