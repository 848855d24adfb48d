"""Group commit (core/batches.py): concurrent submissions share batches, each caller gets its own result."""

from __future__ import annotations

import asyncio

import pytest

from fangxun.core.batches import Batcher


async def test_what_queues_while_a_batch_runs_goes_in_the_next_one_in_order():
    batches: list[list[int]] = []
    release = asyncio.Event()

    async def run(items: list[int]) -> list[int]:
        batches.append(items)
        if len(batches) == 1:
            await release.wait()  # the first batch is slow: the others queue behind it
        return [item * 10 for item in items]

    batcher = Batcher(run, max_batch=4)
    first = asyncio.create_task(batcher.submit(0))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(batcher.submit(n)) for n in range(1, 7)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(first, *rest) == [0, 10, 20, 30, 40, 50, 60]
    assert batches == [[0], [1, 2, 3, 4], [5, 6]]
    await batcher.close()


async def test_a_failing_batch_fails_its_callers_only():
    async def run(items: list[str]) -> list[str]:
        if "bad" in items:
            raise RuntimeError("database down")
        return [item.upper() for item in items]

    batcher = Batcher(run)
    with pytest.raises(RuntimeError, match="database down"):
        await batcher.submit("bad")
    assert await batcher.submit("good") == "GOOD"
    await batcher.close()


async def test_close_cancels_the_callers_still_waiting():
    started = asyncio.Event()

    async def run(items: list[int]) -> list[int]:
        started.set()
        await asyncio.Event().wait()  # never finishes
        return items

    batcher = Batcher(run)
    waiting = asyncio.create_task(batcher.submit(1))
    await started.wait()
    queued = asyncio.create_task(batcher.submit(2))
    await asyncio.sleep(0)
    await batcher.close()
    results = await asyncio.gather(waiting, queued, return_exceptions=True)
    assert all(isinstance(result, asyncio.CancelledError) for result in results)
