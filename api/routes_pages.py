"""The pages: sign-in, sign-out, the duty officer's overview and the icon."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from fangxun.api import pages as templates
from fangxun.api.auth import cross_site_form, throttled_sign_in
from fangxun.api.client_address import client_address
from fangxun.api.cookies import COOKIE_NAME, read_session, secure_cookie, sign_session
from fangxun.api.event_page import page_policy
from fangxun.api.keys import CLOCK, PRINCIPAL, PUBLIC_BASE, SESSIONS, SETTINGS, SIGNING_KEY
from fangxun.api.login_limit import retry_text
from fangxun.core.audit import record
from fangxun.core.errors import Forbidden
from fangxun.core.page_sessions import end_session, start_session
from fangxun.geo.map_assets import static_dir
from fangxun.plans.attention import gap_units, overdue_plans
from fangxun.plans.stats import registry_stats
from fangxun.warnings.duty.roster_overview import duty_overview
from fangxun.warnings.events.in_progress import open_events
from fangxun.warnings.in_force import warnings_in_force
from fangxun.warnings.review_attention import reminders_sent, unremindable_overdue

routes = web.RouteTableDef()
# Rows of each list on the overview (each says how many there are in all): a big registry stays quick to show.
WARNING_ROWS = 10
EVENT_ROWS = 5
ATTENTION_ROWS = 20


def local_path(value: object) -> str:
    """`value` when it is a path on this site, else `/` (no open redirects)."""
    text = str(value or "")
    parts = urlsplit(text)
    if (not text.startswith("/") or text.startswith("//") or "\\" in text or parts.scheme or parts.netloc
            or any(ord(ch) < 32 or ord(ch) == 127 for ch in text) or parts.path in ("/login", "/logout")):
        return "/"
    return text


def _see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


@routes.get("/login")
async def login_form(request: web.Request) -> web.Response:
    """The sign-in form."""
    return templates.html_response(templates.login_page(next_path=local_path(request.query.get("next"))))


@routes.post("/login")
async def login(request: web.Request) -> web.Response:
    """Check the password (rate limited) and set the session cookie."""
    if cross_site_form(request):
        raise Forbidden("拒绝来自其他网站的表单提交")
    form = await request.post()
    username = str(form.get("username", "")).strip()[:100]
    password = str(form.get("password", ""))
    next_path = local_path(form.get("next"))
    address = client_address(request)
    outcome = await throttled_sign_in(request.app, username, password, address)
    principal = outcome.principal
    if principal is None:
        if not outcome.refused:  # refused unchecked by the throttle: nothing was tried, nothing to keep
            async with request.app[SESSIONS]() as session, session.begin():
                await record(session, f"address:{address}", "auth.sign_in_failed", "user", username,
                             after={"address": address})
        retry = {"Retry-After": str(outcome.wait)} if outcome.wait else {}
        message = "登录失败次数过多" if outcome.refused else "用户名或密码错误"
        if outcome.wait:
            message += f"，请在 {retry_text(outcome.wait)}后重试"
        page = templates.login_page(message, next_path, username, retry_after=outcome.wait)
        return templates.html_response(page, status=429 if outcome.refused else 401, headers=retry)
    settings, now = request.app[SETTINGS], request.app[CLOCK].now()
    hours = settings.auth.session_hours
    async with request.app[SESSIONS]() as session, session.begin():
        token = await start_session(session, username, now, hours)
        await record(session, principal.name, "auth.sign_in", "user", username, after={"address": address})
    response = _see_other(next_path)
    response.set_cookie(COOKIE_NAME, sign_session(request.app[SIGNING_KEY], username, token, now, hours),
                        max_age=int(hours * 3600), path="/", httponly=True, samesite="Lax",
                        secure=_secure(request))
    return response


def _secure(request: web.Request) -> bool:
    return secure_cookie(request.secure, request.app[PUBLIC_BASE].url)


@routes.post("/logout")
async def logout(request: web.Request) -> web.Response:
    """End the session on the server (a copy of the cookie is refused from now on), drop the cookie and go back to
    the sign-in form."""
    if cross_site_form(request):
        raise Forbidden("拒绝来自其他网站的表单提交")
    claims = read_session(request.app[SIGNING_KEY], request.cookies.get(COOKIE_NAME), request.app[CLOCK].now())
    if claims is not None:
        async with request.app[SESSIONS]() as session, session.begin():
            if await end_session(session, claims.token):
                await record(session, f"user:{claims.username}", "auth.sign_out", "user", claims.username,
                             after={"address": client_address(request)})
    response = _see_other("/login")
    response.del_cookie(COOKIE_NAME, path="/", httponly=True, samesite="Lax", secure=_secure(request))
    return response


@routes.get("/")
async def overview(request: web.Request) -> web.Response:
    """The duty officer's overview: warnings in force, open events, the duty rosters, then the registry's gaps and
    overdue plans and the review reminders."""
    settings, clock = request.app[SETTINGS], request.app[CLOCK]
    today, now = clock.today(), clock.now()
    async with request.app[SESSIONS]() as session:
        stats = await registry_stats(session, settings.registry, today)
        desk = {"warnings": await warnings_in_force(session, now, WARNING_ROWS),
                "events": await open_events(session, settings, now, EVENT_ROWS),
                "gaps": await gap_units(session, settings.registry, ATTENTION_ROWS),
                "overdue": await overdue_plans(session, settings.registry, today, ATTENTION_ROWS),
                "duty": await duty_overview(session, settings.warnings, now),
                "reminders": {"sent": await reminders_sent(session, now),
                              "unremindable": await unremindable_overdue(session, settings, today, ATTENTION_ROWS)}}
    user = request[PRINCIPAL].name.removeprefix("user:")
    html = templates.overview_page(stats, desk, user, settings.registry.timezone)
    return templates.html_response(html, headers={"Content-Security-Policy": page_policy(html)})


@routes.get("/favicon.ico")
async def favicon(request: web.Request) -> web.FileResponse:
    """The service's icon (two white waves on the registry's blue), for browsers that ask for it by this name."""
    return web.FileResponse(Path(str(static_dir())) / "favicon.ico",
                            headers={"Content-Type": "image/x-icon", "Cache-Control": "public, max-age=86400"})
