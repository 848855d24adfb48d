"""Per-level simplification keeps neighbours joined; coordinates land on the ~1 m grid."""

import numpy as np
import shapely

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
