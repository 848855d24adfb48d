"""The pages: sign-in, sign-out and the overview of the registry."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from fangxun.api import pages as templates
from fangxun.api.auth import cross_site_form, throttled_sign_in
from fangxun.api.client_address import client_address
from fangxun.api.cookies import COOKIE_NAME, sign_session
from fangxun.api.keys import CLOCK, PRINCIPAL, SESSIONS, SETTINGS, SIGNING_KEY
from fangxun.api.login_limit import retry_text
from fangxun.core.errors import Forbidden
from fangxun.plans.plan_queries import PlanFilter, list_plans
from fangxun.plans.stats import registry_stats

routes = web.RouteTableDef()
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
    outcome = await throttled_sign_in(request.app, username, password, client_address(request))
    principal = outcome.principal
    if principal is None:
        retry = {"Retry-After": str(outcome.wait)} if outcome.wait else {}
        message = "登录失败次数过多" if outcome.refused else "用户名或密码错误"
        if outcome.wait:
            message += f"，请在 {retry_text(outcome.wait)}后重试"
        page = templates.login_page(message, next_path, username, retry_after=outcome.wait)
        return templates.html_response(page, status=429 if outcome.refused else 401, headers=retry)
    settings, clock = request.app[SETTINGS], request.app[CLOCK]
    response = _see_other(next_path)
    response.set_cookie(
        COOKIE_NAME, sign_session(request.app[SIGNING_KEY], username, principal.role, clock.now(),
                                  settings.auth.session_hours),
        max_age=int(settings.auth.session_hours * 3600), path="/", httponly=True, samesite="Lax",
        secure=request.secure)
    return response


@routes.post("/logout")
async def logout(request: web.Request) -> web.Response:
    """Drop the session cookie and go back to the sign-in form."""
    if cross_site_form(request):
        raise Forbidden("拒绝来自其他网站的表单提交")
    response = _see_other("/login")
    response.del_cookie(COOKIE_NAME, path="/", httponly=True, samesite="Lax", secure=request.secure)
    return response


@routes.get("/")
async def overview(request: web.Request) -> web.Response:
    """The registry in figures, with the overdue plans listed."""
    settings, today = request.app[SETTINGS], request.app[CLOCK].today()
    async with request.app[SESSIONS]() as session:
        stats = await registry_stats(session, settings.registry, today)
        attention = (await list_plans(session, PlanFilter(status="overdue", per_page=ATTENTION_ROWS),
                                      settings.registry, today))["items"]
    user = request[PRINCIPAL].name.removeprefix("user:")
    return templates.html_response(templates.overview_page(stats, attention, user))
