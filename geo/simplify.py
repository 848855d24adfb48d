"""Lighter boundaries for the map: per-level coverage simplification, coordinates on a ~1 m grid."""

from __future__ import annotations

import numpy as np
import shapely

# Degrees; about the size of a screen pixel at the zoom each level is looked at
# (a district's outline at zoom 9-10, a village's at zoom 13-14).
LEVEL_TOLERANCES = {"city": 0.002, "district": 0.001, "township": 0.0004, "village": 0.00015}
# ~1 m at Zhengzhou's latitude: finer digits only add bytes.
PRECISION = 1e-5


def simplify_coverage(geometries: np.ndarray, tolerance: float) -> np.ndarray:
    """Polygons that tile an area, simplified without opening gaps or overlaps between neighbours."""
    geometries = np.asarray(geometries, dtype=object)
    present = ~shapely.is_missing(geometries) & ~shapely.is_empty(geometries)
    result = geometries.copy()
    if not present.any() or tolerance <= 0:
        return result
    shapes = geometries[present]
    try:
        # Shared edges are simplified once, so neighbours stay joined (plain simplify opens gaps).
        simplified = shapely.coverage_simplify(shapes, tolerance)
    except shapely.errors.GEOSException:
        simplified = np.full(len(shapes), None, dtype=object)
    # Where the input is not a clean coverage (overlapping units), an output polygon can come out
    # invalid: those few are simplified on their own instead.
    broken = shapely.is_missing(simplified) | ~shapely.is_valid(simplified) | shapely.is_empty(simplified)
    if broken.any():
        simplified[broken] = shapely.simplify(shapes[broken], tolerance, preserve_topology=True)
    result[present] = simplified
    return result


def snap_to_grid(geometries: np.ndarray, grid: float = PRECISION) -> np.ndarray:
    """Coordinates rounded onto a `grid`-degree grid, kept valid; a polygon that would vanish stays as it was."""
    geometries = np.asarray(geometries, dtype=object)
    snapped = shapely.set_precision(geometries, grid)
    vanished = shapely.is_empty(snapped) & ~shapely.is_empty(geometries)
    snapped[vanished] = geometries[vanished]
    return snapped


def simplify_for_level(geometries: np.ndarray, level: str) -> np.ndarray:
    """The boundaries of one level's units as the map draws them."""
    return snap_to_grid(simplify_coverage(geometries, LEVEL_TOLERANCES.get(level, 0.0)))
