"""Synthetic demo geometry: partitions tile their parent exactly, deterministically; zones."""

import math

import numpy as np
import pytest
import shapely
from support.geo_samples import JINSHUI, boundary_path
from support.watchdog import returns_in_time

from fangxun.geo.boundary_file import read_boundaries
from fangxun.geo.spatial_index import METRES_PER_DEGREE
from fangxun.geo.synthetic import partition, zone

# A concave parent with a hole, and one in two separate parts.
L_SHAPE = shapely.Polygon([(113.5, 34.6), (113.8, 34.6), (113.8, 34.7), (113.6, 34.7), (113.6, 34.9), (113.5, 34.9)],
                          [[(113.52, 34.62), (113.55, 34.62), (113.55, 34.65), (113.52, 34.65)]])
ISLANDS = shapely.MultiPolygon([shapely.box(113.0, 34.0, 113.2, 34.1), shapely.box(113.3, 34.0, 113.35, 34.3)])


def _children(urban: int, rural: int) -> list[tuple[str, str]]:
    return [(f"410105{i:06d}", "urban" if i < urban else "rural") for i in range(urban + rural)]


def _assert_tiles(parent, cells):
    geometries = list(cells.values())
    assert all(g.geom_type in ("Polygon", "MultiPolygon") and not g.is_empty and g.area > 0 for g in geometries)
    assert sum(g.area for g in geometries) == pytest.approx(parent.area, rel=1e-9)
    tree = shapely.STRtree(geometries)
    left, right = tree.query(geometries, predicate="intersects")
    pairs = left < right
    overlap = shapely.area(shapely.intersection(np.take(geometries, left[pairs]), np.take(geometries, right[pairs])))
    assert overlap.sum() < 1e-12 * parent.area
    assert shapely.symmetric_difference(shapely.union_all(geometries), parent).area < 1e-9 * parent.area


@pytest.mark.parametrize("parent", [L_SHAPE, ISLANDS], ids=["concave_with_hole", "two_islands"])
def test_partition_tiles_its_parent(parent):
    cells = partition(parent, _children(12, 18), seed=42, focus=(113.55, 34.68))
    assert list(cells) == [code for code, _ in _children(12, 18)]
    _assert_tiles(parent, cells)


def test_partition_of_a_shared_district_file():
    district = read_boundaries(boundary_path(JINSHUI)).frame.geometry.iloc[0]
    cells = partition(district, _children(20, 4), seed=410105, focus=(113.665, 34.757))
    _assert_tiles(district, cells)


def test_partition_is_deterministic():
    first = partition(L_SHAPE, _children(10, 10), seed=7, focus=(113.55, 34.68))
    again = partition(L_SHAPE, _children(10, 10), seed=7, focus=(113.55, 34.68))
    other = partition(L_SHAPE, _children(10, 10), seed=8, focus=(113.55, 34.68))
    assert {c: g.wkb for c, g in first.items()} == {c: g.wkb for c, g in again.items()}
    assert {c: g.wkb for c, g in first.items()} != {c: g.wkb for c, g in other.items()}


def test_urban_cells_are_smaller_than_rural_ones():
    for seed in range(5):
        cells = partition(L_SHAPE, _children(15, 15), seed=seed, focus=(113.55, 34.68))
        urban = np.mean([g.area for code, g in cells.items() if int(code[-6:]) < 15])
        rural = np.mean([g.area for code, g in cells.items() if int(code[-6:]) >= 15])
        assert urban < rural


def test_focus_outside_the_parent_crowds_its_nearest_side():
    parent = shapely.box(113.0, 34.0, 113.4, 34.2)
    focus = (113.7, 34.1)   # east of the parent
    cells = partition(parent, _children(20, 0), seed=3, focus=focus)
    xs = [shapely.centroid(g).x for g in cells.values()]
    assert np.median(xs) > 113.2          # the eastern half holds most street cells
    _assert_tiles(parent, cells)


def test_one_child_is_the_parent_and_bad_children_are_refused():
    assert partition(L_SHAPE, [("410105001000", "rural")], seed=1)["410105001000"].equals(L_SHAPE)
    with pytest.raises(ValueError):
        partition(L_SHAPE, [], seed=1)
    with pytest.raises(ValueError):
        partition(L_SHAPE, [("1", "urban"), ("1", "rural")], seed=1)
    with pytest.raises(ValueError):
        partition(L_SHAPE, [("1", "suburban"), ("2", "rural")], seed=1)


def test_partition_of_150_children_finishes():
    cells = returns_in_time(lambda: partition(L_SHAPE, _children(90, 60), seed=9, focus=(113.55, 34.68)))
    _assert_tiles(L_SHAPE, cells)


def _km2(polygon) -> float:
    lat = math.radians(polygon.centroid.y)
    return polygon.area * math.cos(lat) * (METRES_PER_DEGREE / 1000) ** 2


def test_zone_has_about_the_requested_area_and_is_deterministic():
    shape = zone((113.745, 34.715), 130.0, seed=410171)
    assert shape.is_valid and shape.geom_type == "Polygon"
    assert 12 <= len(shape.exterior.coords) - 1 <= 16
    assert _km2(shape) == pytest.approx(130.0, rel=0.01)
    assert shape.contains(shapely.Point(113.745, 34.715))
    assert zone((113.745, 34.715), 130.0, seed=410171).wkb == shape.wkb
    assert zone((113.745, 34.715), 130.0, seed=410172).wkb != shape.wkb


def test_zone_is_clipped():
    limit = shapely.box(113.70, 34.60, 113.745, 34.80)
    shape = zone((113.745, 34.715), 130.0, seed=1, clip_to=limit)
    assert limit.buffer(1e-12).contains(shape) and 0 < _km2(shape) < 130.0
