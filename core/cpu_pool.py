"""Worker processes for CPU work that would hold the event loop: a C call (GEOS, JSON) in a thread keeps the GIL, so
the loop, for as long as it runs; in another process it holds nothing of ours."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

# Two: a page of units is not kept waiting the seconds a province's villages take to simplify. They run niced, so
# that on a busy machine the event loop's process gets the CPU first.
WORKERS = 2
NICENESS = 10

_pool: ProcessPoolExecutor | None = None
_lock = threading.Lock()


def _lower_priority() -> None:
    os.nice(NICENESS)


def _executor() -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            # Spawned, not forked: a fork of a process with threads and a running loop can inherit a held lock.
            _pool = ProcessPoolExecutor(max_workers=WORKERS, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_lower_priority)
        return _pool


def _discard(broken: ProcessPoolExecutor) -> None:
    global _pool
    with _lock:
        if _pool is broken:
            _pool = None
    broken.shutdown(wait=False, cancel_futures=True)


async def in_worker(function, *args):
    """`function(*args)` in a worker process (both picklable, the function importable); a worker that died (killed
    for memory, say) is replaced once."""
    for attempt in (1, 2):
        pool = _executor()
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, function, *args)
        except BrokenProcessPool:
            _discard(pool)
            if attempt == 2:
                raise

