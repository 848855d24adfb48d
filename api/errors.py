"""One middleware turns every failure into `{"error": code, "detail": 中文}` (JSON under /api, HTML on pages)."""

from __future__ import annotations

import functools
import json
import logging
import secrets

from aiohttp import web
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from fangxun.api import pages as templates
from fangxun.api.request_ids import request_id
from fangxun.core.db_outage import is_outage, outage_error, outage_reason
from fangxun.core.errors import BadInput, Conflict, FangxunError

log = logging.getLogger("fangxun.api")
_dumps = functools.partial(json.dumps, ensure_ascii=False)

_PYDANTIC_TEXT = {
    "missing": "缺少必填字段",
    "extra_forbidden": "不允许的字段",
    "string_type": "应为文本",
    "string_too_short": "不能为空",
    "string_too_long": "超过最大长度 {max_length}",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "greater_than_equal": "应不小于 {ge}",
    "less_than_equal": "应不大于 {le}",
    "date_type": "不是有效日期（应为 YYYY-MM-DD）",
    "date_parsing": "不是有效日期（应为 YYYY-MM-DD）",
    "date_from_datetime_parsing": "不是有效日期（应为 YYYY-MM-DD）",
    "list_type": "应为列表",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "float_type": "应为数字",
    "finite_number": "应为有限的数字",
    "literal_error": "应为 {expected} 之一",
    "string_pattern_mismatch": "格式不符",
    "datetime_type": "应为 ISO 8601 时间文本，如 2026-07-20T06:00:00+08:00",
    "datetime_parsing": "应为 ISO 8601 时间文本，如 2026-07-20T06:00:00+08:00",
}
_HTTP_TEXT = {404: "请求的地址不存在", 405: "不支持该请求方法", 413: "请求体过大", 415: "不支持的内容类型"}


def field_name(loc: tuple) -> str:
    """`("contacts", 0, "phone")` -> `contacts[0].phone`."""
    name = ""
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name


def error_text(error: dict) -> str:
    """A pydantic error in Chinese; our own validators already speak Chinese."""
    if error["type"] == "value_error":
        return str(error["ctx"]["error"]) if "ctx" in error else error["msg"].removeprefix("Value error, ")
    template = _PYDANTIC_TEXT.get(error["type"], "取值无效")
    try:
        return template.format(**error.get("ctx", {}))
    except (KeyError, IndexError):
        return "取值无效"


def validation_to_bad_input(exc: ValidationError, prefix: tuple = ()) -> BadInput:
    """A BadInput naming the first bad field, with every problem listed in `errors`."""
    problems = [{"field": field_name(prefix + tuple(e["loc"])), "detail": error_text(e)} for e in exc.errors()]
    first = problems[0]
    detail = f"{first['field']}：{first['detail']}" if first["field"] else first["detail"]
    return BadInput(detail, extra={"field": first["field"], "errors": problems})


def is_api(request: web.Request) -> bool:
    """True for requests under /api."""
    return request.path == "/api" or request.path.startswith("/api/")


def error_response(request: web.Request, error: FangxunError, headers: dict | None = None) -> web.Response:
    """The response for `error`: JSON under /api, a small Chinese page elsewhere (Retry-After when it says when)."""
    if "retry_after" in error.extra:
        headers = {**(headers or {}), "Retry-After": str(error.extra["retry_after"])}
    if is_api(request):
        body = {**error.extra, "error": error.code, "detail": error.detail}
        return web.json_response(body, status=error.status, headers=headers, dumps=_dumps)
    return templates.html_response(templates.error_page(error.status, error.detail), status=error.status,
                                   headers=headers)


def _from_http(exc: web.HTTPException) -> FangxunError:
    detail = _HTTP_TEXT.get(exc.status, exc.reason)
    error = FangxunError(detail)
    error.status, error.code = exc.status, exc.reason.lower().replace(" ", "_")
    return error


@web.middleware
async def error_middleware(request: web.Request, handler) -> web.StreamResponse:
    """Map FangxunError, validation errors, HTTP errors and crashes to responses."""
    try:
        return await handler(request)
    except FangxunError as exc:
        if exc.status >= 500:
            log.error("%s on %s %s: %s", exc.code, request.method, request.path, exc.detail)
        return error_response(request, exc)
    except ValidationError as exc:
        return error_response(request, validation_to_bad_input(exc))
    except IntegrityError:
        # A concurrent write got in first (e.g. the same unit and kind created twice at once).
        log.warning("integrity error on %s %s", request.method, request.path, exc_info=True)
        return error_response(request, Conflict("数据冲突：记录已存在或已被修改，请刷新后重试"))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(request, _from_http(exc), headers=_kept_headers(exc))
    except Exception as exc:
        if isinstance(exc, (SQLAlchemyError, OSError)) and is_outage(exc):
            log.warning("database unavailable on %s %s: %s", request.method, request.path, outage_reason(exc))
            return error_response(request, outage_error())
        return _internal_error(request)


def _internal_error(request: web.Request) -> web.Response:
    """A real fault: logged with its traceback and the request id (api/request_ids), which the answer repeats."""
    number = request_id(request) or secrets.token_hex(8)
    log.exception("unexpected error on %s %s (request %s)", request.method, request.path, number)
    error = FangxunError(f"服务器内部错误，请联系管理员（错误编号 {number}）", extra={"request_id": number})
    return error_response(request, error)


def _kept_headers(exc: web.HTTPException) -> dict:
    return {name: exc.headers[name] for name in ("Allow", "Retry-After") if name in exc.headers}
