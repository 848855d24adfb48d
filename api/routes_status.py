"""Health and readiness, coverage and the registry summary."""

from __future__ import annotations

from aiohttp import web

import fangxun
from fangxun.api.jsonio import reply
from fangxun.api.keys import CLOCK, SESSIONS, SETTINGS, WARNING_SERVICE
from fangxun.api.params import check_code, text_param
from fangxun.api.probes import ready_facts
from fangxun.plans.coverage import coverage
from fangxun.plans.stats import registry_stats
from fangxun.warnings.readiness import readiness

routes = web.RouteTableDef()


@routes.get("/api/health")
async def health(request: web.Request) -> web.Response:
    """Open to all, asks nothing of the database: the process answers (and, when it runs the dispatcher, its
    loop has not stopped on an error). 503 means: restart it. Whether it can work is /api/ready's question."""
    service = request.app.get(WARNING_SERVICE)
    if service is not None and not service.dispatcher_running():
        return reply({"error": "not_alive", "status": "error", "alive": False,
                      "detail": "本进程的预警发送循环已停止，请重启服务", "version": fangxun.__version__}, status=503)
    return reply({"status": "ok", "alive": True, "detail": "服务运行中", "version": fangxun.__version__})


@routes.get("/api/ready")
async def ready(request: web.Request) -> web.Response:
    """Open to all: 200 when the database answers at the newest schema, a dispatcher's heartbeat is fresh, and
    the scheduler and feeds this process runs are working; 503 with every failing check otherwise."""
    monitoring = request.app[SETTINGS].monitoring
    body = readiness(await ready_facts(request.app), monitoring.heartbeat_stale_seconds,
                     monitoring.feed_stale_intervals)
    if body["ready"]:
        return reply({**body, "version": fangxun.__version__})
    # The error shape of every failure, with each check beside it.
    return reply({"error": "not_ready", **body, "version": fangxun.__version__}, status=503)


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
