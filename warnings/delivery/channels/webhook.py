"""Generic webhook: signed JSON POST with an idempotency key."""

from __future__ import annotations

import json

import aiohttp

from fangxun.core.memo import PerDict
from fangxun.warnings.delivery.channels.base import ChannelResult, OutgoingMessage
from fangxun.warnings.delivery.channels.config import Secrets, WebhookConfig
from fangxun.warnings.delivery.channels.signing import verify_webhook_signature, webhook_signature
from fangxun.warnings.delivery.channels.transport import SignedHttpChannel, accepted, finish, post

__all__ = ["WebhookChannel", "verify_webhook_signature", "webhook_body"]

# One encoder for every body (json.dumps with options builds a new one per call).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)
CORE_FIELDS = ("title", "text", "recipient", "address", "ack_url", "idempotency_key")


def webhook_body(message: OutgoingMessage) -> bytes:
    """The JSON document posted for `message` (payload keys never override the core fields)."""
    head = _payload_head(message.payload)
    if head is None:  # the payload names a core field: the plain merge keeps that key's place
        return _ENCODER.encode(_document(message)).encode()
    string = _ENCODER.encode  # a str encodes straight to its JSON string literal
    return (f'{head}"title":{string(message.title)},"text":{string(message.text)},'
            f'"recipient":{string(message.recipient_name)},"address":{string(message.address)},'
            f'"ack_url":{string(message.ack_url)},"idempotency_key":{string(message.idempotency_key)}}}').encode()


def _document(message: OutgoingMessage) -> dict:
    return {**message.payload, "title": message.title, "text": message.text, "recipient": message.recipient_name,
            "address": message.address, "ack_url": message.ack_url, "idempotency_key": message.idempotency_key}


def _head_of(payload: dict) -> str | None:
    """'{' and the payload's members, each followed by ',' (None when it has a core field's name)."""
    if any(field in payload for field in CORE_FIELDS):
        return None
    return _ENCODER.encode(payload)[:-1] + ("," if payload else "")


# The dispatcher gives every message of one intake the same payload dict, so a city-wide fan-out
# encodes its payload once, not 10,000 times.
_payload_head = PerDict(_head_of)


class WebhookChannel(SignedHttpChannel):
    """POSTs each message as JSON; signs it with HMAC-SHA256 when a secret is configured."""

    kind = "webhook"

    async def send(self, message: OutgoingMessage) -> ChannelResult:
        """POST the message once."""
        body = webhook_body(message)
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": message.idempotency_key,
            "X-Fangxun-Timestamp": timestamp,
        }
        secrets = self._secrets
        if self._secret:
            signature = webhook_signature(self._secret, timestamp, body)
            headers["X-Fangxun-Signature"] = signature
            secrets = [*secrets, signature.removeprefix("sha256=")]
        outcome = await post(self._http, self._url, body, headers, self._timeout, secrets)
        return finish(outcome, accepted)


def build(name: str, config: WebhookConfig, http: aiohttp.ClientSession, secrets: Secrets) -> WebhookChannel:
    """The channel `config` describes (registered in config.KINDS)."""
    return WebhookChannel(name, http, config.url, secret=secrets.get(config.secret_env),
                          timeout_seconds=config.timeout_seconds)
