"""Placing a warning without reading every unit (intake/placing.py), on both databases: the warning_units written by
the database are the units its areas reach (named subtrees whole, polygons with their fractions), the counts and the
routing follow, and the cached top units follow a change of the registry."""

from __future__ import annotations

import pytest
import shapely
from sqlalchemy import func, select, update
from support.tree import add_units
from support.warning_factories import (CITY, DISTRICT_A, DISTRICT_B, EAST_VILLAGE, NOON, STREET_1, STREET_3, TOWN_2,
                                       WEST_VILLAGE, make_warning, warning_settings)

from fangxun.plans.models import AdminUnit
from fangxun.plans.unit_queries import top_codes
from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.tables import Notification, WarningExpansion, WarningUnit

HOOK = "http://127.0.0.1:9/hook"
BOXES = {CITY: (113.0, 34.0, 114.0, 35.0), DISTRICT_A: (113.0, 34.0, 113.5, 35.0),
         DISTRICT_B: (113.5, 34.0, 114.0, 35.0), STREET_1: (113.0, 34.5, 113.5, 35.0),
         TOWN_2: (113.0, 34.0, 113.5, 34.5), STREET_3: (113.5, 34.0, 114.0, 35.0),
         EAST_VILLAGE: (113.0, 34.0, 113.25, 34.5), WEST_VILLAGE: (113.25, 34.0, 113.5, 34.5)}
# Half of 东村, a sliver of 西村, and a strip of 三街道 across the district line.
RING = ((113.0, 34.0), (113.55, 34.0), (113.55, 34.25), (113.0, 34.25), (113.0, 34.0))


@pytest.fixture
def config(settings):
    return warning_settings(settings, HOOK)


@pytest.fixture
async def boxed(sessions, registry):
    async with sessions() as session, session.begin():
        for code, box in BOXES.items():
            await session.execute(update(AdminUnit).where(AdminUnit.code == code)
                                  .values(geometry=shapely.to_wkb(shapely.box(*box))))


async def stored_units(sessions, warning_id: int) -> dict[str, tuple[str, float]]:
    async with sessions() as session:
        rows = await session.execute(select(WarningUnit.unit_code, WarningUnit.level, WarningUnit.fraction)
                                     .where(WarningUnit.warning_id == warning_id))
        return {code: (level, round(fraction, 6)) for code, level, fraction in rows}


WHOLE = {CITY: "city", DISTRICT_A: "district", DISTRICT_B: "district", STREET_1: "township", TOWN_2: "township",
         STREET_3: "township", EAST_VILLAGE: "village", WEST_VILLAGE: "village"}
# The share of each unit RING covers (the boxes above).
RING_MEETS = {CITY: 0.1375, DISTRICT_A: 0.25, DISTRICT_B: 0.025, TOWN_2: 0.5, STREET_3: 0.025, EAST_VILLAGE: 0.5,
              WEST_VILLAGE: 0.5}


def reached(whole: set[str], shaped: set[str] = frozenset()) -> dict[str, tuple[str, float]]:
    """The units a warning reaches: `whole` named (fraction 1.0), the others of `shaped` with RING's share."""
    return {code: (WHOLE[code], 1.0 if code in whole else RING_MEETS[code]) for code in whole | set(shaped)}


@pytest.mark.parametrize("geocodes, polygons, expected", [
    (("410000",), (), reached(set(WHOLE))),  # the province above the registry: its top unit, whole
    # A township named whole, and a polygon over part of it and beyond.
    ((TOWN_2[:9],), (RING,), reached({TOWN_2, EAST_VILLAGE, WEST_VILLAGE}, set(RING_MEETS))),
    ((DISTRICT_B[:6], STREET_1[:9]), (RING,), reached({DISTRICT_B, STREET_3, STREET_1}, set(RING_MEETS))),
    ((), (RING,), reached(set(), set(RING_MEETS))),
    (("419999",), (), {}),  # a code of nobody's (outside the city): no unit
])
async def test_written_units_are_those_the_areas_reach(sessions, config, boxed, geocodes, polygons, expected):
    result = await ingest(sessions, make_warning(geocodes=geocodes, polygons=polygons), config, NOON)
    assert result.warning.jurisdiction == ("inside" if expected else "outside")
    assert await stored_units(sessions, result.warning.id) == expected
    assert result.units == len(expected)


async def test_a_named_subtree_routes_and_counts_as_its_every_unit(sessions, config, boxed):
    result = await ingest(sessions, make_warning(geocodes=("410000",)), config, NOON)
    async with sessions() as session:
        total = (await session.execute(select(func.count()).select_from(AdminUnit))).scalar_one()
        persons_units = (await session.execute(select(func.count()).select_from(AdminUnit).where(
            AdminUnit.level.in_(("district", "township", "village"))))).scalar_one()
        expansion = await session.get(WarningExpansion, result.warning.id)
        told = set((await session.execute(select(Notification.unit_code).where(
            Notification.warning_id == result.warning.id, Notification.recipient_kind == "person"))).scalars())
    assert result.units == total and expansion.units_total == expansion.units_done == persons_units
    assert expansion.plan["routing"] == [[CITY, "city"]]  # the named top stands for its subtree
    assert {EAST_VILLAGE, DISTRICT_B, STREET_3} <= told


async def test_the_top_units_are_read_again_once_the_units_change(sessions, registry):
    async with sessions() as session:
        assert await top_codes(session) == [CITY]
    async with sessions() as session, session.begin():
        await add_units(session, [("410200000000", "开封市", None)])
    async with sessions() as session:
        assert await top_codes(session) == [CITY, "410200000000"]
