"""Dispatchers in processes of their own (support/dispatch_child.py), for the crash tests and the recovery bench:
started, killed or stopped, and what their recipients saw."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from sqlalchemy import func, select
from support.warning_factories import search_path

from fangxun.warnings.tables import Notification

CHILD = Path(__file__).resolve().parent / "dispatch_child.py"


async def spawn(engine, hook_url: str, worker: str, lease: float, concurrency: int) -> asyncio.subprocess.Process:
    """A dispatcher process named `worker` on the test database, sending to `hook_url`; returns once it runs."""
    path = await search_path(engine) or "-"
    url = engine.url.render_as_string(hide_password=False)
    url = url.replace("sqlite+aiosqlite", "sqlite").replace("postgresql+asyncpg", "postgresql")
    child = await asyncio.create_subprocess_exec(sys.executable, str(CHILD), url, path, hook_url, worker, str(lease),
                                                 str(concurrency), stdout=asyncio.subprocess.PIPE)
    assert (await asyncio.wait_for(child.stdout.readline(), 30)).strip() == b"ready"
    return child


async def stop(child: asyncio.subprocess.Process) -> None:
    """SIGTERM, and the process ends cleanly."""
    child.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(child.wait(), 30) == 0


async def kill(child: asyncio.subprocess.Process) -> None:
    """SIGKILL: no chance to give anything back."""
    child.send_signal(signal.SIGKILL)
    await child.wait()


async def delivered(sessions) -> int:
    """Notifications on record as delivered."""
    async with sessions() as session:
        return (await session.execute(select(func.count()).select_from(Notification)
                                      .where(Notification.status == "delivered"))).scalar_one()


def last_reached(sink) -> float:
    """When the last recipient got their first message (the sink's clock: the event loop's)."""
    first: dict[str, float] = {}
    for request in sink.requests:
        first.setdefault(request.headers.get("Idempotency-Key"), request.at)
    return max(first.values())
