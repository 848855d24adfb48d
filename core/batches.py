"""Group commit: items submitted by concurrent callers are handled a batch at a time (one transaction for many),
each caller awaiting its own result; a batch is whatever queued while the previous one ran."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Batcher(Generic[T, R]):
    """Runs `run(items)` (results in the items' order) on up to `max_batch` queued items at a time; an
    exception of `run` is every caller's of that batch. No waiting to fill a batch: a lone item goes at once."""

    def __init__(self, run: Callable[[list[T]], Awaitable[Sequence[R]]], max_batch: int = 500):
        self._run = run
        self.max_batch = max_batch
        self._queue: deque[tuple[T, asyncio.Future]] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def submit(self, item: T) -> R:
        """`item`'s result, once its batch has run."""
        future = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="fangxun-batcher")
        return await future

    async def close(self) -> None:
        """Stop; callers still waiting are cancelled."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        while self._queue:
            self._queue.popleft()[1].cancel()

    async def _drain(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                batch = [self._queue.popleft() for _ in range(min(len(self._queue), self.max_batch))]
                try:
                    results = await self._run([item for item, _ in batch])
                except asyncio.CancelledError:
                    for _, future in batch:
                        future.cancel()
                    raise
                except Exception as exc:  # the callers of this batch get it; the next batch still runs
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
