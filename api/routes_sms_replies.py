"""An event's SMS replies (待核实的短信回复) and the duty officer's one action that makes one a journal entry."""

from __future__ import annotations

from aiohttp import web

from fangxun.api.json_body import decode_json
from fangxun.api.jsonio import reply
from fangxun.api.keys import CLOCK, PRINCIPAL, SESSIONS, SETTINGS
from fangxun.api.params import path_id
from fangxun.warnings.events.journal import entry_view, unit_names
from fangxun.warnings.events.sms_reports import event_reports, report_to_journal

routes = web.RouteTableDef()


@routes.get("/api/events/{id}/sms-replies")
async def sms_reports(request: web.Request) -> web.Response:
    """The replies other than 收到 from the recipients of the event's warnings, oldest first, each `unverified`
    (待核实) or made into the journal entry `journal_entry_id`."""
    event_id = path_id(request)
    async with request.app[SESSIONS]() as session:
        items = await event_reports(session, event_id, request.app[SETTINGS])
    return reply({"event_id": event_id, "items": items})


async def _optional_json(request: web.Request) -> object:
    """The JSON body, or None when there is none."""
    body = await request.read() if request.can_read_body else b""
    if not body.strip():
        return None
    return decode_json(body)


async def _to_journal(request: web.Request, changes: object):
    settings = request.app[SETTINGS]
    async with request.app[SESSIONS]() as session, session.begin():
        entry = await report_to_journal(session, path_id(request), path_id(request, "reply_id"), request[PRINCIPAL],
                                        settings, request.app[CLOCK].now(), changes)
        names = await unit_names(session, {entry.unit_code} if entry.unit_code else set())
        return entry, entry_view(entry, None, settings.warnings.departments, names)


@routes.post("/api/events/{id}/sms-replies/{reply_id}/journal")
async def sms_report_to_journal(request: web.Request) -> web.Response:
    """Make the reply a journal entry (201, the entry); the body may set `department`, `unit_code`, `action` and
    `figures` (e.g. {"figures": {"evacuated": 30}} once verified). 409 when it is an entry already."""
    entry, view = await _to_journal(request, await _optional_json(request))
    response = reply(view, status=201)
    response.headers["Location"] = f"/api/events/{entry.event_id}/journal/{entry.id}"
    return response


@routes.post("/events/{id}/sms-replies/{reply_id}/journal")
async def sms_report_to_journal_page(request: web.Request) -> web.Response:
    """The button on the event page: the entry is appended and the timeline shown at it (303)."""
    entry, _ = await _to_journal(request, None)
    return web.Response(status=303, headers={"Location": f"/events/{entry.event_id}#entry-{entry.id}"})
