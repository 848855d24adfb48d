"""One level's unit boundaries held in memory for the paged map: found by bounding box; zoom bands and pixels."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely

from fangxun.geo.geometry_json import Packed
from fangxun.geo.place_labels import anchor_points

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


# Geometry work in the server's process is done this many units at a time: a C call holds the GIL, so the event loop,
# for as long as it runs, and longer when a loaded machine stops the thread in the middle of it.
CHUNK = 500


def chunked(function, values, *args) -> np.ndarray:
    """`function` over `values` a CHUNK at a time, concatenated."""
    parts = [function(values[start:start + CHUNK], *args) for start in range(0, len(values), CHUNK)]
    return np.concatenate(parts) if parts else np.array([], dtype=object)


class LevelLayer:
    """The units of one level with a boundary, in code order: codes, boundaries as WKB, their boxes, label points and
    total area. Built in a worker process; the server keeps no geometry objects (54,000 of them are seconds of GIL
    to make and hold), it makes those of the units near a box when asked."""

    def __init__(self, codes: Sequence[str], wkb: Packed):
        blobs = wkb.items()
        geometries = shapely.from_wkb(blobs)
        present = ~shapely.is_missing(geometries) & ~shapely.is_empty(geometries)
        codes = np.asarray(codes, dtype=str)
        order = np.argsort(codes[present], kind="stable")
        kept = np.flatnonzero(present)[order]
        geometries = geometries[kept]
        self.codes = codes[kept]
        self.wkb = Packed.of(blobs[index] for index in kept)
        self.boxes = shapely.bounds(geometries).reshape(-1, 4)
        self.area = float(shapely.area(geometries).sum())
        points = anchor_points(geometries)
        self.label_lons = np.round(shapely.get_x(points), LABEL_DECIMALS) if len(points) else np.array([])
        self.label_lats = np.round(shapely.get_y(points), LABEL_DECIMALS) if len(points) else np.array([])

    def __len__(self) -> int:
        return len(self.codes)

    def bounds(self) -> tuple[float, float, float, float] | None:
        """(west, south, east, north) of the whole level, None when empty."""
        if not len(self.boxes):
            return None
        return (float(self.boxes[:, 0].min()), float(self.boxes[:, 1].min()),
                float(self.boxes[:, 2].max()), float(self.boxes[:, 3].max()))

    def in_bbox(self, bbox: tuple[float, float, float, float]) -> np.ndarray:
        """Indices (in code order) of the units whose boundary intersects the box: boxes first, then the boundaries
        of those whose box meets it."""
        west, south, east, north = bbox
        near = np.flatnonzero((self.boxes[:, 0] <= east) & (self.boxes[:, 2] >= west)
                              & (self.boxes[:, 1] <= north) & (self.boxes[:, 3] >= south))
        if not len(near):
            return near
        box = shapely.box(*bbox)
        hits = chunked(lambda part: shapely.intersects(shapely.from_wkb(self.wkb.items(part)), box), near)
        return near[hits.astype(bool)]
