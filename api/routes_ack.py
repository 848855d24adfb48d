"""叫应 by link: open to anyone holding the token (no sign-in), throttled against guessing without ever refusing a
right link: the token is checked first, only wrong ones count (per client address and per token prefix), and only
wrong ones are refused while their address or prefix must wait."""

from __future__ import annotations

from aiohttp import web

from fangxun.api import pages as templates
from fangxun.api.ack_page import ack_page, invalid_page
from fangxun.api.client_address import client_address
from fangxun.api.jsonio import reply
from fangxun.api.keys import ACK_LIMITER, CLOCK, SESSIONS, SETTINGS
from fangxun.api.login_limit import Backoff, FailureThrottle, Key, address_key, retry_text
from fangxun.core.clock import Clock
from fangxun.core.errors import FangxunError, NotFound, TooManyRequests
from fangxun.warnings.acks.acknowledging import acknowledge, find_by_token
from fangxun.warnings.queries import iso
from fangxun.warnings.tables import Warning

routes = web.RouteTableDef()
# Wrong links per client address before its wrong links wait, then 5 s doubling up to 10 minutes. A real token is
# 96 random bits, so this only stops enumeration noise; a right link is never refused, whatever the address did.
ACK_ATTEMPTS = 20
ACK_FIRST_DELAY_SECONDS = 5
ACK_MAX_DELAY_SECONDS = 600
# Wrong links sharing their first characters, from any address (completing a truncated or half-seen link).
PREFIX_LENGTH = 8
PREFIX_ATTEMPTS = 10
INVALID = "确认链接无效或已过期"
# The token is the credential: never cached, never sent on in a Referer.
ACK_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache", "Referrer-Policy": "no-referrer",
               "X-Robots-Tag": "noindex, nofollow"}


def ack_limiter(clock: Clock) -> FailureThrottle:
    """The throttle of wrong 叫应 links: per client address and per token prefix."""
    return FailureThrottle({"address": Backoff(ACK_ATTEMPTS, ACK_FIRST_DELAY_SECONDS, ACK_MAX_DELAY_SECONDS),
                            "prefix": Backoff(PREFIX_ATTEMPTS, ACK_FIRST_DELAY_SECONDS, ACK_MAX_DELAY_SECONDS)},
                           now=lambda: clock.now().timestamp())


def guess_keys(address: str, token: str) -> tuple[Key, Key]:
    """What a wrong link counts against: the address it came from and the first characters of the token."""
    return ("address", address_key(address)), ("prefix", token[:PREFIX_LENGTH])


class _Throttled(Exception):
    def __init__(self, wait: int):
        self.wait = wait


async def _guarded(request: web.Request, action):
    """Run `action(session, token)` in a transaction. A right token always goes through (it is looked up by its
    hash first, whatever the address or prefix did); a wrong one is answered _Throttled instead of NotFound while
    its address or prefix must wait, and otherwise counts against both."""
    token = request.match_info["token"]
    try:
        async with request.app[SESSIONS]() as session, session.begin():
            found = await action(session, token)
            warning = await session.get(Warning, found.warning_id) if found.warning_id is not None else None
    except NotFound:
        limiter = request.app[ACK_LIMITER]
        keys = guess_keys(client_address(request), token)
        wait = limiter.wait(keys)
        if wait:
            raise _Throttled(wait) from None
        limiter.fail(keys)
        raise
    return found, warning


def _too_many(wait: int) -> str:
    return f"尝试次数过多，请在 {retry_text(wait)}后再试"


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
        return _page(request, invalid_page(_too_many(throttled.wait)), status=429,
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
        return _json_error(TooManyRequests(_too_many(throttled.wait)), {"Retry-After": str(throttled.wait)})
    except NotFound:
        return _json_error(NotFound(INVALID))
    response = reply({"acknowledged": True, "acked_at": iso(notification.acked_at), "acked_via": notification.acked_via,
                      "acked_late": bool(notification.acked_late), "notification_id": notification.id,
                      "recipient_name": notification.recipient_name, "warning_id": notification.warning_id,
                      "warning_status": warning.status if warning else None})
    response.headers.update(ACK_HEADERS)
    return response
