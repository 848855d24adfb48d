"""Unit boundaries with their plan status as an RFC 7946 FeatureCollection, for GIS users."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import shapely
from sqlalchemy import and_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core.errors import BadInput
from fangxun.geo.geojson import feature_collection
from fangxun.plans.config import RegistrySettings
from fangxun.plans.models import AdminUnit
from fangxun.plans.review_clock import STATUSES
from fangxun.plans.unit_queries import get_unit, in_subtree
from fangxun.plans.unit_rules import LEVELS
from fangxun.plans.unit_states import plan_statuses
from fangxun.plans.unit_status import missing_kinds, status_counts, unit_status

PROPERTIES = ("code", "name", "level", "parent_code", "synthetic", "status", *STATUSES,
              "missing", "missing_kinds")


async def units_geojson(session: AsyncSession, registry: RegistrySettings, today: date, level: str | None = None,
                        root: str | None = None) -> dict:
    """The units of `level` (default: all) under `root` (default: everywhere), boundaries as stored."""
    if level is not None and level not in LEVELS:
        raise BadInput(f"level 取值无效：{level}（可选 {', '.join(LEVELS)}）", extra={"field": "level"})
    condition = true()
    if root:
        condition = in_subtree(await get_unit(session, root))
    if level:
        condition = and_(condition, AdminUnit.level == level)
    units = (await session.execute(
        select(AdminUnit.code, AdminUnit.name, AdminUnit.level, AdminUnit.parent_code, AdminUnit.geometry,
               AdminUnit.geometry_synthetic).where(condition).order_by(AdminUnit.code))).all()
    statuses = await plan_statuses(session, condition, registry, today)
    rows = []
    for code, name, unit_level, parent_code, _, synthetic in units:
        by_kind = statuses.get(code, {})
        required = registry.required_kinds_for(unit_level)
        missing = missing_kinds(required, by_kind)
        rows.append({"code": code, "name": name, "level": unit_level, "parent_code": parent_code,
                     "synthetic": bool(synthetic), "status": unit_status(required, by_kind),
                     **status_counts(by_kind), "missing": len(missing), "missing_kinds": ",".join(missing)})
    geometry = shapely.from_wkb([unit.geometry for unit in units]) if units else []
    frame = gpd.GeoDataFrame(rows, columns=list(PROPERTIES), geometry=geometry, crs="EPSG:4326")
    return feature_collection(frame, PROPERTIES, id_column="code")
