"""The annual statistics report: GET /api/reports/annual?year=&format=json|csv|xlsx|html."""

from __future__ import annotations

from aiohttp import web

routes = web.RouteTableDef()
