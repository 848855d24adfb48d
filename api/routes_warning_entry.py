"""The warning entry page (/warnings/new, editors): areas by picking units or drawing on the map, a preview of who
will be told (the API's dry run), then the warning posted and its board shown."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from aiohttp import web

from fangxun.api import pages
from fangxun.api.csp import form_page_policy
from fangxun.api.jsonio import reply
from fangxun.api.keys import CLOCK, PRINCIPAL, SESSIONS, SETTINGS
from fangxun.api.manual_entry import accept_manual, dry_run, manual_warning
from fangxun.api.templating import render, user_name
from fangxun.core.errors import BadInput, Forbidden
from fangxun.geo.map_assets import LEAFLET_URL
from fangxun.plans.unit_search import place_labels
from fangxun.warnings.intake.manual_form import EVENTS
from fangxun.warnings.vocabulary import COLOUR_LABELS, COLOURS

routes = web.RouteTableDef()
REFUSAL = "当前账号只有查看权限，不能录入预警（录入预警需要 editor 角色）"
STATUSES = (("Actual", "正式预警"), ("Exercise", "演练"), ("Test", "测试"))
# Posted as typed; the API's form takes them under the same names.
TEXT_FIELDS = ("event", "colour", "status", "onset", "expires", "headline", "description", "instruction")
# Where the page shows an error, by the field the API names (longest first: a field goes to the first slot it is
# in); entry.js keeps the same list.
SLOTS = ("areas.unit_codes", "areas.polygon", "areas.description", "areas", *TEXT_FIELDS)


def error_slot(field: str) -> str:
    """The form slot an error of `field` is shown beside ("areas.unit_codes[1]" -> "areas.unit_codes"); "" for none."""
    return next((slot for slot in SLOTS if field == slot or field.startswith((slot + ".", slot + "["))), "")


def entry_body(form) -> dict:
    """The page's form as the API's hand-entry JSON: blanks left out, the picked units and the drawn polygon as
    its areas."""
    body = {name: str(form.get(name, "")).strip() for name in TEXT_FIELDS}
    body = {name: value for name, value in body.items() if value}
    areas: dict = {}
    codes = [str(code).strip() for code in form.getall("unit_codes", []) if str(code).strip()]
    if codes:
        areas["unit_codes"] = codes
    drawn = str(form.get("polygon", "")).strip()
    if drawn:
        try:
            areas["polygon"] = json.loads(drawn)
        except (ValueError, RecursionError):
            raise BadInput("字段 areas.polygon：所画区域无法读取，请清除后重画", extra={"field": "areas.polygon"}) from None
    description = str(form.get("area_description", "")).strip()
    if description:
        areas["description"] = description
    body["areas"] = areas
    return body


def _refuse_viewers(request: web.Request) -> None:
    if not request[PRINCIPAL].can_write:
        raise Forbidden(REFUSAL)


def entry_page(user: str, form: dict, chosen: list[tuple[str, str]], error_field: str | None = None,
               error: str = "", tile_url: str = "", tile_attribution: str = "") -> str:
    """The form with `form`'s values, the units picked as (code, place label), and the error beside its field's slot
    (or above the form when no slot holds `error_field`)."""
    values = {name: form.get(name, "") for name in (*TEXT_FIELDS, "polygon", "area_description")}
    return render("warning_new.html", title="录入预警", user=user, form=values, events=EVENTS,
                  colours=[(colour, COLOUR_LABELS[colour]) for colour in reversed(COLOURS)], statuses=STATUSES,
                  chosen=chosen, error_slot=error_slot(error_field) if error_field is not None else "", error=error,
                  tile_url=tile_url, tile_attribution=tile_attribution, leaflet_url=LEAFLET_URL)


async def _page(request: web.Request, form=None, error: BadInput | None = None, status: int = 200) -> web.Response:
    settings = request.app[SETTINGS]
    if form is None:
        now = request.app[CLOCK].now().astimezone(ZoneInfo(settings.registry.timezone))
        values = {"event": EVENTS[0], "status": "Actual", "onset": f"{now:%Y-%m-%dT%H:%M}"}
        codes: list[str] = []
    else:
        values = {name: str(form.get(name, "")) for name in (*TEXT_FIELDS, "polygon", "area_description")}
        codes = [str(code) for code in form.getall("unit_codes", [])][:1000]
    async with request.app[SESSIONS]() as session:
        labels = await place_labels(session, codes)
    html = entry_page(user_name(request[PRINCIPAL].name), values, [(code, labels.get(code, code)) for code in codes],
                      str(error.extra.get("field", "")) if error is not None else None,
                      error.detail if error is not None else "", settings.map.tile_url, settings.map.tile_attribution)
    return pages.html_response(html, status=status,
                               headers={"Content-Security-Policy": form_page_policy(html, settings.map.tile_url)})


@routes.get("/warnings/new")
async def entry_form(request: web.Request) -> web.Response:
    """The empty form (editors; a viewer is told why not)."""
    _refuse_viewers(request)
    return await _page(request)


@routes.post("/warnings/new/preview")
async def entry_preview(request: web.Request) -> web.Response:
    """The form checked by the API's rules and its dry run (JSON), nothing written: `valid` with the units and who
    would be told, per level and department; or not `valid`, with the error naming the field. A check that finds a
    problem has still done its job (200), so the page's console stays clean."""
    if not request[PRINCIPAL].can_write:
        return reply({"error": Forbidden.code, "detail": REFUSAL}, status=Forbidden.status)
    try:
        warning = await manual_warning(request, entry_body(await request.post()))
    except BadInput as exc:
        return reply({"valid": False, **exc.extra, "error": exc.code, "detail": exc.detail})
    return reply({"valid": True, **await dry_run(request, warning)})


@routes.post("/warnings/new")
async def entry_post(request: web.Request) -> web.Response:
    """The form confirmed: the warning stored and fanned out as the API does, then its board (303); or the form
    again with the error beside its field, nothing stored."""
    _refuse_viewers(request)
    form = await request.post()
    try:
        body = entry_body(form)
        warning = await manual_warning(request, body)
    except BadInput as exc:
        return await _page(request, form, exc, status=exc.status)
    result = await accept_manual(request, body, warning)
    return web.Response(status=303, headers={"Location": f"/board?warning={result.warning.id}"})
