"""The shapes every channel shares: the outgoing message, the result and the channel protocol."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class ChannelResult:
    """The outcome of one delivery attempt; `detail` never carries a secret."""

    ok: bool
    retry: bool
    detail: str
    status: int | None = None
    # Seconds the receiver asked us to wait (HTTP Retry-After), when it said so.
    retry_after: float | None = None
    # Seconds the provider now refuses every message of this channel (a robot blocked for sending too fast).
    blocked_for: float | None = None


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


@dataclass(frozen=True)
class DispatchContext:
    """What the dispatcher driving a channel lends it: the database's sessions (an async_sessionmaker), its
    clock's `now` and the service's public base URL (the one ack links use)."""

    sessions: Any
    now: Callable[[], datetime]
    base_url: str


@runtime_checkable
class Attachable(Protocol):
    """A channel that keeps records of its own in the database (the voice channel's calls): the dispatcher
    attaches it before the first send."""

    def attach(self, context: DispatchContext) -> None:
        """Keep what the channel needs of `context`."""
        ...
