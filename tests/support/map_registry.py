"""A small registry with boundaries for the map, contact-sheet and GeoJSON tests (today 2026-06-01)."""

from __future__ import annotations

import shapely
from sqlalchemy import update
from support.tree import add_plans, add_units

from fangxun.plans.models import AdminUnit, Contact, Shelter
from fangxun.plans.plan_fields import ContactFields
from fangxun.plans.plan_writes import update_plan

CITY, JIA, YI = "410100000000", "410102000000", "410103000000"
T1, T2, T3 = "410102001000", "410102002000", "410103001000"
EAST, WEST = "410102002001", "410102002002"
HOSTILE_TITLE = "<script>alert(1)</script>"
HOSTILE_PERSON = "</script><b>张三</b>"
HOSTILE_SHELTER = "<img src=x onerror=alert(2)>安置点"


def _clockwise(west: float, south: float, east: float, north: float) -> shapely.Polygon:
    # Stored the wrong way round on purpose: the GeoJSON must come out counterclockwise.
    return shapely.box(west, south, east, north, ccw=False)


HOLE = shapely.box(113.8, 34.4, 113.9, 34.6)   # counterclockwise: wrong for a hole
SHAPES = {
    CITY: _clockwise(113, 34, 115, 35),
    JIA: _clockwise(113, 34, 114, 35), YI: _clockwise(114, 34, 115, 35),
    T1: _clockwise(113, 34, 113.5, 35), T2: _clockwise(113.5, 34, 114, 35), T3: _clockwise(114, 34, 115, 35),
    EAST: _clockwise(113.5, 34, 113.75, 35),
    WEST: shapely.Polygon(_clockwise(113.75, 34, 114, 35).exterior.coords, [HOLE.exterior.coords]),
}
SYNTHETIC = {EAST, WEST, T1, T2, T3}

# (unit, kind, approved_on, then, title); 36-month cycles, 60-day window.
PLANS = [
    (CITY, "flood_plan", "2025-01-01", None, None),
    (CITY, "evacuation", "2025-01-01", None, None),
    (JIA, "flood_plan", "2023-07-15", None, None),        # due soon (2026-07-15)
    (JIA, "evacuation", "2025-03-01", None, None),
    (YI, "flood_plan", "2020-01-01", None, None),         # overdue
    (YI, "evacuation", "2025-03-01", None, None),
    (T2, "flood_plan", "2025-01-01", None, None),
    (T2, "evacuation", "2025-01-01", "withdrawn", None),  # withdrawn = missing
    (T3, "flood_plan", "2025-01-01", "revising", None),   # in force while revised
    (T3, "evacuation", "2025-01-01", None, None),
    (EAST, "flood_plan", "2025-01-01", None, HOSTILE_TITLE),
    (EAST, "evacuation", "2025-02-01", None, None),
    (WEST, "flood_plan", "2021-01-01", None, None),       # overdue, and evacuation missing
]
# What the unit status rule makes of them.
UNIT_STATUS = {CITY: "current", JIA: "due_soon", YI: "overdue", T1: "none", T2: "none", T3: "current",
               EAST: "current", WEST: "none"}


async def add_map_registry(session, settings, today) -> dict[tuple[str, str], int]:
    """The small tree with boundaries, plans, persons and shelters; returns plan ids by (unit, kind)."""
    await add_units(session)
    await session.execute(update(AdminUnit), [
        {"code": code, "geometry": shapely.to_wkb(shape), "geometry_synthetic": code in SYNTHETIC}
        for code, shape in SHAPES.items()])
    ids = await add_plans(session, PLANS, settings, today)
    await update_plan(session, ids[(EAST, "flood_plan")], {}, settings.registry, "t", contacts=[
        ContactFields(name=HOSTILE_PERSON, phone="13900001234"),
        ContactFields(role="deputy", name="李四", phone="0371-6000 0001")])
    session.add_all([
        Contact(unit_code=JIA, role="duty_desk", name="甲区防汛值班室", phone="037160000002", channels={}),
        Shelter(unit_code=EAST, plan_id=ids[(EAST, "evacuation")], name=HOSTILE_SHELTER, capacity=300,
                address="东村村委会", lon=113.6, lat=34.5),
        Shelter(unit_code=T1, name="一号街道小学避险安置点", capacity=800, address="一号路1号", lon=113.2, lat=34.5),
        Shelter(unit_code=T1, name="无坐标安置点", capacity=50, address=""),
    ])
    return ids
