"""Contacts (责任人): one unit's list, one contact added, edited or deleted, and a 责任人 list imported; each change
audited."""

from __future__ import annotations

from aiohttp import web

from fangxun.api.jsonio import json_object, parse_body, reply
from fangxun.api.keys import PRINCIPAL, SESSIONS
from fangxun.api.params import check_code, path_id
from fangxun.api.routes_warnings import bool_param
from fangxun.api.uploads import uploaded_rows
from fangxun.core.errors import BadInput
from fangxun.plans.contact_import import CONTACT_ALIASES, REQUIRED, import_contact_rows
from fangxun.plans.contact_writes import (ContactCreate, create_contact, delete_contact, get_contact, unit_contacts,
                                          update_contact)
from fangxun.plans.views import contact_view

routes = web.RouteTableDef()


@routes.get("/api/units/{code}/contacts")
async def contacts_of_unit(request: web.Request) -> web.Response:
    """The contacts of one unit: its plans' persons and those of no plan."""
    code = check_code(request.match_info["code"], "code")
    async with request.app[SESSIONS]() as session:
        return reply({"unit_code": code, "items": [contact_view(c) for c in await unit_contacts(session, code)]})


@routes.get("/api/contacts/{id}")
async def contact(request: web.Request) -> web.Response:
    """One contact."""
    async with request.app[SESSIONS]() as session:
        return reply(contact_view(await get_contact(session, path_id(request))))


@routes.post("/api/contacts")
async def create(request: web.Request) -> web.Response:
    """Add a contact to a unit (and one of its plans)."""
    fields = parse_body(ContactCreate, await json_object(request))
    async with request.app[SESSIONS]() as session, session.begin():
        created = await create_contact(session, fields, request[PRINCIPAL].name)
        return reply(contact_view(created), status=201)


@routes.patch("/api/contacts/{id}")
async def update(request: web.Request) -> web.Response:
    """Change some fields of a contact (role, name, position, phone, landline, channels)."""
    contact_id = path_id(request)
    changes = await json_object(request)
    if not changes:
        raise BadInput("请求体中没有要修改的字段")
    async with request.app[SESSIONS]() as session, session.begin():
        return reply(contact_view(await update_contact(session, contact_id, changes, request[PRINCIPAL].name)))


@routes.delete("/api/contacts/{id}")
async def delete(request: web.Request) -> web.Response:
    """Delete a contact (its last state stays in the audit)."""
    contact_id = path_id(request)
    async with request.app[SESSIONS]() as session, session.begin():
        before = await delete_contact(session, contact_id, request[PRINCIPAL].name)
    return reply({"deleted": True, "id": contact_id, "before": before})


@routes.post("/api/contacts/import")
async def import_list(request: web.Request) -> web.Response:
    """Import a 责任人 list: each unit it names gets exactly its persons; all rows or none; dry_run=1 only says what
    would change."""
    dry_run = bool_param(request, "dry_run")
    rows, name = await uploaded_rows(request, CONTACT_ALIASES, REQUIRED)
    async with request.app[SESSIONS]() as session, session.begin():
        result = await import_contact_rows(session, rows, request[PRINCIPAL].name, name, dry_run=dry_run)
    return reply(result.as_dict())
