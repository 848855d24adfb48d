"""Warnings: intake (CAP XML or the hand-entry form), the list, a thread as one object, each recipient's state."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from fangxun.api.jsonio import json_object, reply
from fangxun.api.keys import CLOCK, PRINCIPAL, SESSIONS, SETTINGS
from fangxun.api.manual_entry import accept_manual, dry_run, expansions_of, handoff_of, manual_warning
from fangxun.api.params import int_param, path_id, text_param
from fangxun.core.errors import BadInput, PayloadTooLarge, UnsupportedMediaType
from fangxun.core.times import parse_local_time
from fangxun.warnings.intake.accept import IntakeResult
from fangxun.warnings.intake.cap_intake import ingest_cap, read_cap
from fangxun.warnings.queries import (MAX_PAGE_SIZE, WarningFilter, list_warnings, recipients, thread_view,
                                      warning_detail)
from fangxun.warnings.vocabulary import COLOUR_NAMES

routes = web.RouteTableDef()
CAP_TYPES = frozenset({"application/cap+xml", "application/xml", "text/xml"})
_CHUNK = 64 * 1024
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


async def read_limited(request: web.Request, limit: int) -> bytes:
    """The body, refused (413) when Content-Length or the bytes actually sent exceed `limit`."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise PayloadTooLarge(f"请求体有 {declared} 字节，超过上限 {limit} 字节", extra={"max_bytes": limit})
    if declared is not None:  # announced and within the limit (aiohttp reads no more than announced): one read
        return await request.read()
    body = bytearray()
    async for chunk in request.content.iter_chunked(_CHUNK):
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"请求体超过上限 {limit} 字节", extra={"max_bytes": limit})
    return bytes(body)


def bool_param(request: web.Request, name: str) -> bool:
    """A yes/no query value (1/0, true/false)."""
    raw = (text_param(request, name) or "0").lower()
    if raw not in _TRUE + _FALSE:
        raise BadInput(f"{name}：应为 1 或 0", extra={"field": name})
    return raw in _TRUE


def since_param(request: web.Request, name: str) -> datetime | None:
    """An ISO date or date-time; without a zone it is Beijing time."""
    raw = text_param(request, name)
    if raw is None:
        return None
    if len(raw) > 16 and raw[-6] == " " and raw[-3] == ":":
        raw = raw[:-6] + "+" + raw[-5:]  # an unescaped "+08:00" arrives as " 08:00"
    return parse_local_time(raw, name, unreadable="{field}：应为日期或时间，如 2026-07-20 或 2026-07-20T06:00:00+08:00")


def colour_param(request: web.Request) -> str | None:
    """blue/yellow/orange/red, or 蓝/黄/橙/红(色)."""
    raw = text_param(request, "colour")
    if raw is None:
        return None
    colour = COLOUR_NAMES.get(raw.lower())
    if colour is None:
        raise BadInput(f"colour：颜色 {raw!r} 无法识别（blue、yellow、orange、red 或 蓝、黄、橙、红）",
                       extra={"field": "colour"})
    return colour


def _intake_reply(result: IntakeResult, skipped: tuple[str, ...]) -> web.Response:
    body = {**result.as_json(), "warning": warning_detail(result.warning), "skipped": list(skipped),
            "thread": f"/api/warnings/{result.warning.id}"}
    response = reply(body, status=201 if result.created else 200)
    response.headers["Location"] = f"/api/warnings/{result.warning.id}"
    return response


@routes.post("/api/warnings")
async def post_warning(request: web.Request) -> web.Response:
    """Accept a CAP document (?lenient=1 to parse what can be read) or the hand-entry form.

    The warning is stored before the answer (201 new, 200 already held), and its notifications are written most
    urgent first: a large warning's rest after the answer (`expansion` says how far). With
    ?dry_run=1 nothing is stored: the answer (200) is the warning, its units and who would be told.
    """
    settings = request.app[SETTINGS]
    dry = bool_param(request, "dry_run")
    if request.content_type in CAP_TYPES:
        lenient = bool_param(request, "lenient")
        data = await read_limited(request, settings.warnings.max_cap_bytes)
        warning = read_cap(data, settings, lenient=lenient)
        if dry:
            return reply(await dry_run(request, warning))
        result = await ingest_cap(request.app[SESSIONS], warning, data, settings, request.app[CLOCK].now(),
                                  source="cap", entered_by=request[PRINCIPAL].name, handoff=handoff_of(request),
                                  expansions=expansions_of(request))
    elif request.content_type == "application/json":
        form = await json_object(request)
        warning = await manual_warning(request, form)
        if dry:
            return reply(await dry_run(request, warning))
        result = await accept_manual(request, form, warning)
    else:
        raise UnsupportedMediaType("请求体应为 CAP XML（application/cap+xml、application/xml 或 text/xml）"
                                   "或手工录入表单（application/json）")
    return _intake_reply(result, warning.skipped)


@routes.get("/api/warnings")
async def warnings_list(request: web.Request) -> web.Response:
    """One page of stored messages, newest first, filtered by status, event, colour and `since`."""
    wanted = WarningFilter(
        status=text_param(request, "status"), event=text_param(request, "event"), colour=colour_param(request),
        since=since_param(request, "since"), page=int_param(request, "page", default=1, low=1, high=10**6),
        per_page=int_param(request, "per_page", default=50, low=1, high=MAX_PAGE_SIZE))
    async with request.app[SESSIONS]() as session:
        return reply(await list_warnings(session, wanted))


@routes.get("/api/warnings/{id}")
async def warning_thread(request: web.Request) -> web.Response:
    """The whole 递进式 thread of the message: every message in order, current state, areas, units, counts."""
    async with request.app[SESSIONS]() as session:
        return reply(await thread_view(session, path_id(request), request.app[CLOCK].now()))


@routes.get("/api/warnings/{id}/notifications")
async def warning_notifications(request: web.Request) -> web.Response:
    """Each recipient of the message with its state, attempts, last error, 叫应 time and deadline."""
    warning_id = path_id(request)
    page = int_param(request, "page", default=1, low=1, high=10**6)
    per_page = int_param(request, "per_page", default=100, low=1, high=MAX_PAGE_SIZE)
    async with request.app[SESSIONS]() as session:
        return reply(await recipients(session, warning_id, request.app[CLOCK].now(),
                                      state=text_param(request, "state"), page=page, per_page=per_page))
