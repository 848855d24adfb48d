"""A request body read as JSON that every column can hold: nested at most MAX_DEPTH deep, numbers within range,
no NUL or lone surrogate in any text; anything else is a BadInput naming the field it is in."""

from __future__ import annotations

import json
import math

from fangxun.api.errors import field_name
from fangxun.core.errors import BadInput

# No form of ours nests deeper than a multipolygon inside `areas` (7); deeper bodies are refused, not walked.
MAX_DEPTH = 32
# Integers a column can hold (BIGINT); ids are held to their own, narrower range where they are read.
MAX_DIGITS = 19
INT_RANGE = (-(2**63), 2**63 - 1)


class _Unusable:
    """A number JSON allows but nothing here can store (huge, NaN, Infinity), left to be named by its field."""

    def __init__(self, text: str):
        self.text = text


def _integer(text: str) -> int | _Unusable:
    # Checked before int(): a 5,000-digit integer would otherwise raise deep inside the decoder, unnamed.
    if len(text.lstrip("-")) > MAX_DIGITS or not INT_RANGE[0] <= int(text) <= INT_RANGE[1]:
        return _Unusable(text)
    return int(text)


def _bad(path: tuple, detail: str) -> BadInput:
    name = field_name(path)
    return BadInput(f"{name}：{detail}" if name else f"请求体{detail}", extra={"field": name})


def text_problem(text: str) -> str | None:
    """Why no column can hold `text` (NUL, a lone surrogate), or None."""
    if "\x00" in text:
        return "含有不允许的空字符（NUL）"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate such as "\ud800"
        return "含有无效字符"
    return None


def _problem(value: object) -> str | None:
    """Why a scalar cannot be stored, or None."""
    if type(value) is float:
        return None if math.isfinite(value) else "数值超出可处理的范围"
    if type(value) is str:
        return text_problem(value)
    if type(value) is _Unusable:
        return f"数值 {value.text[:30]}{'…' if len(value.text) > 30 else ''} 超出可处理的范围"
    return None


def _path(node: tuple | None) -> tuple:
    """The keys from the document's root down to `node` (a (parent node, key) chain)."""
    keys = []
    while node is not None:
        node, key = node
        keys.append(key)
    return tuple(reversed(keys))


def _all_finite_numbers(values: list) -> bool:
    """True when every item is a finite number (fsum refuses anything else, and sums to inf or NaN over either)."""
    try:
        return math.isfinite(math.fsum(values))
    except (TypeError, OverflowError, ValueError):
        return False


def check_document(document: object) -> None:
    """BadInput naming the first field that is nested too deep, a number out of range, or text with NUL or a
    lone surrogate (no column takes those; PostgreSQL refuses NUL outright). Walked without recursion."""
    if problem := _problem(document):
        raise _bad((), problem)
    if type(document) is not dict and type(document) is not list:
        return   # a bare number, string, true/false or null: the route says it wants an object
    stack: list[tuple[object, int, tuple | None]] = [(document, 0, None)]
    while stack:
        container, depth, node = stack.pop()
        if depth >= MAX_DEPTH:
            raise _bad(_path(node), f"嵌套超过 {MAX_DEPTH} 层")
        items = container.items() if type(container) is dict else enumerate(container)
        for key, item in items:
            if type(key) is str and (problem := text_problem(key)):
                raise _bad(_path(node), f"字段名{problem}")
            kind = type(item)
            if kind is float or kind is int or kind is bool or item is None:
                if kind is float and item - item != 0:   # inf - inf and NaN are NaN
                    raise _bad(_path((node, key)), "数值超出可处理的范围")
            elif kind is list and depth + 1 < MAX_DEPTH and _all_finite_numbers(item):
                continue   # a vertex of a polygon: checked in C, not walked
            elif kind is dict or kind is list:
                stack.append((item, depth + 1, (node, key)))
            elif problem := _problem(item):
                raise _bad(_path((node, key)), problem)


def _deep_field(raw: bytes | str) -> str | None:
    """The top-level field under which `raw` nests deeper than MAX_DEPTH (read only after the decoder gave up)."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    depth, key, in_string, escaped, start = 0, None, False, False, 0
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
                if depth == 1:
                    key = text[start:index]
        elif char == '"':
            in_string, start = True, index + 1
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return key if text.lstrip().startswith("{") else None
        elif char in "]}":
            depth -= 1
    return None


def decode_json(raw: bytes | str) -> object:
    """A request body read as JSON and checked by check_document; BadInput when it is not usable JSON."""
    try:
        document = json.loads(raw, parse_int=_integer, parse_constant=_Unusable)
    except (ValueError, UnicodeDecodeError):  # JSONDecodeError is a ValueError
        raise BadInput("请求体不是有效的 JSON") from None
    except RecursionError:
        key = _deep_field(raw)
        raise _bad((key,) if key else (), f"嵌套超过 {MAX_DEPTH} 层") from None
    check_document(document)
    return document
