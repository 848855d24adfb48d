"""The duty board (值班看板): each warning's recipients and their 叫应 state, refreshed by our own script."""

from __future__ import annotations

from aiohttp import web

from fangxun.api import pages as templates
from fangxun.api.csp import inline_hashes
from fangxun.api.jsonio import reply
from fangxun.api.keys import CLOCK, PRINCIPAL, SESSIONS, SETTINGS
from fangxun.api.params import int_param
from fangxun.api.templating import render
from fangxun.warnings.queries import board

routes = web.RouteTableDef()
POLL_MILLISECONDS = 5000
RECENT_HOURS = 24


def board_policy(html: str) -> str:
    """Our own script, styles and JSON only; the page frame's inline style by its hash."""
    styles = " ".join(inline_hashes(html, "style"))
    return ("default-src 'none'; script-src 'self'; "
            f"style-src 'self' {styles}; connect-src 'self'; img-src 'self'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'")


def board_page(user: str, zone: str) -> str:
    """The page shell; board.js fills it from /api/board."""
    return render("board.html", title="值班看板", user=user, zone=zone, poll_ms=POLL_MILLISECONDS)


@routes.get("/board")
async def board_route(request: web.Request) -> web.Response:
    """Signed-in users: the live duty board."""
    user = request[PRINCIPAL].name.removeprefix("user:")
    html = board_page(user, request.app[SETTINGS].registry.timezone)
    return templates.html_response(html, headers={"Content-Security-Policy": board_policy(html)})


@routes.get("/api/board")
async def board_data(request: web.Request) -> web.Response:
    """Active warnings and those closed in the last `hours`, with counts by state and the most urgent
    recipients first (overdue, undeliverable, escalated, waiting, delivered, acknowledged)."""
    hours = int_param(request, "hours", default=RECENT_HOURS, low=1, high=24 * 7)
    async with request.app[SESSIONS]() as session:
        data = await board(session, request.app[CLOCK].now(), recent_hours=hours,
                           channels=request.app[SETTINGS].warnings.channels)
    response = reply(data)
    response.headers["Cache-Control"] = "no-store"
    return response
