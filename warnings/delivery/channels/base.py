"""The shapes every channel shares: the outgoing message, the result and the channel protocol."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class ChannelResult:
    """The outcome of one delivery attempt; `detail` never carries a secret."""

    ok: bool
    retry: bool
    detail: str
    status: int | None = None
    # Seconds the receiver asked us to wait (HTTP Retry-After), when it said so.
    retry_after: float | None = None


@dataclass(frozen=True)
class OutgoingMessage:
    """One notification for one recipient on one channel."""

    recipient_name: str
    address: str
    title: str
    text: str
    ack_url: str
    idempotency_key: str
    payload: dict = field(default_factory=dict)


@runtime_checkable
class Channel(Protocol):
    """Something that delivers messages and never raises for a delivery failure."""

    name: str
    kind: str

    async def send(self, message: OutgoingMessage) -> ChannelResult:
        """Deliver `message` once."""
        ...
