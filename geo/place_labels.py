"""Place names for the duty map: where each unit's name goes, and from which zoom a level's names fit."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import shapely

LABEL_LEVELS = ("district", "township", "village")
# Room a name needs on screen (about five characters of 13 px): a level's names are shown from the zoom at which
# its typical unit is at least this wide.
LABEL_PIXELS = 80
# Web Mercator: the world is 256 px wide at zoom 0.
TILE_PIXELS = 256
MAX_ZOOM = 18
DECIMALS = 4


def level_zoom(widths_deg: np.ndarray, pixels: int = LABEL_PIXELS) -> int:
    """The first zoom at which the median unit of these widths (degrees of longitude) is `pixels` wide."""
    widths = widths_deg[widths_deg > 0]
    if not len(widths):
        return 0
    pixels_at_zero = float(np.median(widths)) / 360 * TILE_PIXELS
    return max(0, min(MAX_ZOOM, math.ceil(math.log2(pixels / pixels_at_zero))))


def anchor_points(geometries: np.ndarray) -> np.ndarray:
    """A point for each name: the centroid where it falls inside the unit, else a point surely inside it."""
    centroids = shapely.centroid(geometries)
    inside = shapely.contains(geometries, centroids)
    return np.where(inside, centroids, shapely.point_on_surface(geometries))


def place_labels(units: gpd.GeoDataFrame) -> dict:
    """{"levels": [...], "zooms": {level: first zoom}, "places": [[lat, lon, name, level index], …]} for the units
    with a boundary (EPSG:4326; columns name, level), larger units first within a level so that their names
    win where names would overlap."""
    places: list[list] = []
    zooms: dict[str, int] = {}
    for index, level in enumerate(LABEL_LEVELS):
        frame = units[(units["level"] == level) & units.geometry.notna() & ~units.geometry.is_empty]
        if frame.empty:
            continue
        geometries = frame.geometry.to_numpy()
        bounds = shapely.bounds(geometries)
        zooms[level] = level_zoom(bounds[:, 2] - bounds[:, 0])
        points = anchor_points(geometries)
        order = np.argsort(-shapely.area(geometries), kind="stable")
        lats = np.round(shapely.get_y(points), DECIMALS)
        lons = np.round(shapely.get_x(points), DECIMALS)
        names = frame["name"].tolist()
        places += [[float(lats[i]), float(lons[i]), str(names[i]), index] for i in order]
    return {"levels": list(LABEL_LEVELS), "zooms": zooms, "places": places}
