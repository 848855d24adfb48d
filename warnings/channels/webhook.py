"""Generic webhook: signed JSON POST with an idempotency key."""

from __future__ import annotations

import json

from fangxun.warnings.channels.base import ChannelResult, OutgoingMessage
from fangxun.warnings.channels.signing import verify_webhook_signature, webhook_signature
from fangxun.warnings.channels.transport import SignedHttpChannel, accepted, finish, post

__all__ = ["WebhookChannel", "verify_webhook_signature", "webhook_body"]


def webhook_body(message: OutgoingMessage) -> bytes:
    """The JSON document posted for `message` (payload keys never override the core fields)."""
    document = {
        **message.payload,
        "title": message.title,
        "text": message.text,
        "recipient": message.recipient_name,
        "address": message.address,
        "ack_url": message.ack_url,
        "idempotency_key": message.idempotency_key,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=str).encode()


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
        secrets = list(self._secrets)
        if self._secret:
            signature = webhook_signature(self._secret, timestamp, body)
            headers["X-Fangxun-Signature"] = signature
            secrets.append(signature.removeprefix("sha256="))
        outcome = await post(self._http, self._url, body, headers, self._timeout, secrets)
        return finish(outcome, accepted)
