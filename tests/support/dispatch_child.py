"""A dispatcher in its own process, for the kill-and-restart and two-dispatcher tests.

python tests/support/dispatch_child.py DATABASE_URL SEARCH_PATH HOOK_URL WORKER [LEASE_SECONDS [CONCURRENCY]]
Drains the outbox through one webhook channel `hook` at HOOK_URL until SIGTERM (SEARCH_PATH "-": SQLite), then
gives back what it has not sent, as `fangxun dispatch` does.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support.warning_factories import warning_settings  # noqa: E402

from fangxun.core.clock import Clock  # noqa: E402
from fangxun.core.db import create_engine, session_factory  # noqa: E402
from fangxun.settings import load_settings  # noqa: E402
from fangxun.warnings.delivery.channels.factory import build_channels, new_http_session  # noqa: E402
from fangxun.warnings.delivery.dispatcher import Dispatcher  # noqa: E402

CONCURRENCY = 4


async def main(url: str, search_path: str, hook: str, worker: str, lease: float, concurrency: int) -> None:
    options = {} if search_path == "-" else {"connect_args": {"server_settings": {"search_path": search_path}}}
    engine = create_engine(url, **options)
    config = warning_settings(load_settings(), hook, concurrency=concurrency)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with new_http_session(config.warnings.channels) as http:
        dispatcher = Dispatcher(session_factory(engine), build_channels(config.warnings.channels, http), config,
                                Clock(), worker, lease=timedelta(seconds=lease), poll_seconds=0.1)
        print("ready", flush=True)
        await dispatcher.run_forever(stop)
    await engine.dispose()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    url, path, hook, worker = sys.argv[1:5]
    asyncio.run(main(url, path, hook, worker, float(sys.argv[5]) if len(sys.argv) > 5 else 2.0,
                     int(sys.argv[6]) if len(sys.argv) > 6 else CONCURRENCY))
