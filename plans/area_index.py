"""The in-memory spatial index of unit polygons, rebuilt when stored boundaries change."""

from __future__ import annotations

import shapely
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.geo.spatial_index import UnitIndex
from fangxun.plans.models import AdminUnit
from fangxun.plans.unit_queries import units_version

# One index per database (keyed by URL), with the signature of the boundaries it was built from.
_indexes: dict[str, tuple[tuple, UnitIndex]] = {}


async def unit_index(session: AsyncSession) -> UnitIndex:
    """The index of every unit with a boundary; cheap when nothing changed since the last call."""
    key = session.bind.url.render_as_string(hide_password=True)
    signature = await units_version(session, AdminUnit.geometry.is_not(None))
    cached = _indexes.get(key)
    if cached and cached[0] == signature:
        return cached[1]
    rows = (await session.execute(
        select(AdminUnit.code, AdminUnit.level, AdminUnit.parent_code, AdminUnit.geometry)
        .where(AdminUnit.geometry.is_not(None)).order_by(AdminUnit.code))).all()
    index = UnitIndex([r.code for r in rows], [r.level for r in rows],
                      shapely.from_wkb([r.geometry for r in rows]), parents=[r.parent_code for r in rows])
    _indexes[key] = (signature, index)
    return index
