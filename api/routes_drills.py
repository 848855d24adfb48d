"""叫应 drills: the API (start, list, one, its report as JSON or XLSX) and the duty room's pages (/drills: the list
and the start form with a unit picker; /drills/{id}: the report)."""

from __future__ import annotations

from aiohttp import web

from fangxun.api import pages
from fangxun.api.csp import form_page_policy
from fangxun.api.jsonio import json_object, reply
from fangxun.api.keys import CLOCK, PRINCIPAL, SESSIONS, SETTINGS
from fangxun.api.manual_entry import handoff_of
from fangxun.api.params import path_id, text_param
from fangxun.api.templating import render, user_name
from fangxun.core.errors import BadInput
from fangxun.plans.unit_search import place_labels
from fangxun.warnings.drills.report import drill_report, get_drill, list_drills
from fangxun.warnings.drills.report_xlsx import report_xlsx
from fangxun.warnings.drills.rules import DEFAULT_DEADLINE_MINUTES, LEVEL_LABELS, LEVELS
from fangxun.warnings.drills.start import DrillStart, drill_json, drill_options, run_drill

routes = web.RouteTableDef()
REFUSAL = "当前账号只有查看权限，不能开始演练（开始演练需要 editor 角色）"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FIELDS = ("scope_code", "levels", "channels", "deadline")


async def _start(request: web.Request, scope, levels, channels, deadline) -> DrillStart:
    settings = request.app[SETTINGS]
    options = drill_options(settings, scope, levels, channels, deadline)
    return await run_drill(request.app[SESSIONS], settings, options, request.app[CLOCK].now(),
                           started_by=request[PRINCIPAL].name, handoff=handoff_of(request))


def _listed(value, field: str):
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise BadInput(f"{field}：应为字符串列表或逗号分隔的字符串", extra={"field": field})


@routes.post("/api/drills")
async def post_drill(request: web.Request) -> web.Response:
    """Start a drill (editors): every 责任人 and desk of the scope told, each message marked 【演练】."""
    body = await json_object(request)
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise BadInput(f"{unknown[0]}：未知字段（可用：{'、'.join(FIELDS)}）", extra={"field": unknown[0]})
    scope = body.get("scope_code")
    if not isinstance(scope, str):
        raise BadInput("scope_code：必填，应为 12 位区划代码", extra={"field": "scope_code"})
    deadline = body.get("deadline")
    if deadline is not None and (isinstance(deadline, bool) or not isinstance(deadline, (str, int))):
        raise BadInput("deadline：应为分钟数或如 30m、1h 的字符串", extra={"field": "deadline"})
    started = await _start(request, scope, _listed(body.get("levels"), "levels"),
                           _listed(body.get("channels"), "channels"), deadline)
    response = reply(started.as_json(), status=201)
    response.headers["Location"] = f"/api/drills/{started.drill.id}"
    return response


@routes.get("/api/drills")
async def get_drills(request: web.Request) -> web.Response:
    """The latest drills, newest first."""
    async with request.app[SESSIONS]() as session:
        return reply({"items": await list_drills(session)})


@routes.get("/api/drills/{id}")
async def get_one_drill(request: web.Request) -> web.Response:
    """One drill as started."""
    async with request.app[SESSIONS]() as session:
        return reply(drill_json(await get_drill(session, path_id(request))))


@routes.get("/api/drills/{id}/report")
async def get_drill_report(request: web.Request) -> web.Response:
    """The drill's report now: per district told, answered, unreachable by reason, median and longest time to
    answer; one row per person (?format=xlsx: the workbook)."""
    form = text_param(request, "format") or "json"
    if form not in ("json", "xlsx"):
        raise BadInput(f"format：应为 json 或 xlsx，而不是 {form[:20]!r}", extra={"field": "format"})
    drill_id = path_id(request)
    async with request.app[SESSIONS]() as session:
        report = await drill_report(session, drill_id, request.app[CLOCK].now())
    if form == "json":
        return reply(report)
    body = report_xlsx(report, request.app[SETTINGS].registry.timezone)
    return web.Response(body=body, content_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="fangxun-drill-{drill_id}.xlsx"', "Cache-Control": "no-store"})


# --- pages ----------------------------------------------------------------------------------------

def drills_page(user: str, drills: list[dict], can_start: bool, channels: list[str], form: dict,
                chosen: list[tuple[str, str]], error: str = "") -> str:
    """The list of drills and (for editors) the start form, with `form`'s values and the error above it."""
    return render("drills.html", title="叫应演练", user=user, drills=drills, can_start=can_start,
                  levels=[(level, LEVEL_LABELS[level]) for level in LEVELS], channels=channels, form=form,
                  chosen=chosen, error=error, default_deadline=DEFAULT_DEADLINE_MINUTES)


async def _drills_page(request: web.Request, form=None, error: str = "", status: int = 200) -> web.Response:
    settings = request.app[SETTINGS]
    person_channels = list(settings.warnings.default_route.person_channels)
    if form is None:
        values = {"levels": list(LEVELS), "channels": person_channels, "deadline": str(DEFAULT_DEADLINE_MINUTES)}
        codes: list[str] = []
    else:
        values = {"levels": form.getall("levels", []), "channels": form.getall("channels", []),
                  "deadline": str(form.get("deadline", ""))[:20]}
        codes = [str(code) for code in form.getall("scope_code", [])][:1]
    async with request.app[SESSIONS]() as session:
        drills = await list_drills(session)
        labels = await place_labels(session, codes)
    html = drills_page(user_name(request[PRINCIPAL].name), drills, request[PRINCIPAL].can_write,
                       list(settings.warnings.channels), values, [(code, labels.get(code, code)) for code in codes],
                       error)
    return pages.html_response(html, status=status, headers={"Content-Security-Policy": form_page_policy(html)})


@routes.get("/drills")
async def drills_route(request: web.Request) -> web.Response:
    """The duty room's drills: the latest, and the form to start one (editors)."""
    return await _drills_page(request)


@routes.post("/drills")
async def drills_post(request: web.Request) -> web.Response:
    """The form: the drill started and its report shown (303); or the form again with the error, nothing started."""
    form = await request.post()
    if not request[PRINCIPAL].can_write:
        return await _drills_page(request, form, REFUSAL, status=403)
    codes = [str(code) for code in form.getall("scope_code", []) if str(code).strip()]
    try:
        if len(codes) != 1:
            raise BadInput("scope：请选择一个演练范围（区划）")
        levels, channels = [str(v) for v in form.getall("levels", [])], [str(v) for v in form.getall("channels", [])]
        if not levels:
            raise BadInput("levels：请至少选择一个层级")
        if not channels:
            raise BadInput("channels：请至少选择一个通知渠道")
        started = await _start(request, codes[0], levels, channels, str(form.get("deadline", "")))
    except BadInput as exc:
        return await _drills_page(request, form, exc.detail, status=exc.status)
    return web.Response(status=303, headers={"Location": f"/drills/{started.drill.id}"})


@routes.get("/drills/{id}")
async def drill_report_page(request: web.Request) -> web.Response:
    """One drill's report: per district, then everyone who was not reached or has not answered."""
    async with request.app[SESSIONS]() as session:
        report = await drill_report(session, path_id(request), request.app[CLOCK].now())
    html = render("drill_report.html", title=f"演练报告 {report['drill']['id']}", user=user_name(request[PRINCIPAL].name),
                  report=report, zone=request.app[SETTINGS].registry.timezone)
    return pages.html_response(html, headers={"Content-Security-Policy": form_page_policy(html)})
