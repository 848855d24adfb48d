"""Text no column can hold (NUL, lone surrogates) refused at the door: a path holding it names nothing (404), a query
parameter or posted form field holding it is named (400); JSON bodies are checked where they are read (jsonio)."""

from __future__ import annotations

from aiohttp import web

from fangxun.api.jsonio import text_problem
from fangxun.core.errors import BadInput, NotFound

FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


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
    if request.method in ("POST", "PUT", "PATCH") and request.content_type in FORM_TYPES:
        _check((await request.post()).items())  # aiohttp keeps the form: the route reads the same one
    return await handler(request)
