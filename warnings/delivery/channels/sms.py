"""SMS through the bureau's HTTP gateway: short signed text with the ack link."""

from __future__ import annotations

import json

import aiohttp

from fangxun.warnings.delivery.channels.base import ChannelResult, OutgoingMessage
from fangxun.warnings.delivery.channels.classify import classify_code, url_secrets
from fangxun.warnings.delivery.channels.config import Secrets, SmsConfig
from fangxun.warnings.delivery.channels.text import fit_chars
from fangxun.warnings.delivery.channels.transport import finish, post


def sms_text(message: OutgoingMessage, sign: str, max_chars: int) -> str:
    """sign + title and text, cut to `max_chars` characters, the ack link kept whole."""
    head = f"{sign}{message.title}"
    body = f"：{message.text}" if message.text else ""
    tail = f" 收到请点击确认：{message.ack_url}" if message.ack_url else ""
    return fit_chars(head, body, tail, max_chars)


class SmsChannel:
    """POSTs `{"phone", "text"}` with a bearer token; `{"code": 0}` or an empty 2xx is success."""

    kind = "sms"

    def __init__(
        self,
        name: str,
        http: aiohttp.ClientSession,
        url: str,
        token: str,
        *,
        sign: str = "【郑州防汛】",
        max_chars: int = 300,
        timeout_seconds: float = 10,
    ):
        self.name = name
        self._http = http
        self._url = url
        self._token = token
        self._sign = sign
        self._max_chars = max_chars
        self._timeout = timeout_seconds
        self._secrets = url_secrets(url) + [token]

    async def send(self, message: OutgoingMessage) -> ChannelResult:
        """POST the message once."""
        if not message.address.strip():
            return ChannelResult(ok=False, retry=False, detail="no phone number")
        document = {"phone": message.address.strip(), "text": sms_text(message, self._sign, self._max_chars)}
        body = json.dumps(document, ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {self._token}",
            "Idempotency-Key": message.idempotency_key,
        }
        outcome = await post(self._http, self._url, body, headers, self._timeout, self._secrets)
        return finish(outcome, lambda reply: classify_code(reply.status, reply.body, secrets=self._secrets))


def build(name: str, config: SmsConfig, http: aiohttp.ClientSession, secrets: Secrets) -> SmsChannel:
    """The channel `config` describes (registered in config.KINDS)."""
    return SmsChannel(name, http, config.url, secrets.require(config.token_env), sign=config.sign,
                      max_chars=config.max_chars, timeout_seconds=config.timeout_seconds)
