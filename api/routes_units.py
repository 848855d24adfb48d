"""The unit hierarchy: a subtree and one unit with its plans and contacts."""

from __future__ import annotations

from aiohttp import web

from fangxun.api.jsonio import reply
from fangxun.api.keys import CLOCK, SESSIONS, SETTINGS
from fangxun.api.params import check_code, int_param, text_param
from fangxun.plans.plan_queries import unit_detail
from fangxun.plans.unit_queries import unit_tree
from fangxun.plans.unit_search import search_units

routes = web.RouteTableDef()


@routes.get("/api/units/tree")
async def tree(request: web.Request) -> web.Response:
    """The unit `root` (default: the city) with descendants down to `depth` levels (1..3)."""
    root = check_code(text_param(request, "root"), "root")
    depth = int_param(request, "depth", default=1, low=1, high=3)
    async with request.app[SESSIONS]() as session:
        return reply(await unit_tree(session, root, depth))


@routes.get("/api/units/search")
async def search(request: web.Request) -> web.Response:
    """Units whose name contains `q` (or whose code starts with it), each with its district: at most `limit`."""
    query = text_param(request, "q") or ""
    limit = int_param(request, "limit", default=20, low=1, high=100)
    async with request.app[SESSIONS]() as session:
        return reply({"units": await search_units(session, query, level=text_param(request, "level"),
                                                  limit=limit)})


@routes.get("/api/units/{code}")
async def unit(request: web.Request) -> web.Response:
    """One unit with parent, children, plans, contacts and shelters."""
    code = check_code(request.match_info["code"], "code")
    async with request.app[SESSIONS]() as session:
        return reply(await unit_detail(session, code, request.app[SETTINGS].registry, request.app[CLOCK].today()))
