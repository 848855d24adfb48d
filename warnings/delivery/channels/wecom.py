"""WeCom (企业微信) group robot: markdown message to the robot's webhook URL."""

from __future__ import annotations

import json

import aiohttp

from fangxun.warnings.delivery.channels.base import ChannelResult, OutgoingMessage
from fangxun.warnings.delivery.channels.classify import classify_errcode, url_secrets
from fangxun.warnings.delivery.channels.config import Secrets, WeComConfig
from fangxun.warnings.delivery.channels.text import fit_bytes
from fangxun.warnings.delivery.channels.transport import finish, post

MAX_CONTENT_BYTES = 4096
# 45009: over the robot's rate limit; -1: system busy, try again later.
RETRYABLE_ERRCODES = frozenset({45009, -1})


def wecom_markdown(message: OutgoingMessage, max_bytes: int = MAX_CONTENT_BYTES) -> str:
    """The markdown content, cut to `max_bytes` of UTF-8 with the ack link kept whole."""
    head = f"## {message.title}\n"
    if message.recipient_name:
        head += f"> 接收：{message.recipient_name}\n"
    head += "\n"
    tail = f"\n\n[收到请点此确认（叫应）]({message.ack_url})" if message.ack_url else ""
    return fit_bytes(head, message.text, tail, max_bytes)


class WeComChannel:
    """Posts markdown to one WeCom group robot; errors come in a 200 body as errcode."""

    kind = "wecom"

    def __init__(self, name: str, http: aiohttp.ClientSession, url: str, *, timeout_seconds: float = 10):
        self.name = name
        self._http = http
        self._url = url
        self._timeout = timeout_seconds
        self._secrets = url_secrets(url)

    async def send(self, message: OutgoingMessage) -> ChannelResult:
        """POST the message once."""
        document = {"msgtype": "markdown", "markdown": {"content": wecom_markdown(message)}}
        body = json.dumps(document, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        outcome = await post(self._http, self._url, body, headers, self._timeout, self._secrets)
        return finish(
            outcome,
            lambda reply: classify_errcode(
                reply.status, reply.body, RETRYABLE_ERRCODES, secrets=self._secrets
            ),
        )


def build(name: str, config: WeComConfig, http: aiohttp.ClientSession, secrets: Secrets) -> WeComChannel:
    """The channel `config` describes (registered in config.KINDS)."""
    return WeComChannel(name, http, secrets.url(config.url_env), timeout_seconds=config.timeout_seconds)
