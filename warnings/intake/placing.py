"""Placing a warning being accepted without reading its every unit: the units its codes name (the tops of their
subtrees) and those its polygons meet, whether it falls inside; then its warning_units written by the database
itself, a whole subtree in one INSERT … SELECT."""

from __future__ import annotations

from dataclasses import dataclass

import shapely
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core.bulk import bulk_insert_values
from fangxun.geo.spatial_index import circle
from fangxun.plans.area_index import unit_index
from fangxun.plans.models import AdminUnit
from fangxun.plans.unit_queries import in_subtrees, top_codes
from fangxun.plans.unit_rules import LEVELS
from fangxun.warnings.intake.normalised import NormalisedWarning
from fangxun.warnings.intake.pending_units import copy_subtrees
from fangxun.warnings.routing.jurisdiction import placement, widened
from fangxun.warnings.routing.recipients import WarnedUnit
from fangxun.warnings.tables import WarningUnit

_CHUNK = 1000
# Routing units an expansion keeps in its plan; a warning over more (a polygon over many units) reads them back.
KEPT_ROUTING_UNITS = 2000


def area_shape(warning: NormalisedWarning):
    """The union of the warning's polygons and circles; None when it has none."""
    shapes = [shapely.Polygon(ring) for area in warning.areas for ring in area.polygons if len(ring) >= 3]
    shapes += [circle(lon, lat, radius) for area in warning.areas for lon, lat, radius in area.circles
               if radius > 0]
    if not shapes:
        return None
    return shapely.union_all(shapely.make_valid(shapely.GeometryCollection(shapes)))


@dataclass(frozen=True)
class Placed:
    """Where a warning falls, by its named subtrees' tops (`named`: every unit below them is warned too) and the
    units its polygons and circles meet outside those subtrees (`shaped`, with their fractions)."""

    named: list[WarnedUnit]
    shaped: list[WarnedUnit]
    jurisdiction: str

    @property
    def routing(self) -> list[WarnedUnit]:
        """The units routing and the area names look at: whatever lies below a named unit routes as it does (its
        code extends the named one's), so the tops stand for their subtrees."""
        return sorted([*self.named, *self.shaped], key=lambda unit: unit.code)


async def place(session: AsyncSession, warning: NormalisedWarning) -> Placed:
    """The warning's named subtrees and shaped units, and whether it falls inside, outside or nowhere."""
    tops = await top_codes(session)
    named_codes = sorted(widened(warning.geocodes, tops))
    named: dict[str, WarnedUnit] = {}
    for start in range(0, len(named_codes), _CHUNK):
        part = named_codes[start:start + _CHUNK]
        rows = await session.execute(select(AdminUnit.code, AdminUnit.level).where(AdminUnit.code.in_(part)))
        named.update((code, WarnedUnit(code, level, 1.0)) for code, level in rows)
    # A code not held may still head units (an import that left their parent out): those are read one by one.
    for code in (code for code in named_codes if code not in named):
        rows = await session.execute(select(AdminUnit.code, AdminUnit.level).where(in_subtrees([code])))
        named.update((found, WarnedUnit(found, level, 1.0)) for found, level in rows)
    shaped: dict[str, WarnedUnit] = {}
    shape = area_shape(warning)
    index = await unit_index(session) if shape is not None else None
    if shape is not None and not shape.is_empty:
        for match in index.intersecting(shape, with_fraction=True):
            if match.code not in named and (match.code not in shaped or shaped[match.code].fraction < match.fraction):
                shaped[match.code] = WarnedUnit(match.code, match.level, float(match.fraction))
        await _drop_named(session, shaped, list(named))
    shapes = index is not None and len(index) > 0
    found = bool(named) or bool(shaped)
    return Placed(sorted(named.values(), key=lambda unit: unit.code), sorted(shaped.values(), key=lambda unit: unit.code),
                  placement(found, warning.geocodes, shapes, tops))


async def units_by_level(session: AsyncSession, placed: Placed) -> dict[str, int]:
    """How many units the placed warning covers at each level (city first), its named subtrees counted by the
    database (every unit once, however the subtrees nest), never read."""
    counts: dict[str, int] = {}
    if placed.named:
        rows = await session.execute(select(AdminUnit.level, func.count())
                                     .where(in_subtrees(unit.code for unit in placed.named)).group_by(AdminUnit.level))
        counts.update((level, int(count)) for level, count in rows)
    for unit in placed.shaped:
        counts[unit.level] = counts.get(unit.level, 0) + 1
    return {level: counts[level] for level in LEVELS if counts.get(level)}


async def _drop_named(session: AsyncSession, shaped: dict[str, WarnedUnit], named: list[str]) -> None:
    """Leave out of `shaped` the units below a named one (named units are warned whole, fraction 1.0)."""
    if not named or not shaped:
        return
    codes = sorted(shaped)
    for start in range(0, len(codes), _CHUNK):
        part = codes[start:start + _CHUNK]
        for named_start in range(0, len(named), _CHUNK):
            rows = await session.execute(select(AdminUnit.code).where(
                AdminUnit.code.in_(part), in_subtrees(named[named_start:named_start + _CHUNK])))
            for code in rows.scalars():
                shaped.pop(code, None)


async def write_warned_units(session: AsyncSession, warning_id: int, placed: Placed,
                             defer: bool = False) -> tuple[dict[str, int], list[str]]:
    """Write the warning's units: each named subtree copied by the database, or, `defer`red, counted here and left
    to be copied after the first commit (pending_units.py); the shaped units after them. How many of each level,
    and the named codes whose subtrees are left to copy."""
    table = WarningUnit.__table__
    named = [unit.code for unit in placed.named]
    pending = named if defer and len(named) <= _CHUNK else []  # one subtree query: no unit counted twice
    if not pending:
        await copy_subtrees(session, warning_id, named)
    if placed.shaped:
        await bulk_insert_values(session, table, ("warning_id", "unit_code", "level", "fraction"),
                                 [(warning_id, unit.code, unit.level, unit.fraction) for unit in placed.shaped])
    if pending:
        return await units_by_level(session, placed), pending
    rows = await session.execute(select(table.c.level, func.count()).where(table.c.warning_id == warning_id)
                                 .group_by(table.c.level))
    return {level: int(count) for level, count in rows}, []
