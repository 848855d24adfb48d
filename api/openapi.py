"""The OpenAPI 3.1 document of the service, assembled from the application's own routes: each /api route is
described by its entry in openapi_operations (and its handler's docstring)."""

from __future__ import annotations

from collections.abc import Iterator

from aiohttp import web

import fangxun
from fangxun.api.cookies import COOKIE_NAME
from fangxun.api.openapi_operations import OPERATIONS, operation
from fangxun.api.keys import SETTINGS
from fangxun.api.openapi_schemas import component_schemas
from fangxun.settings import Settings
from fangxun.warnings.delivery.channels.config import AliyunVoiceConfig, VoiceConfig

DESCRIPTION = """防汛预案登记、预警叫应、事件与应急响应的接口。

- 认证：`Authorization: Bearer <令牌>`（`fangxun token create --role viewer|reporter|editor|admin`），或页面登录的会话
  Cookie（会话的修改请求须带 `X-Requested-With: fangxun`）。查看需任一角色，修改需 editor 或 admin；填报账号（reporter）
  只能追加本部门的事件日志。健康检查、本文档、叫应链接和网关回调无需令牌（回调以签名或地址中的令牌为凭据）。
- 错误：一律为 JSON `{"error": 代码, "detail": 中文说明, "field"?: 出错的字段}`；请求有误时不改变任何数据。
- 时间：ISO 8601；不带时区的时间按北京时间（+08:00）理解。"""
TAGS = ["状态", "区划", "预案", "值班", "预警", "值班看板", "叫应", "事件", "响应决策", "事件日志", "报告", "演练", "网关回调", "文档"]


def api_routes(app: web.Application) -> Iterator[tuple[str, str, object]]:
    """(method, path, handler) of every route under /api; HEAD is left out (aiohttp adds one to each GET, and it
    answers as the GET does)."""
    for route in app.router.routes():
        canonical = route.resource.canonical if route.resource is not None else ""
        if route.method == "HEAD" or not canonical.startswith("/api/"):
            continue
        yield route.method.lower(), canonical, route.handler


def undocumented(app: web.Application) -> list[str]:
    """The /api routes of `app` the document does not describe ("METHOD /path")."""
    return [f"{method.upper()} {path}" for method, path, _ in api_routes(app) if (method, path) not in OPERATIONS]


def openapi_document(app: web.Application) -> dict:
    """The OpenAPI 3.1 document of `app`'s /api routes."""
    paths: dict[str, dict] = {}
    for method, path, handler in api_routes(app):
        op = OPERATIONS.get((method, path))
        if op is not None:
            paths.setdefault(path, {})[method] = operation(method, path, op, getattr(handler, "__doc__", None))
    document = {
        "openapi": "3.1.0",
        "info": {"title": "fangxun 防汛 API", "version": fangxun.__version__, "description": DESCRIPTION},
        "servers": [{"url": "/"}],
        "tags": [{"name": name} for name in TAGS],
        "security": [{"bearer": []}, {"session": []}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": component_schemas(),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "fangxun token create 打印的 API 令牌"},
                "session": {"type": "apiKey", "in": "cookie", "name": COOKIE_NAME,
                            "description": "页面登录的会话；修改请求须带 X-Requested-With: fangxun"},
            },
        },
    }
    return for_this_service(document, app[SETTINGS])


def _choices(schema: dict, names: list[str]) -> dict:
    return {**schema, "enum": names} if names else schema


def for_this_service(document: dict, settings: Settings) -> dict:
    """The choices this service's configuration fixes: event kinds, departments, gateway channel names."""
    schemas = document["components"]["schemas"]
    properties = schemas["EventOpen"]["properties"]
    properties["kind"] = _choices(properties["kind"], list(settings.events.kinds))
    for name in ("JournalEntryBody", "SmsReportToJournal"):
        properties = schemas[name]["properties"]
        properties["department"] = _choices(properties["department"], list(settings.warnings.departments))
    channels = settings.warnings.channels
    names = {
        "/api/callbacks/sms/{channel}": [name for name, config in channels.items()
                                         if config.kind == "sms" and config.callback_secret_env],
        "/api/callbacks/voice/{channel}": [name for name, config in channels.items() if isinstance(config, VoiceConfig)],
        "/api/callbacks/voice/{channel}/{token}": [name for name, config in channels.items()
                                                   if isinstance(config, AliyunVoiceConfig)],
    }
    for path, configured in names.items():
        operation = document["paths"].get(path, {}).get("post")
        if operation is not None:
            operation["parameters"] = [{**param, "schema": _choices(param["schema"], configured)}
                                       if param["name"] == "channel" else param for param in operation["parameters"]]
    return document
