"""CPU work handed to worker processes: run elsewhere, at a lower priority, and a worker that died is replaced."""

import os
from concurrent.futures.process import BrokenProcessPool

import pytest

from fangxun.core import cpu_pool


async def test_runs_in_a_niced_worker_process():
    assert await cpu_pool.in_worker(os.getpid) != os.getpid()
    assert await cpu_pool.in_worker(os.nice, 0) == min(19, os.nice(0) + cpu_pool.NICENESS)


async def test_a_dead_worker_is_replaced():
    with pytest.raises(BrokenProcessPool):
        await cpu_pool.in_worker(os._exit, 1)   # kills the worker, and the one that replaces it
    assert await cpu_pool.in_worker(sum, [1, 2, 3]) == 6
