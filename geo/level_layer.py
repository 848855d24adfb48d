"""One level's unit boundaries held in memory for the paged map: found by bounding box, simplified per zoom."""

from __future__ import annotations

import threading

import numpy as np
import shapely

from fangxun.geo.place_labels import anchor_points, level_zoom
from fangxun.geo.simplify import simplify_coverage, snap_to_grid

# Zooms the map asks for are clamped to this range: below it the coarsest outline serves, above it the finest.
MIN_ZOOM, MAX_ZOOM = 4, 15
# Web Mercator: the world is 256 px wide at zoom 0.
TILE_PIXELS = 256
LABEL_DECIMALS = 4


def zoom_band(zoom: int) -> int:
    """The zoom whose simplification serves `zoom`: one for each pair of zooms (4-5 -> 5, 12-13 -> 13), the finer's,
    so that a level is simplified half as often (a 0.5 px tolerance at the coarser zoom of the pair)."""
    return max(MIN_ZOOM, min(MAX_ZOOM, int(zoom))) | 1


def pixel_degrees(zoom: int) -> float:
    """About one screen pixel in degrees of longitude at `zoom`: the simplification tolerance for it."""
    return 360.0 / (TILE_PIXELS * 2 ** zoom)


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """minlon,minlat,maxlon,maxlat as floats; ValueError with a Chinese reason otherwise."""
    parts = text.split(",")
    if len(parts) != 4:
        raise ValueError("应为 minlon,minlat,maxlon,maxlat 四个数")
    try:
        west, south, east, north = (float(part) for part in parts)
    except ValueError:
        raise ValueError("应为 minlon,minlat,maxlon,maxlat 四个数") from None
    if not all(np.isfinite([west, south, east, north])):
        raise ValueError("坐标应为有限数")
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise ValueError("经度应在 -180..180、纬度在 -90..90 之间，且最小值不大于最大值")
    return west, south, east, north


# Whole-level array work is done this many geometries at a time: a server runs it in a thread, and each call holds
# the GIL (so the event loop) for as long as it runs.
CHUNK = 4000


def chunked(function, values, *args) -> np.ndarray:
    """`function` over `values` a CHUNK at a time, concatenated."""
    parts = [function(values[start:start + CHUNK], *args) for start in range(0, len(values), CHUNK)]
    return np.concatenate(parts) if parts else np.array([], dtype=object)


def geometries_of_wkb(blobs: list[bytes | None]) -> np.ndarray:
    """Geometries from WKB, a chunk at a time."""
    return chunked(shapely.from_wkb, blobs)


class LevelLayer:
    """The units of one level with a boundary: codes, geometries, a spatial index, label points and, built on first
    use, the boundaries simplified for each zoom band (shared edges simplified once: no gaps between neighbours)."""

    def __init__(self, codes: list[str], geometries: np.ndarray):
        geometries = np.asarray(geometries, dtype=object)
        present = ~shapely.is_missing(geometries) & ~shapely.is_empty(geometries)
        order = np.argsort(np.asarray(codes, dtype=object)[present], kind="stable")
        self.codes = np.asarray(codes, dtype=object)[present][order]
        self.geometries = geometries[present][order]
        self.tree = shapely.STRtree(self.geometries)
        points = chunked(anchor_points, self.geometries)
        self.label_lons = np.round(shapely.get_x(points), LABEL_DECIMALS) if len(points) else np.array([])
        self.label_lats = np.round(shapely.get_y(points), LABEL_DECIMALS) if len(points) else np.array([])
        self._bands: dict[int, np.ndarray] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.codes)

    def bounds(self) -> tuple[float, float, float, float] | None:
        """(west, south, east, north) of the whole level, None when empty."""
        if not len(self.geometries):
            return None
        return tuple(float(v) for v in shapely.total_bounds(self.geometries))

    def first_zoom(self, pixels: int) -> int:
        """The first zoom at which the median unit of this level is `pixels` wide."""
        if not len(self.geometries):
            return 0
        bounds = shapely.bounds(self.geometries)
        return level_zoom(bounds[:, 2] - bounds[:, 0], pixels)

    def in_bbox(self, bbox: tuple[float, float, float, float]) -> np.ndarray:
        """Indices (in code order) of the units whose boundary intersects the box."""
        found = self.tree.query(shapely.box(*bbox), predicate="intersects")
        return np.sort(found)

    def simplified(self, zoom: int) -> np.ndarray:
        """All boundaries simplified to about a pixel at `zoom`'s band (computed once per band; thread-safe)."""
        band = zoom_band(zoom)
        with self._lock:
            if band not in self._bands:
                self._bands[band] = snap_to_grid(simplify_coverage(self.geometries, pixel_degrees(band)))
            return self._bands[band]
