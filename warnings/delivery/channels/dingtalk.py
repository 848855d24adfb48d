"""DingTalk (钉钉) robot: markdown message, signed with the robot's timestamp+secret scheme."""

from __future__ import annotations

import json
from dataclasses import replace

import aiohttp

from fangxun.warnings.delivery.channels.base import ChannelResult, OutgoingMessage
from fangxun.warnings.delivery.channels.classify import classify_errcode
from fangxun.warnings.delivery.channels.config import DingTalkConfig, Secrets
from fangxun.warnings.delivery.channels.signing import dingtalk_signed_url
from fangxun.warnings.delivery.channels.text import fit_bytes
from fangxun.warnings.delivery.channels.transport import SignedHttpChannel, finish, post

MAX_TEXT_BYTES = 20000
# 130101: sending too fast; -1: system busy, try again later.
RETRYABLE_ERRCODES = frozenset({130101, -1})
TOO_FAST = 130101
# DingTalk blocks a robot that sends more than 20 messages a minute for 10 minutes.
BLOCKED_SECONDS = 600.0


def dingtalk_markdown(message: OutgoingMessage, max_bytes: int = MAX_TEXT_BYTES) -> dict:
    """The markdown part: title and text, the text cut to `max_bytes` with the ack link kept."""
    head = f"### {message.title}\n\n"
    if message.recipient_name:
        head += f"> 接收：{message.recipient_name}\n\n"
    tail = f"\n\n[收到请点此确认（叫应）]({message.ack_url})" if message.ack_url else ""
    return {"title": message.title, "text": fit_bytes(head, message.text, tail, max_bytes)}


class DingTalkChannel(SignedHttpChannel):
    """Posts markdown to one DingTalk robot; errors come in a 200 body as errcode."""

    kind = "dingtalk"

    async def send(self, message: OutgoingMessage) -> ChannelResult:
        """POST the message once."""
        document = {"msgtype": "markdown", "markdown": dingtalk_markdown(message)}
        body = json.dumps(document, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        secrets = list(self._secrets)
        url = self._url
        if self._secret:
            url, sign = dingtalk_signed_url(self._url, self._secret, int(self._clock() * 1000))
            secrets += [url, sign]
        outcome = await post(self._http, url, body, headers, self._timeout, secrets, encoded=True)
        result = finish(
            outcome,
            lambda reply: classify_errcode(reply.status, reply.body, RETRYABLE_ERRCODES, secrets=secrets),
        )
        if result.detail.startswith(f"errcode {TOO_FAST}"):
            # Trying again before the block ends only prolongs it: every message of this robot waits.
            return replace(result, retry_after=BLOCKED_SECONDS, blocked_for=BLOCKED_SECONDS)
        return result


def build(name: str, config: DingTalkConfig, http: aiohttp.ClientSession, secrets: Secrets) -> DingTalkChannel:
    """The channel `config` describes (registered in config.KINDS)."""
    return DingTalkChannel(name, http, secrets.url(config.url_env), secret=secrets.get(config.secret_env),
                           timeout_seconds=config.timeout_seconds)
