"""The registry of the warning entry tests: the small tree with two townships named 新华路街道 (one in 甲区, one in
乙区, as in Zhengzhou), boundaries for drawing on the map, plans and 责任人, and the warning settings."""

from __future__ import annotations

import shapely
from sqlalchemy import update
from support.tree import SMALL_TREE
from support.warning_factories import (CITY, DISTRICT_A, DISTRICT_B, EAST_VILLAGE, PERSONS, STREET_1, STREET_3,
                                       TOWN_2, WEST_VILLAGE, add_registry, warning_settings)

from fangxun.plans.models import AdminUnit

XINHUA_A, XINHUA_B = "410102003000", "410103003000"
XINHUA = "新华路街道"
UNITS = [*SMALL_TREE, (XINHUA_A, XINHUA, DISTRICT_A), (XINHUA_B, XINHUA, DISTRICT_B)]
ENTRY_PERSONS = [*PERSONS,
                 (XINHUA_A, "responsible", "甲区新华路街道主任", "13900000021", {}, "flood_plan", False),
                 (XINHUA_B, "responsible", "乙区新华路街道主任", "13900000022", {}, "flood_plan", False)]
# 甲区 west of 114°E, 乙区 east of it; in each the southern half holds the numbered townships, the northern half
# the 新华路街道; 东村 and 西村 split 二号镇.
SHAPES = {
    CITY: shapely.box(113, 34, 115, 35),
    DISTRICT_A: shapely.box(113, 34, 114, 35), DISTRICT_B: shapely.box(114, 34, 115, 35),
    STREET_1: shapely.box(113, 34, 113.5, 34.5), TOWN_2: shapely.box(113.5, 34, 114, 34.5),
    XINHUA_A: shapely.box(113, 34.5, 114, 35),
    STREET_3: shapely.box(114, 34, 115, 34.5), XINHUA_B: shapely.box(114, 34.5, 115, 35),
    EAST_VILLAGE: shapely.box(113.5, 34, 113.75, 34.5), WEST_VILLAGE: shapely.box(113.75, 34, 114, 34.5),
}
HOOK = "http://127.0.0.1:9/hook"  # no dispatcher runs in these tests: nothing is sent


def entry_settings(base):
    """`base` with the small routing tree of the warning tests (暴雨: three departments; orange and red: every
    level's 责任人)."""
    return warning_settings(base, HOOK)


async def add_entry_registry(session) -> None:
    """The units with their boundaries, plans and 责任人."""
    await add_registry(session, ENTRY_PERSONS, UNITS)
    await session.execute(update(AdminUnit), [{"code": code, "geometry": shapely.to_wkb(shape)}
                                              for code, shape in SHAPES.items()])
