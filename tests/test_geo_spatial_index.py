"""UnitIndex on a hand-built 4×4 grid of unit squares: fractions, levels, points, geocodes; a brute-force check."""

import math

import numpy as np
import pytest
import shapely
from support.geo_samples import grid_index, village_code

from fangxun.core.errors import BadInput
from fangxun.geo.spatial_index import METRES_PER_DEGREE, Match, UnitIndex, circle
from fangxun.geo.synthetic import partition

DISTRICT = "410105000000"


def _by_code(matches):
    return {m.code: m for m in matches}


def test_polygon_covering_one_and_a_half_squares():
    index = grid_index()
    matches = index.intersecting(shapely.box(0, 0, 1.5, 1))
    assert [m.code for m in matches] == sorted(m.code for m in matches)
    found = _by_code(matches)
    # Villages (0,1) and (1,1) only share the edge y=1 with the area: not matches.
    assert set(found) == {DISTRICT, "410105001000", village_code(0, 0), village_code(1, 0)}
    assert found[village_code(0, 0)] == Match(village_code(0, 0), "village", 1.0)
    assert found[village_code(1, 0)].fraction == pytest.approx(0.5, rel=1e-12)
    assert found["410105001000"].fraction == pytest.approx(1.5 / 4, rel=1e-12)
    assert found[DISTRICT].fraction == pytest.approx(1.5 / 16, rel=1e-12)


def test_levels_filter_and_matches_without_fractions():
    index = grid_index()
    area = shapely.box(0, 0, 1.5, 1)
    assert [m.code for m in index.intersecting(area, levels=["village"])] == [village_code(0, 0), village_code(1, 0)]
    assert [m.code for m in index.intersecting(area, levels="township")] == ["410105001000"]
    assert index.intersecting(area, levels=["city"]) == []
    quick = _by_code(index.intersecting(area, with_fraction=False))
    assert set(quick) == set(_by_code(index.intersecting(area)))
    assert quick[village_code(0, 0)].fraction == 1.0 and math.isnan(quick[village_code(1, 0)].fraction)


def test_circle_on_the_corner_of_four_squares():
    radius_km = 50.0
    area = circle(2.0, 2.0, radius_km)
    half_height = radius_km * 1000 / METRES_PER_DEGREE            # degrees of latitude
    half_width = half_height / math.cos(math.radians(2.0))         # degrees of longitude
    quarter = math.pi * half_width * half_height / 4               # of a 1×1 square
    found = _by_code(circle_matches := grid_index().intersecting(area))
    villages = [m for m in circle_matches if m.level == "village"]
    assert {m.code for m in villages} == {village_code(c, r) for c in (1, 2) for r in (1, 2)}
    for match in villages:
        assert match.fraction == pytest.approx(quarter, rel=0.01)
    for township in ("410105001000", "410105002000", "410105003000", "410105004000"):
        assert found[township].fraction == pytest.approx(quarter / 4, rel=0.01)
    assert found[DISTRICT].fraction == pytest.approx(quarter / 4, rel=0.01)


def test_circle_is_round_in_metres():
    ring = shapely.get_coordinates(circle(113.665, 34.757, 10, segments=32))
    dx = (ring[:, 0] - 113.665) * METRES_PER_DEGREE * math.cos(math.radians(34.757))
    dy = (ring[:, 1] - 34.757) * METRES_PER_DEGREE
    assert np.hypot(dx, dy) == pytest.approx(10_000, rel=1e-9)
    with pytest.raises(BadInput):
        circle(113.6, 34.7, 0)


def test_whole_cover_gives_exactly_one_and_edge_contact_gives_nothing():
    index = grid_index()
    assert all(m.fraction == 1.0 for m in index.intersecting(shapely.box(-1, -1, 5, 5)))
    assert len(index.intersecting(shapely.box(-1, -1, 5, 5))) == len(index)
    assert index.intersecting(shapely.box(4, 0, 5, 4)) == []          # shares the grid's east edge only
    assert index.intersecting(shapely.box(10, 10, 11, 11)) == []
    assert index.intersecting(shapely.Polygon()) == []


def test_area_with_a_hole_and_an_invalid_area():
    index = grid_index()
    ring = shapely.Polygon(shapely.box(0, 0, 2, 2).exterior, [shapely.box(0.5, 0.5, 1.5, 1.5).exterior.coords])
    found = _by_code(index.intersecting(ring, levels=["village"]))
    assert {m.fraction for m in found.values()} == {0.75}
    bow_tie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2), (0, 0)])
    found = _by_code(index.intersecting(bow_tie, levels="village"))
    assert found[village_code(0, 0)].fraction == pytest.approx(0.5)   # repaired into two triangles
    with pytest.raises(BadInput):
        index.intersecting(shapely.LineString([(0, 0), (3, 3)]))


