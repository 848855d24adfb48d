"""Per-channel admission: a concurrency limit and a token-bucket rate, with an injectable clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Self, TypeVar

T = TypeVar("T")


class Gate:
    """At most `concurrency` calls at once, started at most `rate_per_second` a second."""

    def __init__(
        self,
        concurrency: int,
        rate_per_second: float | None = None,
        *,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ):
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if rate_per_second is not None and rate_per_second <= 0:
            raise ValueError("rate_per_second must be positive")
        self.concurrency = concurrency
        self.rate_per_second = rate_per_second
        self._slots = asyncio.Semaphore(concurrency)
        self._burst = max(1, burst)
        self._tokens = float(self._burst)
        self._clock = clock
        self._sleep = sleep
        self._refilled = clock()
        # Waiters for a token queue here, so they start in arrival order.
        self._turn = asyncio.Lock()
        self.active = 0
        # Nothing enters before this moment (of `clock`): the provider blocked the channel.
        self.paused_until = 0.0

    def pause(self, seconds: float) -> None:
        """Let nothing through for `seconds` from now (a later pause never shortens an earlier one)."""
        self.paused_until = max(self.paused_until, self._clock() + seconds)

    async def __aenter__(self) -> Self:
        await self._slots.acquire()
        while (wait := self.paused_until - self._clock()) > 0:
            try:
                await self._sleep(wait)
            except BaseException:
                self._slots.release()
                raise
        if self.rate_per_second is not None:  # no rate limit: no token to wait for
            try:
                await self._take_token()
            except BaseException:
                self._slots.release()
                raise
        self.active += 1
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.active -= 1
        self._slots.release()

    async def run(self, coro_fn: Callable[[], Awaitable[T]]) -> T:
        """Await `coro_fn()` inside the gate."""
        async with self:
            return await coro_fn()

    async def _take_token(self) -> None:
        async with self._turn:
            while True:
                now = self._clock()
                elapsed = max(0.0, now - self._refilled)
                self._tokens = min(self._burst, self._tokens + elapsed * self.rate_per_second)
                self._refilled = now
                # The tolerance absorbs float rounding of elapsed * rate (0.3 * 3.33… < 1).
                if self._tokens >= 1 - 1e-9:
                    self._tokens = max(0.0, self._tokens - 1)
                    return
                await self._sleep((1 - self._tokens) / self.rate_per_second)
