"""The journal of an event: append-only entries by departments and units (API and the simple form)."""

from __future__ import annotations

from aiohttp import web

from fangxun.api import pages as templates
from fangxun.api.errors import error_response
from fangxun.api.csp import form_page_policy
from fangxun.api.event_page import journal_form_page
from fangxun.api.jsonio import json_object, reply
from fangxun.api.keys import CLOCK, PRINCIPAL, SESSIONS, SETTINGS
from fangxun.api.params import path_id
from fangxun.core.errors import BadInput, Conflict, FangxunError, Forbidden, NotFound
from fangxun.plans.unit_search import place_labels
from fangxun.warnings.events.event_store import get_event
from fangxun.warnings.events.journal import (add_entry, corrections, entries_of, entry_view, journal_view, parse_entry,
                                             unit_names)
from fangxun.warnings.events.journal_rules import JOURNAL_FIGURES

routes = web.RouteTableDef()
ENTRY = "/api/events/{id}/journal/{entry_id}"
APPEND_ONLY_TEXT = "事件日志只能追加，更正请提交新的更正条目"


class AppendOnly(FangxunError):
    """An edit or delete of the journal: it only grows."""

    status = 405
    code = "append_only"


async def _entry_views(session, event_id: int, settings) -> list[dict]:
    entries = await entries_of(session, event_id)
    names = await unit_names(session, {e.unit_code for e in entries if e.unit_code})
    corrected = corrections(entries)
    return [entry_view(e, corrected.get(e.id), settings.warnings.departments, names) for e in entries]


@routes.get("/api/events/{id}/journal")
async def journal_list(request: web.Request) -> web.Response:
    """The entries of an event, oldest first, each with `corrected_by` and `standing`, and the totals."""
    event_id = path_id(request)
    async with request.app[SESSIONS]() as session:
        return reply(await journal_view(session, event_id, request.app[SETTINGS]))


@routes.post("/api/events/{id}/journal")
async def journal_add(request: web.Request) -> web.Response:
    """Append an entry (201); the time is the server's and the author the caller; nothing is ever changed."""
    event_id = path_id(request)
    settings = request.app[SETTINGS]
    fields = parse_entry(await json_object(request), settings.warnings.departments)
    async with request.app[SESSIONS]() as session, session.begin():
        entry = await add_entry(session, event_id, fields, request[PRINCIPAL], settings, request.app[CLOCK].now())
        names = await unit_names(session, {entry.unit_code} if entry.unit_code else set())
        body = entry_view(entry, None, settings.warnings.departments, names)
    response = reply(body, status=201)
    response.headers["Location"] = f"/api/events/{event_id}/journal/{entry.id}"
    return response


@routes.get(ENTRY)
async def journal_entry(request: web.Request) -> web.Response:
    """One entry of an event's journal."""
    event_id, entry_id = path_id(request), path_id(request, "entry_id")
    async with request.app[SESSIONS]() as session:
        await get_event(session, event_id)
        views = await _entry_views(session, event_id, request.app[SETTINGS])
    found = next((view for view in views if view["id"] == entry_id), None)
    if found is None:
        raise NotFound(f"事件 {event_id} 没有编号为 {entry_id} 的日志条目")
    return reply(found)


async def _append_only(request: web.Request) -> web.Response:
    """PUT, PATCH and DELETE of the journal: refused, with the reason and the way to correct."""
    allow = "GET" if "entry_id" in request.match_info else "GET, POST"
    return error_response(request, AppendOnly(APPEND_ONLY_TEXT), headers={"Allow": allow})


for _method in ("PUT", "PATCH", "DELETE"):
    routes.route(_method, ENTRY)(_append_only)
    routes.route(_method, "/api/events/{id}/journal")(_append_only)


def form_body(form) -> dict:
    """The HTML form as the JSON body of the API: blanks are absent, numbers become numbers."""
    body: dict = {}
    for name in ("department", "unit_code", "action", "text"):
        value = str(form.get(name, "")).strip()
        if value:
            body[name] = value
    figures = {}
    for name in JOURNAL_FIGURES:
        raw = str(form.get(name, "")).strip()
        if raw:
            figures[name] = _number(raw, name == "economic_loss")
    if figures:
        body["figures"] = figures
    raw = str(form.get("corrects_id", "")).strip()
    if raw:
        body["corrects_id"] = int(raw) if raw.isascii() and raw.isdigit() else raw
    return body


def _number(raw: str, decimal: bool) -> object:
    try:
        return float(raw) if decimal else (int(raw) if raw.lstrip("-").isdigit() else float(raw))
    except ValueError:
        return raw  # parse_entry names the field


async def _form_context(request: web.Request, event_id: int) -> tuple[dict, list[dict]]:
    async with request.app[SESSIONS]() as session:
        event = await get_event(session, event_id)
        views = await _entry_views(session, event_id, request.app[SETTINGS])
    return {"id": event.id, "name": event.name, "status": event.status}, views


async def _render_form(request: web.Request, event: dict, views: list[dict], values: dict, message: str = "",
                       status: int = 200) -> web.Response:
    principal = request[PRINCIPAL]
    codes = {view["unit_code"] for view in views if view["unit_code"]} | {str(values.get("unit_code") or "")}
    async with request.app[SESSIONS]() as session:
        labels = await place_labels(session, codes - {""})
    html = journal_form_page(event, views, request.app[SETTINGS].warnings.departments, principal, values,
                             message, request.app[SETTINGS].registry.timezone, labels)
    return templates.html_response(html, status=status, headers={"Content-Security-Policy": form_page_policy(html)})


@routes.get("/events/{id}/journal")
async def journal_form(request: web.Request) -> web.Response:
    """The form to add an entry (`?corrects=N` starts a correction of entry N)."""
    event_id = path_id(request)
    event, views = await _form_context(request, event_id)
    values: dict = {}
    corrects = request.query.get("corrects", "")
    # Only a standing entry can be corrected (a corrected one: correct its latest correction).
    target = next((v for v in views if str(v["id"]) == corrects and v["standing"]), None)
    if target is not None:
        values = {"corrects_id": str(target["id"]), "department": target["department"] or "",
                  "unit_code": target["unit_code"] or "", "action": target["action"], "text": target["text"],
                  **{name: str(value) for name, value in target["figures"].items()}}
    elif request[PRINCIPAL].department:
        values = {"department": request[PRINCIPAL].department}
    message = "当前账号只有查看权限，不能填写事件日志" if request[PRINCIPAL].role == "viewer" else ""
    return await _render_form(request, event, views, values, message)


@routes.post("/events/{id}/journal")
async def journal_form_post(request: web.Request) -> web.Response:
    """The form posted: the entry is appended and the timeline shown (303), or the form again with the error."""
    event_id = path_id(request)
    settings = request.app[SETTINGS]
    form = await request.post()
    try:
        fields = parse_entry(form_body(form), settings.warnings.departments)
        async with request.app[SESSIONS]() as session, session.begin():
            entry = await add_entry(session, event_id, fields, request[PRINCIPAL], settings,
                                    request.app[CLOCK].now())
    except (BadInput, Forbidden, Conflict) as exc:
        event, views = await _form_context(request, event_id)
        values = {name: str(form.get(name, "")) for name in form}
        return await _render_form(request, event, views, values, exc.detail, exc.status)
    return web.Response(status=303, headers={"Location": f"/events/{event_id}#entry-{entry.id}"})
