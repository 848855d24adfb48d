"""The duty map's warning overlay: one shape per active warning, coloured by its colour."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from zoneinfo import ZoneInfo

import geopandas as gpd
import shapely
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.geo.spatial_index import circle
from fangxun.plans.models import AdminUnit
from fangxun.warnings.tables import Warning, WarningUnit
from fangxun.warnings.vocabulary import RESPONSE_SOURCE

OVERLAY_COLUMNS = ("colour", "event", "headline", "expires")


def drawn_shape(areas: list[dict]):
    """The union of the polygons and circles of stored areas (rings are [lon, lat]), or None."""
    shapes = [shapely.Polygon(ring) for area in areas for ring in area.get("polygons", []) if len(ring) >= 3]
    shapes += [circle(c["lon"], c["lat"], c["radius_km"]) for area in areas for c in area.get("circles", [])
               if c.get("radius_km", 0) > 0]
    if not shapes:
        return None
    return shapely.union_all(shapely.make_valid(shapely.GeometryCollection(shapes)))


async def _named_unit_shapes(session: AsyncSession, warning_id: int) -> list[bytes]:
    """Boundaries of the warned units nearest the top of the tree that have one (a named district, not
    its thousand villages; its townships when the district itself has no boundary)."""
    rows = (await session.execute(
        select(WarningUnit.unit_code, AdminUnit.parent_code, AdminUnit.geometry.is_not(None))
        .join(AdminUnit, AdminUnit.code == WarningUnit.unit_code)
        .where(WarningUnit.warning_id == warning_id))).all()
    codes = {code for code, _, _ in rows}
    has_shape = {code: bool(drawn) for code, _, drawn in rows}
    children: dict[str, list[str]] = defaultdict(list)
    for code, parent, _ in rows:
        children[parent].append(code)
    frontier = [code for code, parent, _ in rows if parent not in codes]
    chosen = []
    while frontier:
        code = frontier.pop()
        if has_shape[code]:
            chosen.append(code)
        else:
            frontier += children.get(code, [])
    shapes = []
    for start in range(0, len(chosen), 1000):
        shapes += (await session.execute(select(AdminUnit.geometry).where(
            AdminUnit.code.in_(sorted(chosen)[start:start + 1000])))).scalars().all()
    return shapes


def _frame(rows: list[dict]) -> gpd.GeoDataFrame:
    geometry = []
    for row in rows:
        shape = drawn_shape(row.pop("areas"))
        wkb = row.pop("units")
        if shape is None and wkb:
            shape = shapely.union_all(shapely.make_valid(shapely.from_wkb(wkb)))
        geometry.append(shape)
    frame = gpd.GeoDataFrame(rows, columns=list(OVERLAY_COLUMNS), geometry=geometry, crs="EPSG:4326")
    return frame[frame.geometry.notna() & ~frame.geometry.is_empty]


async def warning_areas(session: AsyncSession, zone: str = "Asia/Shanghai") -> gpd.GeoDataFrame:
    """Active warnings (no exercise: the map shows what is real) as the renderer's `warnings` frame: colour, event, headline, expires, geometry.

    A warning with polygons or circles is drawn as those; one named only by geocodes as the union of
    its units' boundaries.
    """
    active = (await session.execute(select(Warning).where(Warning.status == "active", Warning.msg_type != "Cancel",
                                                            Warning.source != RESPONSE_SOURCE,
                                                            Warning.cap_status != "Exercise")
                                      .order_by(Warning.sent, Warning.id))).scalars().all()
    rows = []
    for warning in active:
        drawn = any(area.get("polygons") or area.get("circles") for area in warning.areas or [])
        expires = warning.expires.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M") if warning.expires else ""
        rows.append({"colour": warning.colour or "", "event": warning.event, "headline": warning.headline,
                     "expires": expires, "areas": list(warning.areas or []),
                     "units": [] if drawn else await _named_unit_shapes(session, warning.id)})
    # Unions of many boundaries are CPU work: keep them off the event loop.
    return await asyncio.to_thread(_frame, rows)
