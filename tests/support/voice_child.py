"""The service in its own process, as `fangxun serve` runs it, for the voice kill -9 test: the web application
(whose /api/callbacks/voice/voice takes the gateway's results) and a dispatcher calling through the voice
channel, in one process.

python tests/support/voice_child.py DATABASE_URL SEARCH_PATH HOOK_URL GATEWAY_URL PORT WORKER [LEASE_SECONDS]
Serves on 127.0.0.1:PORT until SIGTERM (SEARCH_PATH "-": SQLite); the channel's secret is in the environment.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiohttp import web  # noqa: E402
from support.voice_gateway import voice_settings  # noqa: E402

from fangxun.api.app import create_app  # noqa: E402
from fangxun.core.clock import Clock  # noqa: E402
from fangxun.core.db import create_engine, session_factory  # noqa: E402
from fangxun.settings import load_settings  # noqa: E402
from fangxun.warnings.delivery.channels.factory import build_channels, new_http_session  # noqa: E402
from fangxun.warnings.delivery.dispatcher import Dispatcher  # noqa: E402


async def main(url: str, search_path: str, hook: str, gateway: str, port: int, worker: str, lease: float) -> None:
    options = {} if search_path == "-" else {"connect_args": {"server_settings": {"search_path": search_path}}}
    engine = create_engine(url, **options)
    public = f"http://127.0.0.1:{port}"
    config = voice_settings(load_settings(), hook, gateway, public_url=public)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    runner = web.AppRunner(create_app(engine, config, Clock()), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    async with new_http_session(config.warnings.channels) as http:
        dispatcher = Dispatcher(session_factory(engine), build_channels(config.warnings.channels, http), config,
                                Clock(), worker, lease=timedelta(seconds=lease), poll_seconds=0.1)
        print("ready", flush=True)
        await dispatcher.run_forever(stop)
    await runner.cleanup()
    await engine.dispose()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    url, path, hook, gateway, port, worker = sys.argv[1:7]
    asyncio.run(main(url, path, hook, gateway, int(port), worker, float(sys.argv[7]) if len(sys.argv) > 7 else 2.0))
