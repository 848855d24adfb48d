"""JSON in and out: request bodies validated by pydantic models, replies with readable Chinese."""

from __future__ import annotations

import functools
import json
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from fangxun.api.errors import validation_to_bad_input
from fangxun.api.json_body import decode_json
from fangxun.core.errors import BadInput

M = TypeVar("M", bound=BaseModel)
dumps = functools.partial(json.dumps, ensure_ascii=False)


def reply(data: object, status: int = 200) -> web.Response:
    """A JSON response."""
    return web.json_response(data, status=status, dumps=dumps)


async def json_object(request: web.Request) -> dict:
    """The request body as a JSON object."""
    body = decode_json(await request.read())
    if not isinstance(body, dict):
        raise BadInput("请求体应为 JSON 对象")
    return body


def parse_body(model: type[M], data: dict, prefix: tuple = ()) -> M:
    """`data` validated as `model`; a ValidationError becomes a BadInput naming the field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_to_bad_input(exc, prefix) from None
