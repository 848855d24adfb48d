"""CPU seconds spent by the processes of a bench run (Linux /proc): named processes, and the PostgreSQL backends
serving one database (found in pg_stat_activity while they live, each read again until the end: a backend that
exits meanwhile keeps its last reading)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable

from sqlalchemy import text

_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process `pid` so far (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime and stime, fields 14 and 15 of stat(5)


class CpuProbe:
    """Samples groups of processes and one database's backends every `every` seconds until stopped."""

    def __init__(self, engine, groups: dict[str, Iterable[int]], every: float = 0.25):
        self._engine = engine
        self._groups = {name: list(pids) for name, pids in groups.items()}
        self._every = every
        self._start: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._backends: set[int] = set()
        self._own_backend: int | None = None
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        for pids in self._groups.values():
            for pid in pids:
                self._read(pid)
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> dict[str, float]:
        """CPU seconds per group since start, and `postgres`: the database's backends."""
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self._sample()
        self._task = None
        spent = {name: sum(self._spent(pid) for pid in pids) for name, pids in self._groups.items()}
        spent["postgres"] = sum(self._spent(pid) for pid in self._backends)
        return spent

    def _spent(self, pid: int) -> float:
        return self._last.get(pid, 0.0) - self._start.get(pid, 0.0)

    def _read(self, pid: int) -> None:
        seconds = cpu_seconds(pid)
        if seconds is not None:
            self._start.setdefault(pid, seconds)
            self._last[pid] = seconds

    async def _run(self) -> None:
        while True:
            try:
                await self._sample()
            except Exception:  # the database went meanwhile (the bench stops): keep the last readings
                return
            await asyncio.sleep(self._every)

    async def _sample(self) -> None:
        async with self._engine.connect() as connection:
            pids = (await connection.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ))).scalars().all()
        for pid in pids:
            if pid not in self._backends:
                self._backends.add(pid)
                self._start[pid] = 0.0  # a backend new since the start: all its time counts
        for pid in [*self._backends, *(pid for pids in self._groups.values() for pid in pids)]:
            self._read(pid)
