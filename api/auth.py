"""Who is asking: bearer tokens for the API, the session cookie for pages; roles and CSRF for writes."""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from yarl import URL

from fangxun.api.cookies import COOKIE_NAME, read_session
from fangxun.api.errors import error_response, is_api
from fangxun.api.keys import (AUTH_METHOD, CLOCK, LOGIN_LIMITER, PASSWORD_EXECUTOR, PRINCIPAL, PUBLIC_BASE, SESSIONS,
                              SIGNING_KEY)
from fangxun.api.login_limit import sign_in_keys
from fangxun.api.metrics_access import open_metrics
from fangxun.core.accounts import Principal, User, principal_for_token, store_upgraded_hash
from fangxun.core.errors import Forbidden, Unauthorized
from fangxun.core.page_sessions import session_principal
from fangxun.core.passwords import hash_password, needs_rehash, verify_password

# The OpenAPI document and its page describe the interface and hold no data.
PUBLIC_PATHS = frozenset({"/api/health", "/api/ready", "/api/openapi.json", "/api/docs", "/login", "/logout",
                          "/favicon.ico"})
# 叫应 links: the token in the path is the credential (a 责任人 has no account).
PUBLIC_PREFIXES = ("/static/", "/ack/", "/api/acks/",
                   # The gateways' callbacks, signed with the channel's secret: inbound SMS (routes_sms) and
                   # call results (routes_voice; routes_aliyun_voice: the token in the path is the credential).
                   "/api/callbacks/sms/", "/api/callbacks/voice/")
