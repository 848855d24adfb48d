"""GCJ-02 (the offset datum of Chinese web maps) to and from WGS-84, on floats or numpy arrays."""

from __future__ import annotations

import numpy as np
import shapely

# Constants of the published GCJ-02 formula: the Krasovsky 1940 ellipsoid it is defined on.
_A = 6378245.0
_EE = 0.00669342162296594323

_TOLERANCE_DEG = 1e-9
_MAX_ITERATIONS = 30


def _offset(lon, lat):
    """The (dlon, dlat) GCJ-02 shift in degrees at a WGS-84 position."""
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    wave_x = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0

    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
    dlat = dlat + wave_x
    dlat = dlat + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat = dlat + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0

    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
    dlon = dlon + wave_x
    dlon = dlon + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon = dlon + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0

    rad_lat = np.radians(lat)
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = dlon * 180.0 / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return dlon, dlat


def _as_output(values, scalar: bool):
    return float(values) if scalar else values


def wgs84_to_gcj02(lon, lat):
    """GCJ-02 coordinates of WGS-84 ones (applied everywhere: no out-of-China shortcut)."""
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    dlon, dlat = _offset(lon, lat)
    return _as_output(lon + dlon, scalar), _as_output(lat + dlat, scalar)


def gcj02_to_wgs84(lon, lat):
    """WGS-84 coordinates of GCJ-02 ones, by fixed-point iteration to better than 1e-7°."""
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    target_lon = np.asarray(lon, dtype=float)
    target_lat = np.asarray(lat, dtype=float)
    est_lon, est_lat = target_lon.copy(), target_lat.copy()
    for _ in range(_MAX_ITERATIONS):
        dlon, dlat = _offset(est_lon, est_lat)
        err_lon = est_lon + dlon - target_lon
        err_lat = est_lat + dlat - target_lat
        est_lon = est_lon - err_lon
        est_lat = est_lat - err_lat
        # NaN inputs never converge and must not keep the loop going.
        worst = np.nan_to_num(np.maximum(np.abs(err_lon), np.abs(err_lat)), nan=0.0)
        if worst.size == 0 or worst.max() < _TOLERANCE_DEG:
            break
    return _as_output(est_lon, scalar), _as_output(est_lat, scalar)


def _coords_gcj02_to_wgs84(coords: np.ndarray) -> np.ndarray:
    out = coords.copy()
    out[:, 0], out[:, 1] = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
    return out


def geometry_gcj02_to_wgs84(geom):
    """A shapely geometry (or array of them) with its GCJ-02 coordinates moved to WGS-84; z is kept."""
    return shapely.transform(geom, _coords_gcj02_to_wgs84, include_z=None)
