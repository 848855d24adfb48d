"""Demo boundaries: the real city and district polygons, synthetic ones for everything below."""

from __future__ import annotations

from importlib import resources

import numpy as np
import shapely
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.geo.boundary_file import read_boundaries
from fangxun.geo.synthetic import partition, zone
from fangxun.plans.models import AdminUnit

# The urban core (二七广场): street cells crowd towards it.
URBAN_FOCUS = (113.665, 34.757)
# The development zones have no published boundary: approximate centres and areas (km²).
ZONES = {
    "410171000000": ((113.745, 34.715), 130.0),   # 郑州经济技术开发区
    "410172000000": ((113.545, 34.815), 99.0),    # 郑州高新技术产业开发区
    "410173000000": ((113.840, 34.530), 415.0),   # 郑州航空港经济综合实验区
}
URBAN_SUFFIXES = ("街道", "社区", "居委会", "居民委员会")


def real_boundaries() -> dict[str, shapely.Geometry]:
    """The packaged real boundaries of the city and its 12 districts, by 12-digit code."""
    folder = resources.files("fangxun.demo.data").joinpath("boundaries")
    shapes = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".geojson"):
            with resources.as_file(entry) as path:
                shapes[entry.name.removesuffix(".geojson")] = read_boundaries(path).frame.geometry.iloc[0]
    return shapes


def _kind(name: str) -> str:
    return "urban" if name.endswith(URBAN_SUFFIXES) else "rural"


def demo_geometry(units: list[tuple[str, str, str, str | None]]) -> dict[str, tuple[shapely.Geometry, bool]]:
    """(geometry, synthetic) per unit code for (code, name, level, parent_code) rows."""
    shapes = {code: (geometry, False) for code, geometry in real_boundaries().items()}
    city = next(code for code, _, level, _ in units if level == "city")
    for code, (centre, area) in ZONES.items():
        shapes[code] = (zone(centre, area, seed=int(code[:6]), clip_to=shapes[city][0]), True)
    children: dict[str, list[tuple[str, str]]] = {}
    for code, name, level, parent in units:
        if level in ("township", "village"):
            children.setdefault(parent, []).append((code, _kind(name)))
    for level in ("district", "township"):
        for parent, _, parent_level, _ in units:
            if parent_level != level or parent not in children or parent not in shapes:
                continue
            cells = partition(shapes[parent][0], children[parent], seed=int(parent[:9]), focus=URBAN_FOCUS)
            shapes.update({code: (cell, True) for code, cell in cells.items()})
    return shapes


def place_inside(shelters: list[dict], shapes: dict[str, tuple[shapely.Geometry, bool]]) -> list[dict]:
    """Shelters moved to a deterministic point inside their own unit's polygon."""
    rng = np.random.default_rng(20230701)
    placed = []
    for shelter in shelters:
        polygon = shapes[shelter["unit_code"]][0]
        xmin, ymin, xmax, ymax = polygon.bounds
        for _ in range(200):
            lon, lat = rng.uniform(xmin, xmax), rng.uniform(ymin, ymax)
            if shapely.contains_xy(polygon, lon, lat):
                break
        else:
            point = polygon.representative_point()
            lon, lat = point.x, point.y
        placed.append({**shelter, "lon": round(float(lon), 6), "lat": round(float(lat), 6)})
    return placed


async def load_demo_geometry(session: AsyncSession) -> dict[str, tuple[shapely.Geometry, bool]]:
    """Give every demo unit its polygon; returns (geometry, synthetic) by unit code."""
    units = (await session.execute(
        select(AdminUnit.code, AdminUnit.name, AdminUnit.level, AdminUnit.parent_code).order_by(AdminUnit.code))).all()
    shapes = demo_geometry([tuple(u) for u in units])
    known = {u.code for u in units}
    rows = [{"code": code, "geometry": shapely.to_wkb(geometry, output_dimension=2), "geometry_synthetic": synthetic}
            for code, (geometry, synthetic) in shapes.items() if code in known]
    await session.execute(update(AdminUnit), rows)
    return shapes
