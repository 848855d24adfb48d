"""Reading query and path parameters; every failure is a BadInput naming the parameter."""

from __future__ import annotations

from datetime import date

from aiohttp import web

from fangxun.core.errors import BadInput
from fangxun.core.row_ids import MAX_ROW_ID, row_id_of_text
from fangxun.plans.plan_fields import parse_date
from fangxun.plans.unit_rules import is_valid_code


def text_param(request: web.Request, name: str) -> str | None:
    """A query value with blanks meaning absent."""
    value = request.query.get(name, "").strip()
    return value or None


def int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    """An integer query value within low..high."""
    raw = text_param(request, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadInput(f"{name}：应为整数：{raw!r}", extra={"field": name}) from None
    if not low <= value <= high:
        raise BadInput(f"{name}：应在 {low} 到 {high} 之间", extra={"field": name})
    return value


def date_param(request: web.Request, name: str) -> date | None:
    """A YYYY-MM-DD query value."""
    raw = text_param(request, name)
    try:
        return parse_date(raw)
    except ValueError as exc:
        raise BadInput(f"{name}：{exc}", extra={"field": name}) from None


def check_code(value: str | None, name: str) -> str | None:
    """A 12-digit unit code (or None)."""
    if value is not None and not is_valid_code(value):
        raise BadInput(f"{name}：区划代码应为 12 位数字：{value!r}", extra={"field": name})
    return value


def path_id(request: web.Request, name: str = "id") -> int:
    """A positive integer from the URL path."""
    raw = request.match_info[name]
    value = row_id_of_text(raw)
    if value is None:
        raise BadInput(f"{name}：应为不超过 {MAX_ROW_ID} 的正整数：{raw[:30]!r}", extra={"field": name})
    return value
