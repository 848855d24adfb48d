"""Shelters (避险安置点): one unit's list, one shelter added, edited or deleted, and a shelter list imported; each change
audited."""

from __future__ import annotations

from aiohttp import web

from fangxun.api.jsonio import json_object, parse_body, reply
from fangxun.api.keys import PRINCIPAL, SESSIONS
from fangxun.api.params import check_code, path_id
from fangxun.api.routes_warnings import bool_param
from fangxun.api.uploads import uploaded_rows
from fangxun.core.errors import BadInput
from fangxun.plans.shelter_import import REQUIRED, SHELTER_ALIASES, import_shelter_rows
from fangxun.plans.shelter_writes import (ShelterFields, create_shelter, delete_shelter, get_shelter, unit_shelters,
                                          update_shelter)
from fangxun.plans.views import shelter_view

routes = web.RouteTableDef()


@routes.get("/api/units/{code}/shelters")
async def shelters_of_unit(request: web.Request) -> web.Response:
    """The shelters of one unit."""
    code = check_code(request.match_info["code"], "code")
    async with request.app[SESSIONS]() as session:
        return reply({"unit_code": code, "items": [shelter_view(s) for s in await unit_shelters(session, code)]})


@routes.get("/api/shelters/{id}")
async def shelter(request: web.Request) -> web.Response:
    """One shelter."""
    async with request.app[SESSIONS]() as session:
        return reply(shelter_view(await get_shelter(session, path_id(request))))


@routes.post("/api/shelters")
async def create(request: web.Request) -> web.Response:
    """Add a shelter to a unit (and one of its plans), placed in or near the unit."""
    fields = parse_body(ShelterFields, await json_object(request))
    async with request.app[SESSIONS]() as session, session.begin():
        created = await create_shelter(session, fields, request[PRINCIPAL].name)
        return reply(shelter_view(created), status=201)


@routes.patch("/api/shelters/{id}")
async def update(request: web.Request) -> web.Response:
    """Change some fields of a shelter (name, capacity, address, lon, lat)."""
    shelter_id = path_id(request)
    changes = await json_object(request)
    if not changes:
        raise BadInput("请求体中没有要修改的字段")
    async with request.app[SESSIONS]() as session, session.begin():
        return reply(shelter_view(await update_shelter(session, shelter_id, changes, request[PRINCIPAL].name)))


@routes.delete("/api/shelters/{id}")
async def delete(request: web.Request) -> web.Response:
    """Delete a shelter (its last state stays in the audit)."""
    shelter_id = path_id(request)
    async with request.app[SESSIONS]() as session, session.begin():
        before = await delete_shelter(session, shelter_id, request[PRINCIPAL].name)
    return reply({"deleted": True, "id": shelter_id, "before": before})


@routes.post("/api/shelters/import")
async def import_list(request: web.Request) -> web.Response:
    """Import a shelter list: each unit it names gets exactly its shelters; all rows or none; dry_run=1 only says
    what would change."""
    dry_run = bool_param(request, "dry_run")
    rows, name = await uploaded_rows(request, SHELTER_ALIASES, REQUIRED)
    async with request.app[SESSIONS]() as session, session.begin():
        result = await import_shelter_rows(session, rows, request[PRINCIPAL].name, name, dry_run=dry_run)
    return reply(result.as_dict())