def test_points_on_edges_corners_and_outside():
    index = grid_index()
    assert index.containing(0.5, 0.5, level="village") == [village_code(0, 0)]
    assert index.containing(1.0, 0.5, level="village") == [village_code(0, 0), village_code(1, 0)]
    assert index.containing(1.0, 0.5) == [DISTRICT, "410105001000", village_code(0, 0), village_code(1, 0)]
    assert len(index.containing(2.0, 2.0, level="village")) == 4
    assert index.containing(5.0, 5.0) == [] and index.containing(0.5, 0.5, level="city") == []
    located = index.locate([0.5, 1.0, 3.5, 9.0, np.nan], [0.5, 0.5, 3.5, 9.0, 1.0], "village")
    assert located == [village_code(0, 0), village_code(0, 0), village_code(3, 3), None, None]
    assert index.locate([0.5], [0.5], "city") == [None]
    assert index.locate(np.array([]), np.array([]), "village") == []


def test_by_geocodes_length_rules_and_size():
    index = grid_index()
    assert index.by_geocodes(["410105", "410105001", "410105001001", 410105004, "410105004004",
                              "999999", "41010500", "abc", " 410105002 "]) == [
        DISTRICT, "410105001000", "410105001001", "410105002000", "410105004000", "410105004004"]
    assert len(index) == 21 and index.bounds == (0.0, 0.0, 4.0, 4.0)


def test_multipart_units_and_units_without_geometry():
    index = UnitIndex(["410105001001", "410105001000", "410105001002"], ["village", "township", "village"],
                      [shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1)]),
                       None, shapely.box(5, 5, 6, 6)])
    assert [(m.code, m.fraction) for m in index.intersecting(shapely.box(-1, -1, 1.5, 2))] == [("410105001001", 0.5)]
    assert index.intersecting(shapely.box(-1, -1, 4, 2))[0].fraction == 1.0
    assert index.by_geocodes(["410105001"]) == ["410105001000"]   # known to the registry, never a spatial match
    assert index.containing(0.5, 0.5) == ["410105001001"]
    assert len(index) == 3
    with pytest.raises(ValueError):
        UnitIndex(["1", "1"], ["village", "village"], [shapely.box(0, 0, 1, 1)] * 2)


def test_agrees_with_brute_force_on_a_synthetic_partition():
    parent = shapely.Polygon([(0, 0), (0.6, 0), (0.6, 0.3), (0.3, 0.3), (0.3, 0.6), (0, 0.6)])
    cells = partition(parent, [(f"41010500{i:04d}", "urban" if i % 3 else "rural") for i in range(60)], seed=5)
    codes, geometries = list(cells), list(cells.values())
    index = UnitIndex(codes, ["village"] * len(codes), geometries)
    rng = np.random.default_rng(11)
    for _ in range(8):
        angles = np.sort(rng.uniform(0, 2 * math.pi, 9))
        radii = rng.uniform(0.05, 0.3, 9)
        cx, cy = rng.uniform(0.1, 0.5, 2)
        area = shapely.make_valid(shapely.Polygon(np.column_stack([cx + radii * np.cos(angles),
                                                                   cy + radii * np.sin(angles)])))
        expected = {}
        for code, geometry in zip(codes, geometries):
            if shapely.relate_pattern(area, geometry, "T********"):
                expected[code] = shapely.intersection(area, geometry).area / geometry.area
        found = {m.code: m.fraction for m in index.intersecting(area)}
        assert found.keys() == expected.keys()
        for code, fraction in expected.items():
            assert found[code] == pytest.approx(fraction, rel=1e-3)   # cos(lat) scaling varies within a cell


def test_invalid_unit_polygons_are_repaired_when_indexed():
    bow_tie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2), (0, 0)])
    index = UnitIndex(["410105001001"], ["village"], [bow_tie])
    assert index.intersecting(shapely.box(0, 0, 1, 2))[0].fraction == pytest.approx(0.5)
    assert index.containing(0.2, 1.0) == ["410105001001"] and index.containing(1.0, 0.2) == []


def test_units_at_lists_every_containing_unit_once():
    import shapely

    from fangxun.geo.spatial_index import UnitIndex
    big = shapely.box(0, 0, 4, 4)
    halves = shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 2, 3, 3)])   # two parts, one unit
    index = UnitIndex(["410100000000", "410102000000", "410103000000"], ["city", "district", "district"],
                      [big, halves, shapely.box(1, 0, 2, 1)])
    assert index.units_at([0.5, 2.5, 1.0, 3.5, 9.0], [0.5, 2.5, 0.5, 3.5, 9.0]) == [
        ["410100000000", "410102000000"], ["410100000000", "410102000000"],
        ["410100000000", "410102000000", "410103000000"],   # on the shared edge: both sides
        ["410100000000"], []]
