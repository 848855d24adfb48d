"""Health, coverage and the registry summary."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from sqlalchemy import text

import fangxun
from fangxun.api.jsonio import reply
from fangxun.api.keys import CLOCK, ENGINE, SESSIONS, SETTINGS
from fangxun.api.params import check_code, text_param
from fangxun.plans.coverage import coverage
from fangxun.plans.stats import registry_stats

log = logging.getLogger("fangxun.api")
routes = web.RouteTableDef()
HEALTH_TIMEOUT_SECONDS = 5


@routes.get("/api/health")
async def health(request: web.Request) -> web.Response:
    """Open to all: the service is up and the database answers `SELECT 1`."""
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT_SECONDS), request.app[ENGINE].connect() as connection:
            await connection.execute(text("SELECT 1"))
        database, status = "ok", 200
    except Exception:  # any failure means "not healthy"; the log keeps the reason
        log.warning("health check: database unreachable", exc_info=True)
        database, status = "error", 503
    return reply({"status": "ok" if status == 200 else "error", "database": database,
                  "version": fangxun.__version__}, status=status)


@routes.get("/api/coverage")
async def plan_coverage(request: web.Request) -> web.Response:
    """Coverage and compliance of the subtree under `root` (default: the city)."""
    root = check_code(text_param(request, "root"), "root")
    async with request.app[SESSIONS]() as session:
        return reply(await coverage(session, root, request.app[SETTINGS].registry, request.app[CLOCK].today()))


@routes.get("/api/stats")
async def stats(request: web.Request) -> web.Response:
    """Units by level, plans by kind and status, and the coverage headline numbers (`root` optional)."""
    root = check_code(text_param(request, "root"), "root")
    async with request.app[SESSIONS]() as session:
        return reply(await registry_stats(session, request.app[SETTINGS].registry, request.app[CLOCK].today(),
                                          root=root))
