"""Text no column can hold (NUL, lone surrogates) refused at the door: a path holding it names nothing (404), a query
parameter or posted form field holding it is named (400); JSON bodies are checked where they are read (json_body)."""

from __future__ import annotations

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from fangxun.api.json_body import text_problem
from fangxun.core.errors import BadInput, NotFound

FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
# The gateways' callbacks read their signed body themselves, under their own size limits: never read as a form.
RAW_BODY_PREFIX = "/api/callbacks/"


def _check(pairs) -> None:
    for name, value in pairs:
        if problem := text_problem(name):
            raise BadInput(f"参数名{problem}", extra={"field": ""})
        if isinstance(value, str) and (problem := text_problem(value)):
            raise BadInput(f"{name}：{problem}", extra={"field": name})


@web.middleware
async def input_middleware(request: web.Request, handler) -> web.StreamResponse:
    """Refuse a path, query parameter or form field holding NUL or an invalid character before any route reads it."""
    if text_problem(request.path):
        raise NotFound("请求的地址不存在")
    _check(request.query.items())
    if (request.method in ("POST", "PUT", "PATCH") and request.content_type in FORM_TYPES
            and not request.path.startswith(RAW_BODY_PREFIX)):
        _check((await _form(request)).items())
    return await handler(request)


async def _form(request: web.Request):
    """The posted form, read once here (aiohttp keeps it: the route reads the same one); BadInput when unreadable."""
    try:
        return await request.post()
    except (ValueError, LookupError, HttpProcessingError):  # no boundary, not UTF-8, unknown charset, bad part
        raise BadInput("请求体不是可读的表单（application/x-www-form-urlencoded 或 multipart/form-data，UTF-8）",
                       extra={"field": ""}) from None
