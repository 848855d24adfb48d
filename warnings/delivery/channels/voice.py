"""Voice calls through the generic voice gateway (语音网关): the message read out, key 1 acknowledges.

Each call is in the call ledger (delivery/calls.py) before its request goes out, under a call id derived
from the notification's idempotency key: a request repeated after a timeout or a crash is the same call,
and one the gateway already took is not requested again. The results come back by callback
(api/routes_voice.py).
"""

from __future__ import annotations

import aiohttp

from fangxun.warnings.delivery.calls import CallLedger, begin_call, settle_call
from fangxun.warnings.delivery.channels.base import ChannelResult, DispatchContext, OutgoingMessage
from fangxun.warnings.delivery.channels.classify import url_secrets
from fangxun.warnings.delivery.channels.config import Secrets, VoiceConfig
from fangxun.warnings.delivery.channels.signing import body_signature
from fangxun.warnings.delivery.channels.speech import speech_text
from fangxun.warnings.delivery.channels.transport import Reply, post
from fangxun.warnings.delivery.channels.voice_protocol import SIGNATURE_HEADER, call_request, callback_url


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
        call = await begin_call(self._ledger, message, self.name, "the gateway")
        if isinstance(call, ChannelResult):
            return call
        to = message.address.strip()
        # An all-clear comes without an ack link: nobody is asked to press 1.
        text = speech_text(message.title, message.text, self._max_chars, message.ack_url, bool(message.ack_url))
        body = call_request(call.call_id, to, text, self._repeat, self._callback_url)
        signature = body_signature(self._secret, body)
        headers = {"Content-Type": "application/json; charset=utf-8", SIGNATURE_HEADER: signature,
                   "Idempotency-Key": call.call_id}
        outcome = await post(self._http, self._url, body, headers, self._timeout,
                             [*self._secrets, signature.removeprefix("sha256=")])
        if isinstance(outcome, Reply):
            outcome = ChannelResult(ok=True, retry=False, detail=f"HTTP {outcome.status}", status=outcome.status)
        return await settle_call(self._ledger, self.name, call.call_id, outcome)


def build(name: str, config: VoiceConfig, http: aiohttp.ClientSession, secrets: Secrets) -> VoiceChannel:
    """The channel `config` describes (registered in config.KINDS)."""
    return VoiceChannel(name, http, config.url, secrets.require(config.secret_env), repeat=config.repeat,
                        max_chars=config.max_chars, timeout_seconds=config.timeout_seconds,
                        callback_base_url=config.callback_base_url)
