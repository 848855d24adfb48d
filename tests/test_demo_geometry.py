"""Demo geometry: real city and district boundaries, synthetic cells that tile their parents."""

from collections import defaultdict

import pytest
import shapely

from fangxun.demo.geometry import ZONES, demo_geometry
from fangxun.demo.registry import read_units


@pytest.fixture(scope="module")
def geometry():
    units, _ = read_units()
    rows = [(u.code, u.name, u.level, u.parent_code) for u in units]
    return units, demo_geometry(rows), demo_geometry(rows)


def test_every_unit_has_a_valid_polygon_and_only_real_ones_are_unflagged(geometry):
    units, shapes, _ = geometry
    assert len(shapes) == len(units) == 3530
    assert all(g.is_valid and not g.is_empty and g.geom_type in ("Polygon", "MultiPolygon") for g, _ in shapes.values())
    real = {code for code, (_, synthetic) in shapes.items() if not synthetic}
    assert len(real) == 13 and "410100000000" in real and not real & set(ZONES)


def test_children_tile_their_parent(geometry):
    units, shapes, _ = geometry
    children = defaultdict(list)
    for unit in units:
        if unit.level in ("township", "village"):
            children[unit.parent_code].append(shapes[unit.code][0])
    for parent, cells in children.items():
        parent_area = shapes[parent][0].area
        assert sum(c.area for c in cells) == pytest.approx(parent_area, rel=1e-6), parent
        assert shapely.union_all(cells).symmetric_difference(shapes[parent][0]).area < parent_area * 1e-6


def test_deterministic(geometry):
    _, first, second = geometry
    assert all(shapely.to_wkb(first[c][0]) == shapely.to_wkb(second[c][0]) for c in first)


def test_urban_streets_are_smaller_than_rural_towns(geometry):
    units, shapes, _ = geometry
    streets = [shapes[u.code][0].area for u in units if u.level == "township" and u.name.endswith("街道")]
    towns = [shapes[u.code][0].area for u in units if u.level == "township" and u.name.endswith(("镇", "乡"))]
    assert sum(streets) / len(streets) < 0.5 * sum(towns) / len(towns)


def test_shelters_are_placed_inside_their_own_unit(geometry):
    from fangxun.demo.geometry import place_inside
    from fangxun.demo.places import build_shelters

    units, shapes, _ = geometry
    shelters = place_inside(build_shelters(units), shapes)
    assert len(shelters) > 1000
    assert all(shapes[s["unit_code"]][0].buffer(1e-6).contains(shapely.Point(s["lon"], s["lat"])) for s in shelters)
    assert shelters == place_inside(build_shelters(units), shapes)
