"""The areas of a hand-entered warning named after their units (影响区域：上街区), read from the registry."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.plans.models import AdminUnit
from fangxun.plans.unit_rules import significant_prefix
from fangxun.warnings.intake.normalised import NormalisedWarning, WarningArea

MAX_NAMES = 12
_CHUNK = 1000


def _outermost(codes: tuple[str, ...]) -> list[str]:
    """The codes not inside another of them (a district and one of its villages: the district)."""
    prefixes = {code: significant_prefix(code) for code in codes}
    return [code for code in codes
            if not any(other != code and prefixes[code].startswith(prefixes[other]) for other in codes)]


def area_description(names: list[str]) -> str:
    """Unit names as an area description: 上街区、中原区; past MAX_NAMES, the first ones and 等 N 个区域."""
    if len(names) <= MAX_NAMES:
        return "、".join(names)
    return f"{'、'.join(names[:MAX_NAMES])}等 {len(names)} 个区域"


async def named_areas(session: AsyncSession, warning: NormalisedWarning) -> NormalisedWarning:
    """`warning` with every area that names units only (no description, nothing drawn) described by the names
    of its outermost units that the registry holds."""
    if not any(not area.description and not area.polygons and area.geocodes for area in warning.areas):
        return warning
    codes = sorted({code for area in warning.areas for code in area.geocodes})
    names: dict[str, str] = {}
    for start in range(0, len(codes), _CHUNK):
        rows = await session.execute(select(AdminUnit.code, AdminUnit.name)
                                     .where(AdminUnit.code.in_(codes[start:start + _CHUNK])))
        names.update((code, name) for code, name in rows)

    def described(area: WarningArea) -> WarningArea:
        if area.description or area.polygons:
            return area
        known = [names[code] for code in _outermost(area.geocodes) if code in names]
        return replace(area, description=area_description(known))

    return replace(warning, areas=tuple(described(area) for area in warning.areas))
