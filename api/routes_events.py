"""Events: list, one event as JSON, open and close by hand, link a warning by hand."""

from __future__ import annotations

from aiohttp import web

from fangxun.api.jsonio import json_object, reply
from fangxun.api.keys import CLOCK, PRINCIPAL, SESSIONS, SETTINGS
from fangxun.api.params import int_param, path_id, text_param
from fangxun.core.errors import BadInput
from fangxun.warnings.events.event_queries import event_detail, kind_labels, list_events
from fangxun.warnings.events.event_rules import parse_time
from fangxun.warnings.events.event_store import close_by_hand, link_by_hand, open_by_hand

routes = web.RouteTableDef()
_OPEN_FIELDS = {"kind", "name", "started_at", "note"}
_CLOSE_FIELDS = {"ended_at", "note"}
_LINK_FIELDS = {"warning_id"}


def _only(body: dict, allowed: set[str]) -> dict:
    """The body, refused when it carries a field the route does not take."""
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise BadInput(f"{unknown[0]}：不认识的字段（可用：{'、'.join(sorted(allowed))}）", extra={"field": unknown[0]})
    return body


def _time(body: dict, name: str):
    return None if body.get(name) in (None, "") else parse_time(body[name], name)


async def _detail(request: web.Request, event_id: int, status: int = 200) -> web.Response:
    labels = kind_labels(request.app[SETTINGS].events)
    async with request.app[SESSIONS]() as session:
        body = await event_detail(session, event_id, request.app[CLOCK].now(), labels=labels)
    response = reply(body, status=status)
    response.headers["Location"] = f"/api/events/{event_id}"
    return response


@routes.get("/api/events")
async def events_list(request: web.Request) -> web.Response:
    """Events, newest first, filtered by the year they started in, kind and status."""
    year = int_param(request, "year", default=0, low=1900, high=2200) or None
    async with request.app[SESSIONS]() as session:
        items = await list_events(session, year, text_param(request, "kind"), text_param(request, "status"),
                                  labels=kind_labels(request.app[SETTINGS].events))
    return reply({"total": len(items), "items": items})


@routes.get("/api/events/{id}")
async def event_get(request: web.Request) -> web.Response:
    """One event: warnings, affected units, notification and 叫应 figures, decision and journal counts."""
    return await _detail(request, path_id(request))


@routes.post("/api/events")
async def event_open(request: web.Request) -> web.Response:
    """Open an event by hand: {"kind", "name"?, "started_at"?, "note"?}; 201 with the event."""
    body = _only(await json_object(request), _OPEN_FIELDS)
    now, actor = request.app[CLOCK].now(), request[PRINCIPAL].name
    async with request.app[SESSIONS]() as session, session.begin():
        event = await open_by_hand(session, request.app[SETTINGS], actor, now, kind=body.get("kind"),
                                   name=body.get("name"), started_at=_time(body, "started_at"), note=body.get("note"))
    return await _detail(request, event.id, status=201)


@routes.post("/api/events/{id}/close")
async def event_close(request: web.Request) -> web.Response:
    """Close an event by hand: {"ended_at"?, "note"?}; 409 if it is closed already."""
    event_id = path_id(request)
    body = _only(await json_object(request), _CLOSE_FIELDS)
    now, actor = request.app[CLOCK].now(), request[PRINCIPAL].name
    async with request.app[SESSIONS]() as session, session.begin():
        await close_by_hand(session, event_id, actor, now, ended_at=_time(body, "ended_at"), note=body.get("note"))
    return await _detail(request, event_id)


@routes.post("/api/events/{id}/warnings")
async def event_link(request: web.Request) -> web.Response:
    """Link a warning (with its thread's messages in no event) by hand: {"warning_id"}; 409 if it is in one."""
    event_id = path_id(request)
    body = _only(await json_object(request), _LINK_FIELDS)
    now, actor = request.app[CLOCK].now(), request[PRINCIPAL].name
    async with request.app[SESSIONS]() as session, session.begin():
        await link_by_hand(session, event_id, body.get("warning_id"), actor, now)
    return await _detail(request, event_id)
