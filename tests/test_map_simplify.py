"""Per-level simplification keeps neighbours joined; coordinates land on the ~1 m grid."""

import json
import pickle

import numpy as np
import pytest
import shapely

from fangxun.geo.geometry_json import Packed, simplified_geometry_json
from fangxun.geo.level_layer import LevelLayer, parse_bbox, pixel_degrees, zoom_band
from fangxun.geo.simplify import PRECISION, simplify_coverage, simplify_for_level, snap_to_grid


def _jagged_neighbours() -> np.ndarray:
    """Two units sharing a zigzag border with many small steps (as digitised boundaries have)."""
    border = [(0.5 + 0.002 * ((i % 3) - 1), i / 100) for i in range(101)]
    west = shapely.Polygon([(0, 0), *border, (0, 1)])
    east = shapely.Polygon([(1, 0), (1, 1), *reversed(border)])
    return np.array([west, east])


def test_shared_edges_stay_shared():
    units = _jagged_neighbours()
    simplified = simplify_coverage(units, 0.01)
    assert shapely.get_num_coordinates(simplified).sum() < shapely.get_num_coordinates(units).sum() / 3
    assert shapely.is_valid(simplified).all()
    union = shapely.union_all(simplified)
    assert union.geom_type == "Polygon" and len(union.interiors) == 0
    assert abs(union.area - 1.0) < 1e-9                       # no gap between the two
    assert shapely.intersection(*simplified).area < 1e-12     # and no overlap


def test_overlapping_input_still_gives_valid_polygons():
    units = np.array([shapely.box(0, 0, 1, 1), shapely.box(0.5, 0, 1.5, 1), None])
    simplified = simplify_coverage(units, 0.01)
    assert simplified[2] is None and shapely.is_valid(simplified[:2]).all()


def test_coordinates_on_grid_and_small_units_kept():
    tiny = shapely.box(113.000001, 34.000001, 113.000004, 34.000004)   # smaller than the grid
    unit = shapely.box(113.1234567, 34.1234567, 113.2, 34.2)
    snapped = snap_to_grid(np.array([unit, tiny, None]))
    coordinates = shapely.get_coordinates(snapped[0])
    assert np.allclose(coordinates / PRECISION, np.round(coordinates / PRECISION), atol=1e-6)
    assert snapped[1].equals(tiny) and snapped[2] is None
    assert shapely.is_valid(simplify_for_level(np.array([unit]), "village")).all()


def test_level_layer_finds_by_box_and_keeps_code_order():
    units = _jagged_neighbours()
    layer = LevelLayer(["b", "a", "none"], Packed.of([units[1].wkb, units[0].wkb, None]))
    assert len(layer) == 2 and list(layer.codes) == ["a", "b"]   # code order, units without a boundary left out
    assert layer.bounds() == (0, 0, 1, 1) and abs(layer.area - 1.0) < 1e-9
    assert layer.wkb[0] == units[0].wkb and layer.wkb[1] == units[1].wkb
    layer = pickle.loads(pickle.dumps(layer))   # as sent back from the worker process
    assert list(layer.codes[layer.in_bbox((0.1, 0.1, 0.2, 0.2))]) == ["a"]
    assert list(layer.codes[layer.in_bbox((0.4, 0.1, 0.6, 0.2))]) == ["a", "b"]
    assert list(layer.codes[layer.in_bbox((2, 2, 3, 3))]) == []
    # A box within b's box (x from 0.498) but west of b's zigzag edge (at x 0.4998 for y 0.009): only a.
    assert list(layer.codes[layer.in_bbox((0.4985, 0.009, 0.499, 0.0099))]) == ["a"]
    for code, lon, lat, unit in zip(layer.codes, layer.label_lons, layer.label_lats, (units[0], units[1])):
        assert unit.contains(shapely.Point(lon, lat)), code


def test_zoom_bands_simplify_together_as_geojson():
    units = _jagged_neighbours()
    wkb = Packed.of([units[0].wkb, None, units[1].wkb])
    assert zoom_band(2) == zoom_band(5) and zoom_band(20) == zoom_band(15)   # clamped
    assert zoom_band(12) == zoom_band(13) != zoom_band(11)                   # pairs of zooms

    def shapes(zoom: int) -> list:
        packed = simplified_geometry_json(wkb, pixel_degrees(zoom_band(zoom)), 5)
        assert packed[1] == b"null"
        return [shapely.geometry.shape(json.loads(packed[index])) for index in (0, 2)]
    coarse, fine = shapes(6), shapes(12)
    assert shapely.get_num_coordinates(coarse).sum() < shapely.get_num_coordinates(fine).sum()
    # Simplified together: still no gap or overlap between the neighbours.
    assert shapely.area(shapely.intersection(*coarse)) < 1e-9
    assert abs(shapely.union_all(coarse).area - 1.0) < 1e-6
    # RFC 7946: exterior rings counterclockwise.
    assert all(shapely.LinearRing(shape.exterior.coords).is_ccw for shape in coarse)


def test_bbox_text_is_checked():
    assert parse_bbox("113.5,34.6,113.8,34.9") == (113.5, 34.6, 113.8, 34.9)
    for text in ("1,2,3", "a,b,c,d", "3,0,1,1", "0,-91,1,1", "inf,0,1,1"):
        with pytest.raises(ValueError):
            parse_bbox(text)
