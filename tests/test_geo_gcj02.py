"""GCJ-02 <-> WGS-84: the offset near Zhengzhou, the inverse's accuracy, geometries."""

import numpy as np
import pytest
import shapely

from fangxun.geo.gcj02 import gcj02_to_wgs84, geometry_gcj02_to_wgs84, wgs84_to_gcj02


def test_offset_near_zhengzhou_is_about_half_a_kilometre():
    lon, lat = wgs84_to_gcj02(113.665, 34.757)
    assert isinstance(lon, float) and isinstance(lat, float)
    # shared/data/README: 0.005°–0.006° in Zhengzhou, i.e. roughly 500–600 m
    assert 0.005 < lon - 113.665 < 0.007
    assert -0.003 < lat - 34.757 < 0
    metres = np.hypot((lon - 113.665) * 111_320 * np.cos(np.radians(34.757)), (lat - 34.757) * 110_574)
    assert 500 < metres < 700


def test_inverse_recovers_wgs84_to_better_than_1e7_degrees_on_arrays():
    lons, lats = np.meshgrid(np.linspace(112.6, 114.3, 60), np.linspace(34.2, 35.1, 40))
    gcj_lon, gcj_lat = wgs84_to_gcj02(lons, lats)
    back_lon, back_lat = gcj02_to_wgs84(gcj_lon, gcj_lat)
    assert back_lon.shape == lons.shape
    assert np.abs(back_lon - lons).max() < 1e-7
    assert np.abs(back_lat - lats).max() < 1e-7


def test_scalar_inverse_and_nan_passthrough():
    lon, lat = gcj02_to_wgs84(*wgs84_to_gcj02(113.7, 34.8))
    assert lon == pytest.approx(113.7, abs=1e-7) and lat == pytest.approx(34.8, abs=1e-7)
    lons, lats = gcj02_to_wgs84(np.array([np.nan, 113.7]), np.array([34.8, 34.8]))
    assert np.isnan(lons[0]) and np.isfinite(lons[1]) and np.isfinite(lats[1])


def test_geometry_conversion_keeps_shape_and_z():
    wgs = shapely.Polygon([(113.6, 34.7, 5), (113.7, 34.7, 5), (113.7, 34.8, 6), (113.6, 34.7, 5)])
    gcj = shapely.transform(wgs, lambda c: np.column_stack(wgs84_to_gcj02(c[:, 0], c[:, 1])))
    back = geometry_gcj02_to_wgs84(shapely.force_3d(gcj, 5))
    assert back.has_z
    assert np.abs(shapely.get_coordinates(back) - shapely.get_coordinates(wgs)).max() < 1e-7
