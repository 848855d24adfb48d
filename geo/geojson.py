"""RFC 7946 GeoJSON from a GeoDataFrame: lon/lat order, counterclockwise exteriors, no crs member."""

from __future__ import annotations

import math
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import shapely


def rfc7946_geometries(geometries: np.ndarray, decimals: int | None = None) -> np.ndarray:
    """Geometries with exterior rings counterclockwise and holes clockwise, optionally rounded."""
    geometries = np.asarray(geometries, dtype=object)
    if decimals is not None:
        # Already on a grid (set_precision), rounding only gives the short decimal form.
        geometries = shapely.transform(geometries, lambda coords: np.round(coords, decimals))
    return shapely.orient_polygons(geometries, exterior_cw=False)


def _plain(value: object) -> object:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def features(frame: gpd.GeoDataFrame, properties: Sequence[str], decimals: int | None = None,
             id_column: str | None = None) -> list[dict]:
    """One GeoJSON Feature per row (geometry null where the row has none)."""
    if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
        frame = frame.to_crs("EPSG:4326")
    geometries = rfc7946_geometries(frame.geometry.to_numpy(), decimals)
    columns = {name: frame[name].tolist() for name in properties}
    ids = frame[id_column].tolist() if id_column else None
    result = []
    for index, geometry in enumerate(geometries):
        feature = {"type": "Feature"}
        if ids is not None:
            feature["id"] = _plain(ids[index])
        feature["geometry"] = (shapely.geometry.mapping(geometry)
                               if geometry is not None and not geometry.is_empty else None)
        feature["properties"] = {name: _plain(values[index]) for name, values in columns.items()}
        result.append(feature)
    return result


def feature_collection(frame: gpd.GeoDataFrame, properties: Sequence[str], decimals: int | None = None,
                       id_column: str | None = None) -> dict:
    """An RFC 7946 FeatureCollection of `frame` with the named property columns."""
    return {"type": "FeatureCollection", "features": features(frame, properties, decimals, id_column)}
