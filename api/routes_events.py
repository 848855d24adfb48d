"""Events: list, one event as JSON, open and close by hand."""

from __future__ import annotations

from aiohttp import web

routes = web.RouteTableDef()
