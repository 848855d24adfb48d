"""CAP out for other systems: the Atom feed of the warnings held and each warning's CAP 1.2 document.

The data is internal: these need an API token or a signed-in session, like the API.
"""

from __future__ import annotations

from aiohttp import web

from fangxun.api.keys import CLOCK, PUBLIC_BASE, SESSIONS
from fangxun.api.params import int_param, path_id
from fangxun.warnings.intake.cap_out import feed_document, stored_document
from fangxun.warnings.intake.cap_write import CAP_MIME
from fangxun.warnings.queries import get_warning, held_for_feed

routes = web.RouteTableDef()
ATOM_MIME = "application/atom+xml"
# Besides the active warnings, those closed in the last days stay in the feed (so a 解除 is seen).
FEED_DAYS = 3


@routes.get("/cap/feed.xml")
async def cap_feed(request: web.Request) -> web.Response:
    """Atom: active warnings and those closed in the last `days` (default 3), newest first."""
    days = int_param(request, "days", default=FEED_DAYS, low=1, high=30)
    now = request.app[CLOCK].now()
    async with request.app[SESSIONS]() as session:
        rows = await held_for_feed(session, now, days)
    # The links of the messages' base, never the Host header of the request.
    body = feed_document(rows, request.app[PUBLIC_BASE].url, now)
    return web.Response(body=body, content_type=ATOM_MIME, charset="utf-8", headers={"Cache-Control": "no-cache"})


@routes.get(r"/cap/{id:\d+}.xml")
async def cap_document_route(request: web.Request) -> web.Response:
    """One warning as a CAP 1.2 document that validates against the schema."""
    async with request.app[SESSIONS]() as session:
        row = await get_warning(session, path_id(request))
    return web.Response(body=stored_document(row), content_type=CAP_MIME, charset="utf-8")
