"""What the paged duty map needs before any unit is drawn: the area to show, which levels it draws from which
zoom, the shelters; the units themselves come later, a viewport at a time, from /api/units.geojson."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.geo.level_layer import TILE_PIXELS
from fangxun.plans.map_layers import band_geometry, level_entry
from fangxun.plans.models import AdminUnit, Shelter
from fangxun.plans.unit_rules import LEVELS

# A level is drawn from the zoom at which its typical unit is this wide on screen.
LEVEL_PIXELS = 40
MAX_LEVEL_ZOOM = 15


@dataclass(frozen=True)
class MapView:
    """The levels drawn, coarse to fine, each with the first zoom it is drawn at; the bounds of the whole area."""

    levels: list[tuple[str, int]]
    bounds: tuple[float, float, float, float] | None
    without_geometry: int
    synthetic: bool
    shelters: list


def _first_zoom(area_deg2: float, count: int) -> int:
    """The zoom at which a unit of average size (a square of area/count) is LEVEL_PIXELS wide."""
    width = math.sqrt(area_deg2 / count)
    return max(0, min(MAX_LEVEL_ZOOM, math.ceil(math.log2(LEVEL_PIXELS * 360 / (width * TILE_PIXELS)))))


async def map_view(session: AsyncSession) -> MapView:
    """The registry's map outline, read from counts and the top level's boundaries only (cheap at any size)."""
    counts = {level: (drawn, total, synthetic) for level, drawn, total, synthetic in (await session.execute(
        select(AdminUnit.level, func.count(AdminUnit.geometry), func.count(),
               func.count(AdminUnit.geometry).filter(AdminUnit.geometry_synthetic.is_(True)))
        .group_by(AdminUnit.level))).all()}
    present = [level for level in LEVELS if counts.get(level, (0, 0, 0))[0]]
    shelters = (await session.execute(
        select(Shelter.lat, Shelter.lon, Shelter.name, Shelter.capacity, AdminUnit.name)
        .join(AdminUnit, AdminUnit.code == Shelter.unit_code)
        .where(Shelter.lat.is_not(None), Shelter.lon.is_not(None)).order_by(Shelter.id))).all()
    shelter_rows = [[round(lat, 5), round(lon, 5), name, int(capacity or 0), unit or ""]
                    for lat, lon, name, capacity, unit in shelters]
    without = sum(total - drawn for drawn, total, _ in counts.values())
    if not present:
        return MapView([], None, without, False, shelter_rows)
    top = await level_entry(session, present[0])
    area = top.layer.area or 1e-9
    # The top unit alone (a province, a city) says nothing by colour: draw from the level below it when there is one.
    drawn = present[1:] or present
    levels = [(level, _first_zoom(area, counts[level][0])) for level in drawn]
    ordered: list[tuple[str, int]] = []
    for level, zoom in levels:
        ordered.append((level, 0 if not ordered else max(zoom, ordered[-1][1] + 1)))
    levels = ordered
    synthetic = any(counts[level][2] for level in drawn)
    return MapView(levels, top.layer.bounds(), without, synthetic, shelter_rows)


async def warm_map_layers(session: AsyncSession) -> None:
    """Build each drawn level's layer and its first zoom band ahead of the first map request (a province's villages
    take seconds, in a worker process; a server starts this in the background)."""
    for level, zoom in (await map_view(session)).levels:
        await band_geometry(await level_entry(session, level), max(zoom, 1))
