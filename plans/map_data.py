"""The duty map's data: units with status and popup lists, shelters; handed as plain frames to the renderer."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import date

import geopandas as gpd
import shapely
from sqlalchemy import ColumnElement, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.geo.config import MapSettings
from fangxun.geo.coverage_map import MapOptions, render_coverage_map
from fangxun.geo.map_assets import map_assets, map_icon
from fangxun.plans.config import RegistrySettings
from fangxun.plans.models import AdminUnit, Contact, Plan, Shelter
from fangxun.plans.plan_fields import KIND_LABELS, ROLE_LABELS, STATUS_LABELS, format_phone
from fangxun.plans.review_clock import plan_status
from fangxun.plans.unit_queries import get_unit, in_subtree
from fangxun.plans.unit_status import UNIT_STATUS_LABELS, unit_status

ROLE_ORDER = {"responsible": 0, "deputy": 1, "liaison": 2, "duty_desk": 3}
UNIT_COLUMNS = ("code", "name", "level", "parent_name", "status", "synthetic", "plans", "persons", "shelters")
MAP_LABELS = {"unit_status": UNIT_STATUS_LABELS, "plan_status": STATUS_LABELS, "kind": KIND_LABELS,
              "role": ROLE_LABELS}


async def _plans_by_unit(session: AsyncSession, registry: RegistrySettings, today: date,
                         units: ColumnElement[bool]) -> dict[str, list[list]]:
    rows = await session.execute(
        select(Plan.unit_code, Plan.kind, Plan.lifecycle, Plan.next_review_due)
        .join(AdminUnit, AdminUnit.code == Plan.unit_code).where(units).order_by(Plan.unit_code, Plan.kind))
    days = registry.due_soon_days
    plans: dict[str, list[list]] = defaultdict(list)
    for code, kind, lifecycle, due in rows:
        plans[code].append([kind, plan_status(lifecycle, due, today, days), due.isoformat() if due else None])
    return plans


async def _persons_by_unit(session: AsyncSession, units: ColumnElement[bool]) -> dict[str, list[list]]:
    rows = (await session.execute(
        select(Contact.unit_code, Contact.name, Contact.role, Contact.phone)
        .join(AdminUnit, AdminUnit.code == Contact.unit_code).where(units)
        .order_by(Contact.unit_code, Contact.id))).all()
    persons: dict[str, list[list]] = defaultdict(list)
    seen: set[tuple] = set()
    # The same person is often named in both plans of a unit; list them once.
    for code, name, role, phone in sorted(rows, key=lambda r: (r.unit_code, ROLE_ORDER.get(r.role, 9))):
        if (code, name, phone) not in seen:
            seen.add((code, name, phone))
            persons[code].append([name, role, format_phone(phone)])
    return persons


async def _shelters(session: AsyncSession, units: ColumnElement[bool]) -> list:
    return (await session.execute(
        select(Shelter.unit_code, Shelter.name, Shelter.capacity, Shelter.lon, Shelter.lat)
        .join(AdminUnit, AdminUnit.code == Shelter.unit_code).where(units)
        .order_by(Shelter.unit_code, Shelter.id))).all()


async def map_frames(session: AsyncSession, registry: RegistrySettings, today: date,
                     root: str | None = None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """(units, shelters) as render_coverage_map takes them: everywhere, or `root` and the units below it."""
    condition = in_subtree(await get_unit(session, root)) if root else true()
    units = (await session.execute(
        select(AdminUnit.code, AdminUnit.name, AdminUnit.level, AdminUnit.parent_code, AdminUnit.geometry,
               AdminUnit.geometry_synthetic).where(condition).order_by(AdminUnit.code))).all()
    plans = await _plans_by_unit(session, registry, today, condition)
    persons = await _persons_by_unit(session, condition)
    shelters = await _shelters(session, condition)
    names = {unit.code: unit.name for unit in units}
    shelters_by_unit: dict[str, list[list]] = defaultdict(list)
    for shelter in shelters:
        shelters_by_unit[shelter.unit_code].append([shelter.name, shelter.capacity])

    rows = []
    for code, name, level, parent_code, _, synthetic in units:
        unit_plans = plans.get(code, [])
        status = unit_status(registry.required_kinds_for(level), {kind: s for kind, s, _ in unit_plans})
        rows.append({"code": code, "name": name, "level": level, "parent_name": names.get(parent_code, ""),
                     "status": status, "synthetic": bool(synthetic), "plans": unit_plans,
                     "persons": persons.get(code, []), "shelters": shelters_by_unit.get(code, [])})
    geometry = shapely.from_wkb([unit.geometry for unit in units]) if units else []
    unit_frame = gpd.GeoDataFrame(rows, columns=list(UNIT_COLUMNS), geometry=geometry, crs="EPSG:4326")
    placed = [s for s in shelters if s.lon is not None and s.lat is not None]
    shelter_frame = gpd.GeoDataFrame(
        {"name": [s.name for s in placed], "capacity": [s.capacity for s in placed],
         "unit_name": [names.get(s.unit_code, "") for s in placed]},
        geometry=gpd.points_from_xy([s.lon for s in placed], [s.lat for s in placed]), crs="EPSG:4326")
    return unit_frame, shelter_frame


def _render(units: gpd.GeoDataFrame, shelters: gpd.GeoDataFrame, warnings: gpd.GeoDataFrame | None, options: dict,
            inline_assets: bool) -> str:
    return render_coverage_map(units, shelters, warnings, MapOptions(assets=map_assets(inline_assets), **options))


async def coverage_map_html(session: AsyncSession, registry: RegistrySettings, today: date, inline_assets: bool = False,
                            basemap: MapSettings = MapSettings(), warnings: gpd.GeoDataFrame | None = None,
                            root: str | None = None) -> str:
    """The coverage map page; `inline_assets` makes one file that opens without the server.

    `basemap`: the [map] tiles (an empty tile_url means no basemap). `warnings`: the areas under warning
    to draw over the units (colour, event, headline, expires, geometry), built by the caller
    (fangxun.warnings.map_overlay) so the registry does not depend on the warning store.
    `root`: only that unit's subtree (a city's or a district's own file).
    """
    units, shelters = await map_frames(session, registry, today, root)
    options = {
        "as_of": today.isoformat(), "due_soon_days": registry.due_soon_days,
        "tile_url": basemap.tile_url or None, "tile_attribution": basemap.tile_attribution, "labels": MAP_LABELS,
        # An exported file has no server behind it: no links to pages it cannot open.
        "unit_link": None if inline_assets else "/units/{code}", "home_link": None if inline_assets else "/",
        "icon": map_icon(inline_assets),
    }
    # Simplifying and serialising thousands of polygons is CPU work: keep it off the event loop.
    return await asyncio.to_thread(_render, units, shelters, warnings, options, inline_assets)
