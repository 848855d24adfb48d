"""SMS through the bureau's HTTP gateway: short signed text with the ack link (and 回复1确认收到 when replies are taken)."""

from __future__ import annotations

import json

import aiohttp

from fangxun.warnings.acks.reply_rules import REPLY_HINT
from fangxun.warnings.delivery.channels.base import ChannelResult, OutgoingMessage
from fangxun.warnings.delivery.channels.classify import classify_code, url_secrets
from fangxun.warnings.delivery.channels.config import Secrets, SmsConfig
from fangxun.warnings.delivery.channels.text import ELLIPSIS, fit_chars
from fangxun.warnings.delivery.channels.transport import finish, post


def sms_text(message: OutgoingMessage, sign: str, max_chars: int, *, replies: bool = False) -> str:
    """sign + title and text, cut to `max_chars` characters, the ack link kept whole; when the channel takes
    replies, ending with 回复1确认收到, the link kept too when it fits beside the whole title. A message that
    asks for no 叫应 (an all-clear: no ack link) asks for no reply either."""
    head = f"{sign}{message.title}"
    body = f"：{message.text}" if message.text else ""
    if not replies or not message.ack_url:
        return fit_chars(head, body, f" 收到请点击确认：{message.ack_url}" if message.ack_url else "", max_chars)
    tail = f" {REPLY_HINT}"
    if message.ack_url:
        with_link = f" 收到请点击确认：{message.ack_url} 或{REPLY_HINT}"
        if len(head) + len(ELLIPSIS) + len(with_link) <= max_chars:
            tail = with_link
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
        replies: bool = False,
    ):
        self.name = name
        self._http = http
        self._url = url
        self._token = token
        self._sign = sign
        self._max_chars = max_chars
        self._timeout = timeout_seconds
        self._replies = replies
        self._secrets = url_secrets(url) + [token]

    async def send(self, message: OutgoingMessage) -> ChannelResult:
        """POST the message once."""
        if not message.address.strip():
            return ChannelResult(ok=False, retry=False, detail="no phone number")
        document = {"phone": message.address.strip(), "text": sms_text(message, self._sign, self._max_chars,
                                                                           replies=self._replies)}
        body = json.dumps(document, ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {self._token}",
            "Idempotency-Key": message.idempotency_key,
        }
        outcome = await post(self._http, self._url, body, headers, self._timeout, self._secrets)
        return finish(outcome, lambda reply: classify_code(reply.status, reply.body, secrets=self._secrets))


def build(name: str, config: SmsConfig, http: aiohttp.ClientSession, secrets: Secrets) -> SmsChannel:
    """The channel `config` describes (registered in config.KINDS); a callback secret that is named must be set,
    or messages would ask for replies nobody can receive."""
    secrets.get(config.callback_secret_env)
    return SmsChannel(name, http, config.url, secrets.require(config.token_env), sign=config.sign,
                      max_chars=config.max_chars, timeout_seconds=config.timeout_seconds,
                      replies=config.callback_secret_env is not None)
