"""Every request gets an id: taken from the X-Request-Id a proxy sent (when it looks like one), else made here;
answered in the X-Request-Id header and carried by every log line the request causes."""

from __future__ import annotations

import re
import secrets

from aiohttp import web

from fangxun.core.log_context import log_context

HEADER = "X-Request-Id"
# A proxy's id (nginx $request_id: 32 hex digits; a UUID) is kept; anything else is replaced, never logged.
_ACCEPTED = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
REQUEST_ID = web.RequestKey("request_id", str)


def request_id(request: web.BaseRequest) -> str | None:
    """The id given to `request` (None before the middleware ran: a request aiohttp refused itself)."""
    return request.get(REQUEST_ID)


@web.middleware
async def request_id_middleware(request: web.Request, handler) -> web.StreamResponse:
    """Name the request, and log everything it does under that name (the outermost middleware)."""
    given = request.headers.get(HEADER, "")
    request[REQUEST_ID] = given if _ACCEPTED.match(given) else secrets.token_hex(8)
    with log_context(request_id=request[REQUEST_ID]):
        return await handler(request)


async def answer_request_id(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: the id in the answer, so a user reporting a fault can quote it."""
    if (given := request_id(request)) is not None:
        response.headers[HEADER] = given
