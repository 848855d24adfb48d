"""Duty rosters: the lines of a desk and dates, who is on duty now, and one line set or removed (editors)."""

from __future__ import annotations

from datetime import date, timedelta

from aiohttp import web

from fangxun.api.jsonio import json_object, reply
from fangxun.api.keys import CLOCK, PRINCIPAL, SESSIONS, SETTINGS
from fangxun.api.params import date_param, text_param
from fangxun.core.errors import BadInput
from fangxun.warnings.duty.roster_edits import check_desk, delete_line, line_json, list_lines, put_line
from fangxun.warnings.duty.roster_import import desk_names, parse_date
from fangxun.warnings.duty.roster_queries import on_duty_now

routes = web.RouteTableDef()
DEFAULT_DAYS = 30


def _path_date(request: web.Request) -> date:
    try:
        return parse_date(request.match_info["duty_date"])
    except ValueError as exc:
        raise BadInput(f"duty_date（日期）：{exc}", extra={"field": "duty_date"}) from None


@routes.get("/api/duty/roster")
async def roster(request: web.Request) -> web.Response:
    """The roster lines of `desk` (every desk when absent) from `from` (today) to `to` (30 days on)."""
    departments = request.app[SETTINGS].warnings.departments
    desk = text_param(request, "desk")
    if desk is not None:
        check_desk(desk, departments)
    start = date_param(request, "from") or request.app[CLOCK].today()
    end = date_param(request, "to") or start + timedelta(days=DEFAULT_DAYS)
    names = desk_names(departments)
    async with request.app[SESSIONS]() as session:
        lines = await list_lines(session, desk, start, end)
    return reply({"from": start.isoformat(), "to": end.isoformat(), "desks": names,
                  "lines": [{"id": line.id, **line_json(line, names)} for line in lines]})


@routes.get("/api/duty/now")
async def now(request: web.Request) -> web.Response:
    """Who is on duty at each desk now (all fields null at a desk with nobody on duty)."""
    settings = request.app[SETTINGS].warnings
    names = desk_names(settings.departments)
    at = request.app[CLOCK].now()
    async with request.app[SESSIONS]() as session:
        duty = await on_duty_now(session, list(names), at, settings.duty)
    return reply({"at": at.isoformat(), "desks": [line_json(entry, names, desk) for desk, entry in duty.items()]})


@routes.put("/api/duty/roster/{desk}/{duty_date}/{shift}")
async def put(request: web.Request) -> web.Response:
    """Set the 值班员 and 带班领导 of one 班次 of one day at a desk (201 when the line is new)."""
    body = await json_object(request)
    departments = request.app[SETTINGS].warnings.departments
    day = _path_date(request)
    async with request.app[SESSIONS]() as session, session.begin():
        line, created = await put_line(session, request.match_info["desk"], day, request.match_info["shift"], body,
                                       departments, request[PRINCIPAL].name)
        return reply({"id": line.id, **line_json(line, desk_names(departments))}, status=201 if created else 200)


@routes.delete("/api/duty/roster/{desk}/{duty_date}/{shift}")
async def delete(request: web.Request) -> web.Response:
    """Remove one roster line; the desk falls back to its configured contact for that time."""
    departments = request.app[SETTINGS].warnings.departments
    day = _path_date(request)
    async with request.app[SESSIONS]() as session, session.begin():
        line = await delete_line(session, request.match_info["desk"], day, request.match_info["shift"], departments,
                                 request[PRINCIPAL].name)
        return reply({"deleted": line_json(line, desk_names(departments))})
