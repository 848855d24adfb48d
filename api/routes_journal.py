"""The journal of an event: append-only entries by departments and units (API and the simple form)."""

from __future__ import annotations

from aiohttp import web

routes = web.RouteTableDef()
