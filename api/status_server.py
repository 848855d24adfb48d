"""`fangxun dispatch --status-listen`: the dispatcher's own small HTTP server with /api/health, /api/ready and
/metrics (its sends, outcomes, reminders, feed polls and loop lag are counted in its process, nowhere else),
under the same rules as the web service's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from fangxun.api import routes_metrics, routes_status
from fangxun.api.access_log import access_log_options
from fangxun.api.app import signing_key_context
from fangxun.api.auth import auth_middleware
from fangxun.api.errors import error_middleware
from fangxun.api.keys import CLOCK, ENGINE, SESSIONS, SETTINGS, WARNING_SERVICE
from fangxun.api.listen import bind
from fangxun.api.request_ids import answer_request_id, request_id_middleware
from fangxun.core.clock import Clock
from fangxun.core.db import session_factory
from fangxun.core.errors import BadInput
from fangxun.settings import Settings
from fangxun.warnings.service import WarningService


def listen_address(text: str) -> tuple[str, int]:
    """`9108`, `0.0.0.0:9108` or `[::]:9108` -> (host, port); the host defaults to 127.0.0.1."""
    host, _, port = text.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise BadInput(f"--status-listen：端口应为 1–65535 的整数，如 9108 或 0.0.0.0:9108（收到 {text!r}）")
    return host, int(port)


def status_app(engine: AsyncEngine, settings: Settings, clock: Clock, service: WarningService) -> web.Application:
    """Health, readiness and metrics of a dispatcher process, nothing else."""
    app = web.Application(middlewares=[request_id_middleware, error_middleware, auth_middleware])
    app[ENGINE], app[SESSIONS], app[SETTINGS], app[CLOCK] = engine, session_factory(engine), settings, clock
    app[WARNING_SERVICE] = service
    app.cleanup_ctx.append(signing_key_context)  # a signed-in session may read /metrics too
    app.on_response_prepare.append(answer_request_id)
    app.router.add_get("/api/health", routes_status.health)
    app.router.add_get("/api/ready", routes_status.ready)
    app.router.add_get("/metrics", routes_metrics.metrics)
    return app


@asynccontextmanager
async def serving_status(engine: AsyncEngine, settings: Settings, clock: Clock, service: WarningService,
                         host: str, port: int) -> AsyncIterator[None]:
    """The status server on `host`:`port` while the block runs."""
    runner = web.AppRunner(status_app(engine, settings, clock, service), **access_log_options())
    await runner.setup()
    try:
        for sock in bind(host, port):
            await web.SockSite(runner, sock).start()
        yield
    finally:
        await runner.cleanup()
