"""`GET /metrics` in the Prometheus text format: this process's counters (prometheus_client's registry: sends,
outcomes, 叫应, reminders, feeds, event-loop lag, the Python process) and the database's gauges read at scrape
time (warnings/scrape.py). Who may read it: see metrics_access.py."""

from __future__ import annotations

from collections.abc import Iterator

from aiohttp import web
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector

from fangxun.api.keys import CLOCK, SESSIONS, SETTINGS
from fangxun.warnings.scrape import DatabaseCollector, read_state

routes = web.RouteTableDef()


class _Scrape:
    """The collectors of one scrape, read in order."""

    def __init__(self, *collectors: Collector):
        self.collectors = collectors

    def collect(self) -> Iterator:
        for collector in self.collectors:
            yield from collector.collect()


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    """Every metric of this process and the database, as Prometheus scrapes them."""
    app = request.app
    settings = app[SETTINGS]
    state = await read_state(app[SESSIONS], app[CLOCK].now())
    database = DatabaseCollector(state, settings.warnings.channels, settings.monitoring.heartbeat_stale_seconds)
    return web.Response(body=generate_latest(_Scrape(REGISTRY, database)),
                        headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4, "Cache-Control": "no-store"})
