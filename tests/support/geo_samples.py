"""Geometry test helpers: the shared boundary files, GeoJSON writing, distances in metres, a unit grid."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
import shapely
from support.shared_data import shared_data_folders

from fangxun.geo.spatial_index import UnitIndex

CITY = "410100000000"
JINSHUI = "410105000000"


def boundary_path(code: str) -> Path:
    """A shared boundary file: $FANGXUN_SHARED_DATA, shared/ beside the checkout, else the packaged copy."""
    folders = [folder / "boundaries" for folder in shared_data_folders()]
    folders.append(Path(str(resources.files("fangxun.demo.data").joinpath("boundaries"))))
    for folder in folders:
        if (folder / f"{code}.geojson").is_file():
            return folder / f"{code}.geojson"
    raise FileNotFoundError(f"no boundary file for {code}")


def write_features(path: Path, features: list[dict]) -> Path:
    """Write a GeoJSON FeatureCollection."""
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                    encoding="utf-8")
    return path


def feature(geometry, **properties) -> dict:
    """A GeoJSON Feature of a shapely geometry (or a raw GeoJSON geometry dict)."""
    if not isinstance(geometry, dict) and geometry is not None:
        geometry = json.loads(shapely.to_geojson(geometry))
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def metres_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distances in metres between matching rows of two (n, 2) lon/lat arrays (local flat-earth)."""
    lat = np.radians((a[:, 1] + b[:, 1]) / 2)
    dx = (a[:, 0] - b[:, 0]) * np.cos(lat) * 111_320.0
    dy = (a[:, 1] - b[:, 1]) * 110_574.0
    return np.hypot(dx, dy)


def grid_units() -> tuple[list[str], list[str], list[shapely.Geometry]]:
    """A 4×4 grid of unit squares (villages) at lon 0–4, lat 0–4, in 2×2 townships and one district.

    Village (col, row) has code 410105 + township (1–4) + village (001–004); the township of a
    village is 1 + col // 2 + 2 * (row // 2).
    """
    codes, levels, geometries = ["410105000000"], ["district"], [shapely.box(0, 0, 4, 4)]
    for township in range(4):
        col, row = 2 * (township % 2), 2 * (township // 2)
        codes.append(f"410105{township + 1:03d}000")
        levels.append("township")
        geometries.append(shapely.box(col, row, col + 2, row + 2))
    for row in range(4):
        for col in range(4):
            codes.append(village_code(col, row))
            levels.append("village")
            geometries.append(shapely.box(col, row, col + 1, row + 1))
    return codes, levels, geometries


def village_code(col: int, row: int) -> str:
    """The code of grid village (col, row)."""
    township = 1 + col // 2 + 2 * (row // 2)
    number = 1 + col % 2 + 2 * (row % 2)
    return f"410105{township:03d}{number:03d}"


def grid_index() -> UnitIndex:
    """The UnitIndex of grid_units()."""
    return UnitIndex(*grid_units())
