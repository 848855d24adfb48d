"""Unit boundaries with their plan status as an RFC 7946 FeatureCollection, for GIS users and the paged map:
a page of units at a time, optionally of one level within a bounding box, simplified for a zoom."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, and_, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core.cpu_pool import in_worker
from fangxun.core.errors import BadInput
from fangxun.geo.geometry_json import Packed
from fangxun.plans.config import RegistrySettings
from fangxun.plans.map_layers import band_geometry, level_entry
from fangxun.plans.models import AdminUnit, Plan
from fangxun.plans.unit_features import PageInput, page_features
from fangxun.plans.unit_queries import get_unit, in_subtree
from fangxun.plans.unit_rules import LEVELS

DEFAULT_LIMIT = 1000
MAX_LIMIT = 3000
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
    """One page of the FeatureCollection: its features as JSON text (comma-separated, without the brackets), how
    many, and how many units matched in all."""

    features: bytes
    returned: int
    matched: int
    has_next: bool


def _check(query: UnitQuery) -> None:
    if query.level is not None and query.level not in LEVELS:
        raise BadInput(f"level 取值无效：{query.level}（可选 {', '.join(LEVELS)}）", extra={"field": "level"})
    if query.bbox is not None and query.level is None:
        raise BadInput("level：按 bbox 查询时必须指定级别", extra={"field": "level"})
    if query.zoom is not None and query.bbox is None:
        raise BadInput("zoom：只能与 bbox 一起使用", extra={"field": "zoom"})


async def _streamed(session: AsyncSession, statement) -> list[tuple]:
    """All rows of `statement` as tuples, read STREAM_ROWS at a time so that no stretch of row handling holds the
    loop long."""
    rows: list[tuple] = []
    connection = await session.connection()
    result = await connection.stream(statement.execution_options(yield_per=STREAM_ROWS))
    async for chunk in result.partitions(STREAM_ROWS):
        rows += map(tuple, chunk)
    return rows


def _plans_of(condition) -> Select:
    return (select(Plan.unit_code, Plan.kind, Plan.lifecycle, Plan.next_review_due)
            .join(AdminUnit, AdminUnit.code == Plan.unit_code).where(condition))


async def _in_bbox(session: AsyncSession, registry: RegistrySettings, today: date, query: UnitQuery) -> UnitPage:
    entry = await level_entry(session, query.level)
    layer = entry.layer
    condition = None
    if query.root:
        condition = in_subtree(await get_unit(session, query.root))
    found = await asyncio.to_thread(layer.in_bbox, query.bbox)
    if condition is not None and len(found):
        inside = set((await session.execute(select(AdminUnit.code).where(
            condition, AdminUnit.level == query.level))).scalars())
        found = found[[code in inside for code in layer.codes[found]]]
    start = (query.page - 1) * query.limit
    chosen = found[start:start + query.limit]
    codes = layer.codes[chosen].tolist()
    if not codes:
        return UnitPage(b"", 0, len(found), False)
    if query.zoom is not None:
        geometries, wkb = (await band_geometry(entry, query.zoom)).take(chosen), False
    else:
        geometries, wkb = layer.wkb.take(chosen), True
    units = [(code, entry.facts[code][0], query.level, *entry.facts[code][1:]) for code in codes]
    page = PageInput(units, await _streamed(session, _plans_of(AdminUnit.code.in_(codes))), geometries, wkb,
                     layer.label_lons[chosen].tolist(), layer.label_lats[chosen].tolist())
    features = await in_worker(page_features, page, registry, today)
    return UnitPage(features, len(codes), len(found), start + len(chosen) < len(found))


async def _by_code(session: AsyncSession, registry: RegistrySettings, today: date, query: UnitQuery) -> UnitPage:
    condition = true()
    if query.root:
        condition = in_subtree(await get_unit(session, query.root))
    if query.level:
        condition = and_(condition, AdminUnit.level == query.level)
    matched = (await session.execute(select(func.count()).select_from(AdminUnit).where(condition))).scalar_one()
    rows = await _streamed(session, select(
        AdminUnit.code, AdminUnit.name, AdminUnit.level, AdminUnit.parent_code, AdminUnit.geometry_synthetic,
        AdminUnit.geometry).where(condition).order_by(AdminUnit.code)
        .offset((query.page - 1) * query.limit).limit(query.limit))
    if not rows:
        return UnitPage(b"", 0, matched, False)
    plans = await _streamed(session, _plans_of(and_(condition, AdminUnit.code.between(rows[0][0], rows[-1][0]))))
    page = PageInput([row[:5] for row in rows], plans, Packed.of(row[5] for row in rows), wkb=True)
    features = await in_worker(page_features, page, registry, today)
    return UnitPage(features, len(rows), matched, (query.page - 1) * query.limit + len(rows) < matched)


async def units_geojson_page(session: AsyncSession, registry: RegistrySettings, today: date,
                             query: UnitQuery) -> UnitPage:
    """One page of the units `query` selects, in code order; boundaries as stored unless a zoom is given."""
    _check(query)
    if query.bbox is not None:
        return await _in_bbox(session, registry, today, query)
    return await _by_code(session, registry, today, query)

