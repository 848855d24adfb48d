"""Event-loop lag: how late a short sleep wakes up. A busy loop (a long synchronous stretch, the collector, a
starved CPU) answers requests and sends messages that much later."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from prometheus_client import Gauge

SAMPLE_SECONDS = 0.25
# The gauge shows the worst lag of this many seconds, so a scrape every 15 s misses no stall.
WINDOW_SECONDS = 15.0

LOOP_LAG = Gauge("fangxun_event_loop_lag_seconds",
                 f"Worst event-loop lag of the last {WINDOW_SECONDS:g} s (a {SAMPLE_SECONDS:g} s sleep woke this late)")


class LoopLag:
    """Samples the lag of the running loop; `worst()` is the largest of the window."""

    def __init__(self, every: float = SAMPLE_SECONDS, window: float = WINDOW_SECONDS):
        self.every = every
        self.window = window
        self._samples: deque[tuple[float, float]] = deque()

    def note(self, at: float, lag: float) -> None:
        """Keep one sample taken at monotonic time `at`; forget those out of the window."""
        self._samples.append((at, max(0.0, lag)))
        while self._samples and self._samples[0][0] < at - self.window:
            self._samples.popleft()
        LOOP_LAG.set(self.worst())

    def worst(self) -> float:
        """The largest lag in the window (0 before the first sample)."""
        return max((lag for _, lag in self._samples), default=0.0)

    async def run(self) -> None:
        """Sample until cancelled."""
        while True:
            start = time.monotonic()
            await asyncio.sleep(self.every)
            woke = time.monotonic()
            self.note(woke, woke - start - self.every)


@asynccontextmanager
async def watching_loop_lag(every: float = SAMPLE_SECONDS) -> AsyncIterator[LoopLag]:
    """A LoopLag sampling the running loop while the block runs."""
    monitor = LoopLag(every)
    task = asyncio.create_task(monitor.run(), name="fangxun-loop-lag")
    try:
        yield monitor
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
