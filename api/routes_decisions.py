"""Response levels: the proposal for an event and the decisions recorded against it."""

from __future__ import annotations

from aiohttp import web

routes = web.RouteTableDef()
