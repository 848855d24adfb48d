"""Unit boundaries with their plan status as an RFC 7946 FeatureCollection, for GIS users and the paged map:
a page of units at a time, optionally of one level within a bounding box, simplified for a zoom."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import geopandas as gpd
import shapely
from sqlalchemy import and_, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core.errors import BadInput
from fangxun.geo.geojson import feature_collection
from fangxun.plans.config import RegistrySettings
from fangxun.plans.map_layers import level_entry
from fangxun.plans.models import AdminUnit, Plan
from fangxun.plans.review_clock import STATUSES, plan_status
from fangxun.plans.unit_queries import get_unit, in_subtree
from fangxun.plans.unit_rules import LEVELS
from fangxun.plans.unit_states import plan_statuses
from fangxun.plans.unit_status import missing_kinds, status_counts, unit_status

PROPERTIES = ("code", "name", "level", "parent_code", "synthetic", "status", *STATUSES,
              "missing", "missing_kinds")
# With a bbox: where the map puts the unit's name.
LABEL_PROPERTIES = ("label_lon", "label_lat")
DEFAULT_LIMIT = 1000
MAX_LIMIT = 3000
DECIMALS = 5
STREAM_ROWS = 500


@dataclass(frozen=True)
class UnitQuery:
    """Which units: `level`, under `root`, within `bbox` (west, south, east, north), simplified for `zoom`."""

    level: str | None = None
    root: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    zoom: int | None = None
    page: int = 1
    limit: int = DEFAULT_LIMIT


@dataclass(frozen=True)
class UnitPage:
    """One page of the FeatureCollection and how many units matched in all."""

    collection: dict
    matched: int
    has_next: bool


def _check(query: UnitQuery) -> None:
    if query.level is not None and query.level not in LEVELS:
        raise BadInput(f"level 取值无效：{query.level}（可选 {', '.join(LEVELS)}）", extra={"field": "level"})
    if query.bbox is not None and query.level is None:
        raise BadInput("level：按 bbox 查询时必须指定级别", extra={"field": "level"})
    if query.zoom is not None and query.bbox is None:
        raise BadInput("zoom：只能与 bbox 一起使用", extra={"field": "zoom"})


def _rows(codes, facts_of, statuses, registry: RegistrySettings) -> list[dict]:
    rows = []
    for code in codes:
        name, unit_level, parent_code, synthetic = facts_of(code)
        by_kind = statuses.get(code, {})
        required = registry.required_kinds_for(unit_level)
        missing = missing_kinds(required, by_kind)
        rows.append({"code": code, "name": name, "level": unit_level, "parent_code": parent_code,
                     "synthetic": bool(synthetic), "status": unit_status(required, by_kind),
                     **status_counts(by_kind), "missing": len(missing), "missing_kinds": ",".join(missing)})
    return rows


async def _in_bbox(session: AsyncSession, registry: RegistrySettings, today: date, query: UnitQuery) -> UnitPage:
    entry = await level_entry(session, query.level)
    layer = entry.layer
    condition = None
    if query.root:
        condition = in_subtree(await get_unit(session, query.root))

    def select_page():
        found = layer.in_bbox(query.bbox)
        return found, layer.simplified(query.zoom) if query.zoom is not None else layer.geometries
    found, geometries = await asyncio.to_thread(select_page)
    if condition is not None and len(found):
        inside = set((await session.execute(select(AdminUnit.code).where(
            condition, AdminUnit.level == query.level))).scalars())
        found = found[[code in inside for code in layer.codes[found]]]
    start = (query.page - 1) * query.limit
    chosen = found[start:start + query.limit]
    codes = layer.codes[chosen].tolist()
    statuses = await plan_statuses(session, AdminUnit.code.in_(codes), registry, today) if codes else {}

    def encode() -> dict:
        rows = _rows(codes, lambda code: (entry.facts[code][0], query.level, *entry.facts[code][1:]),
                     statuses, registry)
        for row, lon, lat in zip(rows, layer.label_lons[chosen], layer.label_lats[chosen]):
            row["label_lon"], row["label_lat"] = float(lon), float(lat)
        frame = gpd.GeoDataFrame(rows, columns=[*PROPERTIES, *LABEL_PROPERTIES], geometry=list(geometries[chosen]),
                                 crs="EPSG:4326")
        # Simplified boundaries are on the PRECISION grid already: rounding gives the short decimal form.
        return feature_collection(frame, [*PROPERTIES, *LABEL_PROPERTIES], id_column="code",
                                  decimals=DECIMALS if query.zoom is not None else None)
    collection = await asyncio.to_thread(encode)
    return UnitPage(collection, len(found), start + len(chosen) < len(found))


async def _streamed(session: AsyncSession, statement) -> list:
    """All rows of `statement`, read STREAM_ROWS at a time so that no stretch of row handling holds the loop long."""
    rows: list = []
    result = await session.stream(statement.execution_options(yield_per=STREAM_ROWS))
    async for chunk in result.partitions(STREAM_ROWS):
        rows += chunk
    return rows


async def _by_code(session: AsyncSession, registry: RegistrySettings, today: date, query: UnitQuery) -> UnitPage:
    condition = true()
    if query.root:
        condition = in_subtree(await get_unit(session, query.root))
    if query.level:
        condition = and_(condition, AdminUnit.level == query.level)
    matched = (await session.execute(select(func.count()).select_from(AdminUnit).where(condition))).scalar_one()
    units = await _streamed(session, select(
        AdminUnit.code, AdminUnit.name, AdminUnit.level, AdminUnit.parent_code, AdminUnit.geometry,
        AdminUnit.geometry_synthetic).where(condition).order_by(AdminUnit.code)
        .offset((query.page - 1) * query.limit).limit(query.limit))
    plans = []
    if units:
        plans = await _streamed(session, select(Plan.unit_code, Plan.kind, Plan.lifecycle, Plan.next_review_due)
                                .join(AdminUnit, AdminUnit.code == Plan.unit_code)
                                .where(condition, AdminUnit.code.between(units[0].code, units[-1].code)))

    def encode() -> dict:
        # The plan status rule runs here, off the loop, for the page's thousands of plans.
        statuses: dict[str, dict[str, str]] = defaultdict(dict)
        for code, kind, lifecycle, due in plans:
            statuses[code][kind] = plan_status(lifecycle, due, today, registry.due_soon_days)
        facts = {unit.code: (unit.name, unit.level, unit.parent_code, unit.geometry_synthetic) for unit in units}
        rows = _rows([unit.code for unit in units], facts.__getitem__, statuses, registry)
        geometry = shapely.from_wkb([unit.geometry for unit in units]) if units else []
        frame = gpd.GeoDataFrame(rows, columns=list(PROPERTIES), geometry=geometry, crs="EPSG:4326")
        return feature_collection(frame, PROPERTIES, id_column="code")
    collection = await asyncio.to_thread(encode)
    return UnitPage(collection, matched, (query.page - 1) * query.limit + len(units) < matched)


async def units_geojson_page(session: AsyncSession, registry: RegistrySettings, today: date,
                             query: UnitQuery) -> UnitPage:
    """One page of the units `query` selects, in code order; boundaries as stored unless a zoom is given."""
    _check(query)
    if query.bbox is not None:
        return await _in_bbox(session, registry, today, query)
    return await _by_code(session, registry, today, query)

