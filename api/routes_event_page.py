"""/events and /events/{id}: the event list and one event as a printable timeline."""

from __future__ import annotations

from aiohttp import web

from fangxun.api import pages as templates
from fangxun.api.event_page import event_page, events_list_page, page_policy
from fangxun.api.keys import CLOCK, PRINCIPAL, SESSIONS, SETTINGS
from fangxun.api.params import path_id
from fangxun.warnings.events.sms_reports import event_reports
from fangxun.warnings.events.timeline import event_timeline, list_events

routes = web.RouteTableDef()


def _html(html: str) -> web.Response:
    return templates.html_response(html, headers={"Content-Security-Policy": page_policy(html)})


@routes.get("/events")
async def events_list(request: web.Request) -> web.Response:
    """Every event, newest first."""
    settings = request.app[SETTINGS]
    async with request.app[SESSIONS]() as session:
        events = await list_events(session, settings)
    user = request[PRINCIPAL].name.removeprefix("user:")
    return _html(events_list_page(events, user, settings.registry.timezone))


@routes.get("/events/{id}")
async def event_timeline_page(request: web.Request) -> web.Response:
    """One event as a single timeline: warnings, decisions, notifications and 叫应, journal; the SMS replies to
    verify; totals last."""
    event_id = path_id(request)
    settings = request.app[SETTINGS]
    async with request.app[SESSIONS]() as session:
        timeline = await event_timeline(session, event_id, settings, request.app[CLOCK].now())
        reports = await event_reports(session, event_id, settings)
    principal = request[PRINCIPAL]
    user = principal.name.removeprefix("user:")
    return _html(event_page(timeline, user, settings.registry.timezone, reports, principal.can_write))
