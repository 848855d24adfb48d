"""Absences (请假/出差) of 责任人: register, list one person's, who is away at a moment, cancel; writes audited."""

from __future__ import annotations

from aiohttp import web

from fangxun.api.jsonio import json_object, reply
from fangxun.api.keys import CLOCK, PRINCIPAL, SESSIONS, SETTINGS
from fangxun.api.params import path_id, text_param
from fangxun.core.errors import NotFound
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


@routes.post("/api/absences/{id}/cancel")
async def cancel(request: web.Request) -> web.Response:
    """Cancel an absence (kept on record): the person gets their own notifications again from now on."""
    absence_id = path_id(request)
    now = request.app[CLOCK].now()
    async with request.app[SESSIONS]() as session, session.begin():
        await cancel_absence(session, absence_id, request[PRINCIPAL].name, now)
        return reply(await one_absence(session, absence_id, now))
