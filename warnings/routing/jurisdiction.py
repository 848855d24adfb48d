"""Where a warning's areas fall against the service's jurisdiction (the registry's top units), as pure rules."""

from __future__ import annotations

from collections.abc import Iterable

from fangxun.plans.unit_rules import full_code, significant_prefix

INSIDE, OUTSIDE, UNLOCATED = "inside", "outside", "unlocated"
JURISDICTIONS = (INSIDE, OUTSIDE, UNLOCATED)
JURISDICTION_LABELS = {INSIDE: "辖区内", OUTSIDE: "辖区外预警", UNLOCATED: "区域无法定位"}


def _within(code: str, prefix: str) -> bool:
    return code.startswith(prefix)


def widened(geocodes: Iterable[str], tops: Iterable[str]) -> list[str]:
    """Full codes of `geocodes`; one naming a unit above a top unit (河南省 for 郑州市) names that top unit,
    since it covers the whole jurisdiction."""
    tops = list(tops)
    found: list[str] = []
    for code in filter(None, map(full_code, geocodes)):
        prefix = significant_prefix(code)
        above = [top for top in tops if top != code and _within(top, prefix)]
        found += above or [code]
    return list(dict.fromkeys(found))


def within_jurisdiction(code: str, tops: Iterable[str]) -> bool:
    """True when the code lies inside one of the top units (whether or not the registry holds it)."""
    return any(_within(code, significant_prefix(top)) for top in tops)


def placement(units_found: bool, geocodes: Iterable[str], shapes_placeable: bool, tops: Iterable[str]) -> str:
    """inside: some unit of ours is warned; unlocated: nothing could be placed, or a code of ours names no
    unit we hold; outside: the areas were placed, and none of ours is among them. An empty registry has no
    jurisdiction to be outside of: everything is inside (the departments are still told)."""
    tops = list(tops)
    if units_found or not tops:
        return INSIDE
    codes = list(filter(None, map(full_code, geocodes)))
    if any(within_jurisdiction(code, tops) for code in codes):
        return UNLOCATED
    if codes or shapes_placeable:
        return OUTSIDE
    return UNLOCATED
