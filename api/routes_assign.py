"""区域无法定位: an editor assigns units by hand to a warning whose areas could not be placed (API and page)."""

from __future__ import annotations

import re

from aiohttp import web

from fangxun.api import pages
from fangxun.api.csp import form_page_policy
from fangxun.api.jsonio import json_object, reply
from fangxun.api.keys import CLOCK, PRINCIPAL, SESSIONS, SETTINGS, WARNING_SERVICE
from fangxun.api.params import path_id
from fangxun.api.templating import render, user_name
from fangxun.core.errors import BadInput, Conflict, Forbidden
from fangxun.plans.unit_search import place_labels
from fangxun.warnings.intake.assign import Assignment, assign_units, parse_unit_codes
from fangxun.warnings.queries import get_warning
from fangxun.warnings.routing.jurisdiction import UNLOCATED

routes = web.RouteTableDef()
_SEPARATORS = re.compile(r"[\s,，、;；]+")


async def _assign(request: web.Request, warning_id: int, codes: list[str]) -> Assignment:
    """assign_units in its own transaction; rows due now go to this process's dispatcher after commit."""
    service = request.app.get(WARNING_SERVICE)
    handoff = service.dispatcher if service is not None else None
    async with request.app[SESSIONS]() as session, session.begin():
        result = await assign_units(session, warning_id, codes, request.app[SETTINGS], request.app[CLOCK].now(),
                                    request[PRINCIPAL].name, handoff)
    if handoff is not None and result.handed:
        handoff.take(result.handed)
    return result


@routes.post("/api/warnings/{id}/units")
async def warning_units_assign(request: web.Request) -> web.Response:
    """Assign units (`{"unit_codes": [...]}`) to a warning in force whose areas could not be placed; it then
    fans out as usual. 409 when it is placed already or no longer in force."""
    warning_id = path_id(request)
    body = await json_object(request)
    unknown = sorted(set(body) - {"unit_codes"})
    if unknown:
        raise BadInput(f"{unknown[0]}：未知字段（只接受 unit_codes）", extra={"field": unknown[0]})
    return reply((await _assign(request, warning_id, parse_unit_codes(body.get("unit_codes")))).as_json())


def assign_page(warning, user: str, zone: str, chosen: list[tuple[str, str]], codes: str = "", message: str = "",
                reason: str = "") -> str:
    """The form of a warning that could not be placed: its areas as received, the units picked as (code, place
    label), what was typed, the error of the last attempt; `reason` says why nothing can be assigned."""
    areas = [area.get("description", "") for area in warning.areas or [] if area.get("description")]
    return render("assign.html", title="人工指定影响区划", user=user, zone=zone, warning=warning, areas=areas,
                  chosen=chosen, codes=codes, message=message, assignable=not reason, reason=reason)


async def _page(request: web.Request, warning_id: int, message: str = "", chosen: tuple[str, ...] = (),
                codes: str = "", status: int = 200) -> web.Response:
    async with request.app[SESSIONS]() as session:
        warning = await get_warning(session, warning_id)
        labels = await place_labels(session, chosen)
    principal = request[PRINCIPAL]
    reason = ("当前账号只有查看权限，不能指定区划" if not principal.can_write
              else "该预警的区域已能定位，无需人工指定" if warning.jurisdiction != UNLOCATED
              else "该预警已不再生效" if warning.status != "active" else "")
    html = assign_page(warning, user_name(principal.name), request.app[SETTINGS].registry.timezone,
                       [(code, labels.get(code, code)) for code in chosen], codes, message, reason)
    return pages.html_response(html, status=status, headers={"Content-Security-Policy": form_page_policy(html)})


@routes.get("/warnings/{id}/assign")
async def assign_form(request: web.Request) -> web.Response:
    """The form: the warning, its unplaceable areas, and the unit picker (by name with district, or the tree)."""
    return await _page(request, path_id(request))


@routes.post("/warnings/{id}/assign")
async def assign_form_post(request: web.Request) -> web.Response:
    """The form posted: units assigned and the board shown (303), or the form again with the error."""
    warning_id = path_id(request)
    if not request[PRINCIPAL].can_write:
        raise Forbidden("当前账号只有查看权限，不能指定区划")
    form = await request.post()
    chosen = tuple(str(value) for value in form.getall("unit_codes", []))[:1000]
    typed = str(form.get("codes", "")).strip()
    try:
        codes = parse_unit_codes([*chosen, *(part for part in _SEPARATORS.split(typed) if part)])
        await _assign(request, warning_id, codes)
    except (BadInput, Conflict) as exc:
        return await _page(request, warning_id, exc.detail, chosen, typed[:2000], exc.status)
    return web.Response(status=303, headers={"Location": f"/board#warning-{warning_id}"})
