"""The areas of a hand-entered warning named after their units (影响区域：上街区、巩义市新华路街道), read from the
registry: a unit below a district is named with its district, so that two towns of one name cannot be mistaken."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.plans.unit_rules import significant_prefix
from fangxun.plans.unit_search import PATH_SEPARATOR, place_labels
from fangxun.warnings.intake.normalised import NormalisedWarning, WarningArea

MAX_NAMES = 12


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
    of its outermost units that the registry holds, each with the district and township above it."""
    unnamed = [area for area in warning.areas if not area.description and not area.polygons and area.geocodes]
    if not unnamed:
        return warning
    outermost = {area.geocodes: _outermost(area.geocodes) for area in unnamed}
    labels = await place_labels(session, {code for codes in outermost.values() for code in codes})

    def described(area: WarningArea) -> WarningArea:
        if area.description or area.polygons or not area.geocodes:
            return area
        known = [labels[code].replace(PATH_SEPARATOR, "") for code in outermost[area.geocodes] if code in labels]
        return replace(area, description=area_description(known))

    return replace(warning, areas=tuple(described(area) for area in warning.areas))
