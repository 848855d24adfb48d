"""The duty map page, the printable unit contact sheets and the GeoJSON of unit boundaries."""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

from fangxun.api import pages as templates
from fangxun.api.csp import map_policy
from fangxun.api.keys import CLOCK, PRINCIPAL, SESSIONS, SETTINGS
from fangxun.api.params import check_code, int_param, text_param
from fangxun.api.unit_page import unit_page
from fangxun.core.errors import BadInput
from fangxun.geo.coverage_map import MapOptions, PagedLayers, render_paged_map
from fangxun.geo.level_layer import parse_bbox
from fangxun.geo.map_assets import map_assets, map_icon
from fangxun.plans.map_data import MAP_LABELS
from fangxun.plans.map_view import map_view
from fangxun.plans.plan_fields import KIND_LABELS
from fangxun.plans.unit_geojson import DEFAULT_LIMIT, MAX_LIMIT, UnitPage, UnitQuery, units_geojson_page
from fangxun.plans.unit_sheet import unit_sheet
from fangxun.warnings.map_overlay import warning_areas

routes = web.RouteTableDef()
GEOJSON_TYPE = "application/geo+json"


@routes.get("/map")
async def coverage_map(request: web.Request) -> web.Response:
    """The plan-coverage map: its script loads the units of the level fitting the zoom, for the area in view only;
    shelters and the areas under warning are in the page. All loaded from this service."""
    settings = request.app[SETTINGS]
    async with request.app[SESSIONS]() as session:
        overlay = await warning_areas(session, settings.registry.timezone)
        view = await map_view(session)
    options = MapOptions(assets=map_assets(paged=True), as_of=request.app[CLOCK].today().isoformat(),
                         due_soon_days=settings.registry.due_soon_days, tile_url=settings.map.tile_url or None,
                         tile_attribution=settings.map.tile_attribution, labels=MAP_LABELS, icon=map_icon())
    paged = PagedLayers(levels=view.levels, bounds=view.bounds, without_geometry=view.without_geometry,
                        synthetic=view.synthetic)
    html = await asyncio.to_thread(render_paged_map, paged, view.shelters, overlay, options)
    response = templates.html_response(html, headers={"Content-Security-Policy":
                                                      map_policy(html, settings.map.tile_url, connect=True)})
    response.enable_compression()
    return response


@routes.get("/units/{code}")
async def unit_contact_sheet(request: web.Request) -> web.Response:
    """The printable contact sheet of one unit."""
    code = check_code(request.match_info["code"], "code")
    async with request.app[SESSIONS]() as session:
        sheet = await unit_sheet(session, code, request.app[SETTINGS].registry, request.app[CLOCK].today())
    user = request[PRINCIPAL].name.removeprefix("user:")
    return templates.html_response(unit_page(sheet, user, KIND_LABELS))


def _collection(page: UnitPage, links: list[dict]) -> bytes:
    """The page as a FeatureCollection in compact UTF-8 JSON (its features are JSON text already)."""
    head = {"type": "FeatureCollection", "features": [], "numberMatched": page.matched,
            "numberReturned": page.returned, **({"links": links} if links else {})}
    before, after = json.dumps(head, ensure_ascii=False, separators=(",", ":")).split('"features":[]', 1)
    return b"".join((before.encode(), b'"features":[', page.features, b"]", after.encode()))


def _unit_query(request: web.Request) -> UnitQuery:
    bbox_text = text_param(request, "bbox")
    bbox = None
    if bbox_text is not None:
        try:
            bbox = parse_bbox(bbox_text)
        except ValueError as exc:
            raise BadInput(f"bbox：{exc}：{bbox_text[:80]!r}", extra={"field": "bbox"}) from None
    zoom = int_param(request, "zoom", default=-1, low=0, high=22)
    return UnitQuery(level=text_param(request, "level"), root=check_code(text_param(request, "root"), "root"),
                     bbox=bbox, zoom=None if zoom < 0 else zoom,
                     page=int_param(request, "page", default=1, low=1, high=1_000_000),
                     limit=int_param(request, "per_page", default=DEFAULT_LIMIT, low=1, high=MAX_LIMIT))


@routes.get("/api/units.geojson")
async def units_geojson_route(request: web.Request) -> web.Response:
    """Unit boundaries with plan status counts (RFC 7946), a page at a time: for QGIS and the paged map."""
    query = _unit_query(request)
    async with request.app[SESSIONS]() as session:
        page = await units_geojson_page(session, request.app[SETTINGS].registry, request.app[CLOCK].today(), query)
    links = [{"rel": "next", "type": GEOJSON_TYPE, "href": str(request.rel_url.update_query(page=query.page + 1))}
             ] if page.has_next else []
    response = web.Response(body=_collection(page, links), content_type=GEOJSON_TYPE, charset="utf-8")
    response.enable_compression()
    return response
