"""WGS84 <-> UTM 52N transforms."""

import numpy as np
import pytest
import shapely

from gis.crs import geom_to_metric, geom_to_wgs84, to_metric, to_wgs84


def test_central_meridian_and_equator():
    # UTM zone 52 has its central meridian at 129 E, false easting 500 km, northing 0 at the equator
    x, y = to_metric([129.0, 129.0], [0.0, 50.0])
    assert x == pytest.approx([500_000.0, 500_000.0], abs=1e-6)
    assert y[0] == pytest.approx(0.0, abs=1e-6)
    assert 5_538_000 < y[1] < 5_540_000  # 50 N on the central meridian: 0.9996 x 5,540,847 m of meridian arc


def test_round_trip():
    lon, lat = np.array([124.7, 127.5, 129.5]), np.array([47.6, 50.25, 51.0])
    back = to_wgs84(*to_metric(lon, lat))
    assert np.allclose(back[0], lon, atol=1e-9) and np.allclose(back[1], lat, atol=1e-9)


def test_geometry_area_in_square_metres():
    cell = shapely.box(127.5, 50.0, 127.51, 50.01)  # ~0.01 deg square at 50 N
    area = geom_to_metric(cell).area
    assert 700_000 < area < 800_000  # 0.01 deg lat ~ 1112 m, 0.01 deg lon ~ 715 m
    assert geom_to_wgs84(geom_to_metric(cell)).equals_exact(cell, 1e-9)
