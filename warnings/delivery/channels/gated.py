"""A channel behind its own gate, so one slow or failing channel never holds up another."""

from __future__ import annotations

import time
from dataclasses import replace

from fangxun.warnings import telemetry
from fangxun.warnings.delivery.channels.base import (Attachable, Channel, ChannelResult, DispatchContext,
                                                     OutgoingMessage)
from fangxun.warnings.delivery.channels.gate import Gate
from fangxun.warnings.delivery.limits import blocked_detail


class GatedChannel:
    """Passes each send through the channel's gate (concurrency and rate limit)."""

    def __init__(self, inner: Channel, gate: Gate):
        self.inner = inner
        self.gate = gate
        self.name = inner.name
        self.kind = inner.kind

    async def send(self, message: OutgoingMessage) -> ChannelResult:
        """Wait for the gate, then deliver once."""
        async with self.gate:
            started = time.perf_counter()
            result = await self.inner.send(message)
            telemetry.sent(self.name, time.perf_counter() - started)
        if result.blocked_for:
            self.gate.pause(result.blocked_for)
            result = replace(result, detail=blocked_detail(result.detail))
        return result

    def attach(self, context: DispatchContext) -> None:
        """Attach the channel inside, when it keeps records of its own."""
        if isinstance(self.inner, Attachable):
            self.inner.attach(context)
