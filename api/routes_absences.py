"""Absences (请假/出差) of 责任人: register, list one person's, who is away at a moment, cancel; writes audited."""

from __future__ import annotations

from aiohttp import web

from fangxun.api.json_body import decode_json
from fangxun.api.jsonio import json_object, reply
from fangxun.api.keys import CLOCK, PRINCIPAL, SESSIONS, SETTINGS
from fangxun.api.params import path_id, text_param
from fangxun.core.errors import BadInput, NotFound
from fangxun.core.times import parse_local_time
from fangxun.plans.absence_queries import away_at, contact_absences, one_absence
from fangxun.plans.absence_writes import add_absence, cancel_absence
from fangxun.plans.models import Contact

routes = web.RouteTableDef()


@routes.post("/api/contacts/{id}/absences")
async def create(request: web.Request) -> web.Response:
    """Register a 责任人's absence; their notifications go to the stand-in meanwhile."""
    contact_id = path_id(request)
    fields = await json_object(request)
    now = request.app[CLOCK].now()
    async with request.app[SESSIONS]() as session, session.begin():
        absence = await add_absence(session, contact_id, fields, request[PRINCIPAL].name, now)
        return reply(await one_absence(session, absence.id, now), status=201)


@routes.get("/api/contacts/{id}/absences")
async def of_contact(request: web.Request) -> web.Response:
    """Every absence of one person, latest first."""
    contact_id = path_id(request)
    now = request.app[CLOCK].now()
    async with request.app[SESSIONS]() as session:
        if await session.get(Contact, contact_id) is None:
            raise NotFound(f"联系人 {contact_id} 不存在")
        return reply({"contact_id": contact_id, "items": await contact_absences(session, contact_id, now)})


@routes.get("/api/absences")
async def away(request: web.Request) -> web.Response:
    """Who is away at `at` (now by default), and who stands in for each."""
    raw = text_param(request, "at")
    at = parse_local_time(raw, "at") if raw is not None else request.app[CLOCK].now()
    zone = request.app[SETTINGS].warnings.quiet_hours.timezone
    async with request.app[SESSIONS]() as session:
        return reply({"at": at.isoformat(), "items": await away_at(session, at, zone)})


async def _cancel_body(request: web.Request) -> dict:
    """The optional body of a cancel: {"reason"?}; none at all is {}."""
    raw = await request.read() if request.can_read_body else b""
    body = decode_json(raw) if raw.strip() else {}
    if not isinstance(body, dict):
        raise BadInput("请求体应为 JSON 对象")
    unknown = sorted(set(body) - {"reason"})
    if unknown:
        raise BadInput(f"{unknown[0]}：不是可填写的字段（可填：reason）", extra={"field": unknown[0]})
    return body


@routes.post("/api/absences/{id}/cancel")
async def cancel(request: web.Request) -> web.Response:
    """Cancel an absence (kept on record): the person gets their own notifications again from now on."""
    absence_id = path_id(request)
    body = await _cancel_body(request)
    now = request.app[CLOCK].now()
    async with request.app[SESSIONS]() as session, session.begin():
        await cancel_absence(session, absence_id, request[PRINCIPAL].name, now, reason=body.get("reason", ""))
        return reply(await one_absence(session, absence_id, now))
