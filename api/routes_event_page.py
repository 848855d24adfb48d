"""/events and /events/{id}: the event list and one event as a printable timeline, with its response desk (the
level in force, the live proposal, the decision form) above it."""

from __future__ import annotations

from aiohttp import web

from fangxun.api import pages as templates
from fangxun.api.event_page import decision_form, event_page, events_list_page, page_policy
from fangxun.api.keys import CLOCK, PRINCIPAL, SESSIONS, SETTINGS
from fangxun.api.params import path_id
from fangxun.core.errors import BadInput, Conflict, Forbidden
from fangxun.warnings.events.decisions import DECISION_FIELDS, decide
from fangxun.warnings.events.response_desk import response_desk
from fangxun.warnings.events.sms_reports import event_reports
from fangxun.warnings.events.timeline import event_timeline, list_events

routes = web.RouteTableDef()
READ_ONLY_TEXT = "当前账号只有查看权限，不能记录应急响应决策"


def _html(html: str, status: int = 200) -> web.Response:
    return templates.html_response(html, status=status, headers={"Content-Security-Policy": page_policy(html)})


@routes.get("/events")
async def events_list(request: web.Request) -> web.Response:
    """Every event, newest first."""
    settings = request.app[SETTINGS]
    async with request.app[SESSIONS]() as session:
        events = await list_events(session, settings)
    user = request[PRINCIPAL].name.removeprefix("user:")
    return _html(events_list_page(events, user, settings.registry.timezone))


async def _event_response(request: web.Request, event_id: int, values: dict | None = None,
                          error: BadInput | Conflict | None = None) -> web.Response:
    """The event page; after a refused decision, with the form as it was posted and the error at its field."""
    settings, now = request.app[SETTINGS], request.app[CLOCK].now()
    async with request.app[SESSIONS]() as session:
        timeline = await event_timeline(session, event_id, settings, now)
        reports = await event_reports(session, event_id, settings)
        desk = await response_desk(session, settings, event_id, now)
    principal = request[PRINCIPAL]
    form = decision_form(desk, values, error) if principal.can_write else None
    html = event_page(timeline, principal.name.removeprefix("user:"), settings.registry.timezone, reports,
                      principal.can_write, desk=desk, form=form)
    return _html(html, error.status if error else 200)


@routes.get("/events/{id}")
async def event_timeline_page(request: web.Request) -> web.Response:
    """One event: the response desk, then one timeline of warnings, decisions, notifications and 叫应, journal;
    the SMS replies to verify; totals last."""
    return await _event_response(request, path_id(request))


@routes.post("/events/{id}/decisions")
async def decision_form_post(request: web.Request) -> web.Response:
    """The decision form posted (editors and admins): recorded with its notices and the page shown at it (303),
    or the page again with the error next to its field and nothing written."""
    event_id = path_id(request)
    principal = request[PRINCIPAL]
    if not principal.can_write:
        raise Forbidden(READ_ONLY_TEXT)
    form = await request.post()
    values = {name: str(form.get(name, "")).strip() for name in DECISION_FIELDS}
    try:
        async with request.app[SESSIONS]() as session, session.begin():
            decision = await decide(session, request.app[SETTINGS], event_id, values, principal=principal,
                                    now=request.app[CLOCK].now())
    except (BadInput, Conflict) as exc:
        return await _event_response(request, event_id, values, exc)
    return web.Response(status=303, headers={"Location": f"/events/{event_id}#response-decision-{decision.id}"})