# Documents outside /api that other systems read: a bearer token works there as under /api.
TOKEN_PREFIXES = ("/cap/", "/metrics")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Where a reporter (a department's token or user) may write: new journal entries of an event.
JOURNAL_WRITE = re.compile(r"^(/api)?/events/\d+/journal$")
CSRF_HEADER, CSRF_VALUE = "X-Requested-With", "fangxun"
MAX_PASSWORD_LENGTH = 1024
logger = logging.getLogger(__name__)


def is_public(request: web.Request) -> bool:
    """Paths anyone may reach: health, sign-in and out, the icon, static assets, 叫应 links, signed gateway callbacks."""
    return request.path in PUBLIC_PATHS or request.path.startswith(PUBLIC_PREFIXES)


def _site(value: str) -> str | None:
    """host[:port] of an Origin or Referer; None when it names no web site ("null", a file, garbage)."""
    parts = urlsplit(value.strip())
    return parts.netloc.lower() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def own_sites(request: web.Request) -> set[str]:
    """The sites this service is reached as: the Host asked for, and the public address ([server] public_url)."""
    return {request.host.lower(), urlsplit(request.app[PUBLIC_BASE].url).netloc.lower()} - {""}


def cross_site_form(request: web.Request) -> bool:
    """True when the browser says the write comes from elsewhere: an Origin of another site or "null" (a sandboxed
    frame, a data: URL, a redirect across sites), or no Origin and a Referer from another site. With neither
    header it is not a browser's cross-site post (browsers send Origin with those) and the cookie is SameSite."""
    origin = request.headers.get("Origin")
    if origin is not None:
        return _site(origin) not in own_sites(request)
    referer = request.headers.get("Referer")
    return bool(referer) and _site(referer) not in own_sites(request)


def same_origin(request: web.Request) -> bool:
    """True for a cookie write our own scripts made: not from elsewhere, with our CSRF header or our Origin."""
    if cross_site_form(request):
        return False
    return request.headers.get(CSRF_HEADER) == CSRF_VALUE or request.headers.get("Origin") is not None


async def principal_from_cookie(request: web.Request) -> Principal | None:
    """The user of a well-signed cookie whose server-side session is open, still enabled, with the current role."""
    now = request.app[CLOCK].now()
    claims = read_session(request.app[SIGNING_KEY], request.cookies.get(COOKIE_NAME), now)
    if claims is None:
        return None
    async with request.app[SESSIONS]() as session:
        return await session_principal(session, claims.token, now)


@functools.cache
def _decoy_hash() -> str:
    return hash_password("fangxun decoy password", salt=b"fangxun-decoy-16")


def _verify(password: str, stored: str | None) -> bool:
    # An unknown user costs one hash check too, so timing does not tell which names exist.
    return verify_password(password, stored or _decoy_hash()) and stored is not None


async def check_password(app: web.Application, username: str, password: str) -> Principal | None:
    """The principal of an enabled user with this password; hashing runs off the event loop."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return None
    async with app[SESSIONS]() as session:
        user = (await session.execute(select(User).where(User.username == username))).scalar_one_or_none()
    stored = user.password_hash if user else None
    loop = asyncio.get_running_loop()
    ok = await loop.run_in_executor(app[PASSWORD_EXECUTOR], _verify, password, stored)
    if not (ok and user and not user.disabled):
        return None
    if needs_rehash(stored):
        await _upgrade_hash(app, user.id, stored, password)
    return Principal(name=f"user:{user.username}", role=user.role, department=user.department)


async def _upgrade_hash(app: web.Application, user_id: int, stored: str, password: str) -> None:
    """Replace an older hash (scrypt) by argon2id, now that the password is known to be right."""
    new_hash = await asyncio.get_running_loop().run_in_executor(app[PASSWORD_EXECUTOR], hash_password, password)
    try:
        async with app[SESSIONS]() as session, session.begin():
            await store_upgraded_hash(session, user_id, stored, new_hash)
    except SQLAlchemyError:
        # The sign-in stands; the next one tries again.
        logger.warning("could not store the upgraded password hash of user %s", user_id, exc_info=True)


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in: the principal, or why not and how long to wait before the next try."""

    principal: Principal | None
    wait: int = 0
    refused: bool = False   # not even checked: the name from this address, or the address, must wait


async def throttled_sign_in(app: web.Application, username: str, password: str, address: str) -> SignIn:
    """check_password behind the sign-in throttle (api/login_limit.py): refused unchecked while the name from this
    address, or the address, must wait; a failure makes them wait longer; a success clears the name from this
    address. Nothing another address does can make this one wait."""
    throttle = app[LOGIN_LIMITER]
    pair, where = sign_in_keys(username, address)
    wait = throttle.begin((pair, where))
    if wait:
        return SignIn(None, wait, refused=True)
    principal = await check_password(app, username, password)
    if principal is None:
        return SignIn(None, throttle.wait((pair, where)))
    throttle.forgive((where,))
    throttle.clear((pair,))
    return SignIn(principal)


def is_journal_write(request: web.Request) -> bool:
    """A new journal entry: the one write a reporter may make (its route checks the department)."""
    return request.method == "POST" and JOURNAL_WRITE.match(request.path) is not None


def _unauthorized(request: web.Request, detail: str, challenge: str) -> web.Response:
    return error_response(request, Unauthorized(detail), headers={"WWW-Authenticate": challenge})


async def _api_principal(request: web.Request) -> tuple[Principal | None, str, web.Response | None]:
    header = request.headers.get("Authorization")
    if header is None:
        principal = await principal_from_cookie(request)
        if principal is None:
            return None, "", _unauthorized(request, "需要登录或提供 API 令牌（Authorization: Bearer <令牌>）",
                                           'Bearer realm="fangxun"')
        return principal, "cookie", None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None, "", _unauthorized(request, "认证信息格式应为 Authorization: Bearer <令牌>",
                                       'Bearer realm="fangxun", error="invalid_request"')
    async with request.app[SESSIONS]() as session:
        principal = await principal_for_token(session, token.strip())
    if principal is None:
        return None, "", _unauthorized(request, "API 令牌无效或已吊销", 'Bearer realm="fangxun", error="invalid_token"')
    return principal, "token", None


@web.middleware
async def auth_middleware(request: web.Request, handler) -> web.StreamResponse:
    """Let public paths through; demand a token or session elsewhere; writes need an editor."""
    if is_public(request) or open_metrics(request):
        return await handler(request)
    if is_api(request) or request.path.startswith(TOKEN_PREFIXES):
        principal, method, refusal = await _api_principal(request)
        if refusal is not None:
            return refusal
        if request.method in WRITE_METHODS:
            if not (principal.can_write or (principal.role == "reporter" and is_journal_write(request))):
                raise Forbidden("当前账号只有查看权限，不能修改数据")
            if method == "cookie" and cross_site_form(request):
                raise Forbidden("拒绝来自其他网站的修改请求")
            if method == "cookie" and not same_origin(request):
                raise Forbidden(f"网页会话的修改请求须带 {CSRF_HEADER}: {CSRF_VALUE} 请求头")
    else:
        principal, method = await principal_from_cookie(request), "cookie"
        if principal is None:
            if request.method in ("GET", "HEAD"):
                target = URL("/login").with_query(next=request.path_qs)
                return web.Response(status=303, headers={"Location": str(target)})
            raise Unauthorized("请先登录")
        if request.method in WRITE_METHODS and cross_site_form(request):
            raise Forbidden("拒绝来自其他网站的表单提交")
    request[PRINCIPAL] = principal
    request[AUTH_METHOD] = method
    return await handler(request)
