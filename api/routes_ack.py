"""叫应 by link: open to anyone holding the token (no sign-in), throttled per address against guessing."""

from __future__ import annotations

from aiohttp import web

from fangxun.api import pages as templates
from fangxun.api.ack_page import ack_page, invalid_page
from fangxun.api.jsonio import reply
from fangxun.api.keys import ACK_LIMITER, CLOCK, SESSIONS, SETTINGS
from fangxun.api.login_limit import LoginLimiter
from fangxun.core.clock import Clock
from fangxun.core.errors import FangxunError, NotFound, TooManyRequests
from fangxun.warnings.acks.acknowledging import acknowledge, find_by_token
from fangxun.warnings.queries import iso
from fangxun.warnings.tables import Warning

routes = web.RouteTableDef()
# Wrong links per client address before it must wait; a real token is 96 random bits, so this only
# stops enumeration noise, and right links never count.
ACK_ATTEMPTS = 20
ACK_WINDOW_SECONDS = 600
INVALID = "确认链接无效或已过期"
# The token is the credential: never cached, never sent on in a Referer.
ACK_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache", "Referrer-Policy": "no-referrer",
               "X-Robots-Tag": "noindex, nofollow"}


def ack_limiter(clock: Clock) -> LoginLimiter:
    """The per-address limiter of wrong 叫应 links."""
    return LoginLimiter(ACK_ATTEMPTS, ACK_WINDOW_SECONDS, now=lambda: clock.now().timestamp())


class _Throttled(Exception):
    def __init__(self, wait: int):
        self.wait = wait


async def _guarded(request: web.Request, action):
    """Run `action(session, token)` in a transaction; a wrong token counts against the address."""
    limiter = request.app[ACK_LIMITER]
    keys = (("address", request.remote or ""),)
    stamp = limiter.begin(keys)
    if stamp is None:
        raise _Throttled(limiter.retry_after(keys))
    async with request.app[SESSIONS]() as session, session.begin():
        found = await action(session, request.match_info["token"])
        warning = await session.get(Warning, found.warning_id)
    limiter.forgive(keys, stamp)
    return found, warning


def _json_error(error: FangxunError, headers: dict | None = None) -> web.Response:
    response = reply({"error": error.code, "detail": error.detail}, status=error.status)
    response.headers.update({**ACK_HEADERS, **(headers or {})})
    return response


def _page(request: web.Request, html: str, status: int = 200, headers: dict | None = None) -> web.Response:
    return templates.html_response(html, status=status, headers={**ACK_HEADERS, **(headers or {})})


async def _page_for(request: web.Request, action, just_acknowledged: bool) -> web.Response:
    try:
        notification, warning = await _guarded(request, action)
    except _Throttled as throttled:
        return _page(request, invalid_page("尝试次数过多，请稍后再试"), status=429,
                     headers={"Retry-After": str(throttled.wait)})
    except NotFound:
        return _page(request, invalid_page(INVALID), status=404)
    zone = request.app[SETTINGS].registry.timezone
    return _page(request, ack_page(notification, warning, request.match_info["token"], zone, just_acknowledged))


@routes.get("/ack/{token}")
async def ack_form(request: web.Request) -> web.Response:
    """The warning, the recipient's name and the 收到 button (or when it was pressed)."""
    return await _page_for(request, find_by_token, just_acknowledged=False)


@routes.post("/ack/{token}")
async def ack_by_page(request: web.Request) -> web.Response:
    """Record 叫应 from the page and show 已确认收到 with the time."""
    now = request.app[CLOCK].now()

    async def action(session, token):
        return await acknowledge(session, token, now, via="page")

    return await _page_for(request, action, just_acknowledged=True)


@routes.post("/api/acks/{token}")
async def ack_by_api(request: web.Request) -> web.Response:
    """Record 叫应 by API call (a robot button, another system)."""
    now = request.app[CLOCK].now()

    async def action(session, token):
        return await acknowledge(session, token, now, via="api")

    try:
        notification, warning = await _guarded(request, action)
    except _Throttled as throttled:
        return _json_error(TooManyRequests("尝试次数过多，请稍后再试"), {"Retry-After": str(throttled.wait)})
    except NotFound:
        return _json_error(NotFound(INVALID))
    response = reply({"acknowledged": True, "acked_at": iso(notification.acked_at), "acked_via": notification.acked_via,
                      "acked_late": bool(notification.acked_late), "notification_id": notification.id,
                      "recipient_name": notification.recipient_name, "warning_id": notification.warning_id,
                      "warning_status": warning.status if warning else None})
    response.headers.update(ACK_HEADERS)
    return response
