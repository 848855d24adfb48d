"""/events and /events/{id}: the event list and one event as a printable timeline."""

from __future__ import annotations

from aiohttp import web

routes = web.RouteTableDef()
