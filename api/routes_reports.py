"""The annual statistics report: GET /api/reports/annual?year=&format=json|csv|xlsx|html."""

from __future__ import annotations

from aiohttp import web

from fangxun.api import pages as templates
from fangxun.api.keys import CLOCK, SESSIONS, SETTINGS
from fangxun.api.params import text_param
from fangxun.core.errors import BadInput
from fangxun.report.export import check_format, render
from fangxun.report.figures import build_annual_report, check_year

routes = web.RouteTableDef()
# Shown in the browser; the others are saved as files.
INLINE = ("json", "html")


def year_param(request: web.Request) -> int:
    """The required `year` (2000..2100)."""
    raw = text_param(request, "year")
    if raw is None:
        raise BadInput("year：必须给出年份，如 year=2025", extra={"field": "year"})
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 4):
        raise BadInput(f"year：应为四位年份：{raw!r}", extra={"field": "year"})
    return check_year(int(raw))


@routes.get("/api/reports/annual")
async def annual_report(request: web.Request) -> web.Response:
    """Any signed-in role: the figures of one calendar year in the chosen format (json by default)."""
    year = year_param(request)
    name = check_format(text_param(request, "format"))
    async with request.app[SESSIONS]() as session:
        report = await build_annual_report(session, request.app[SETTINGS], year, request.app[CLOCK].now())
    rendered = render(report, name)
    disposition = f'{"inline" if name in INLINE else "attachment"}; filename="{rendered.filename}"'
    headers = {"Content-Disposition": disposition, "Cache-Control": "no-store"}
    if name == "html":
        # The page's own CSP: inline styles only, nothing loaded, no scripts.
        headers = {**templates.PAGE_HEADERS, **headers}
    return web.Response(body=rendered.body, headers={**headers, "Content-Type": rendered.media_type})
