"""GCJ-02 <-> WGS84 against published known points and by round trip."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gis.gcj02 import gcj02_to_wgs84, in_china, wgs84_to_gcj02

# Test vectors of googollee/eviltransform (its test suite: Shanghai, Shenzhen, Beijing),
# (wgs_lat, wgs_lon, gcj_lat, gcj_lon).
KNOWN = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
]


@pytest.mark.parametrize("wlat,wlon,glat,glon", KNOWN)
def test_forward_matches_published_points(wlat, wlon, glat, glon):
    lon, lat = wgs84_to_gcj02(wlon, wlat)
    assert lon == pytest.approx(glon, abs=1e-9)
    assert lat == pytest.approx(glat, abs=1e-9)


@pytest.mark.parametrize("wlat,wlon,glat,glon", KNOWN)
def test_inverse_recovers_wgs84_of_published_points(wlat, wlon, glat, glon):
    lon, lat = gcj02_to_wgs84(glon, glat)
    assert lon == pytest.approx(wlon, abs=1e-8)  # ~1 mm
    assert lat == pytest.approx(wlat, abs=1e-8)


def test_offset_at_heihe_is_hundreds_of_metres():
    lon, lat = wgs84_to_gcj02(127.5, 50.25)
    east_m = (lon - 127.5) * 111_320 * np.cos(np.radians(50.25))
    north_m = (lat - 50.25) * 110_540
    assert 100 < np.hypot(east_m, north_m) < 1000


def test_outside_china_is_unchanged():
    assert not in_china(2.35, 48.85)
    lon, lat = gcj02_to_wgs84(2.35, 48.85)
    assert (lon, lat) == (2.35, 48.85)


@given(st.floats(73.0, 135.0), st.floats(18.0, 53.5))
def test_round_trip_within_a_millimetre(lon, lat):
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert abs(back_lon - lon) < 1e-8 and abs(back_lat - lat) < 1e-8


def test_vectorised_matches_scalar():
    lons, lats = np.array([121.531541859215, 127.5]), np.array([31.17530398364597, 50.25])
    vec = gcj02_to_wgs84(lons, lats)
    for i in range(2):
        one = gcj02_to_wgs84(lons[i], lats[i])
        assert vec[0][i] == pytest.approx(float(one[0]), abs=1e-12)
        assert vec[1][i] == pytest.approx(float(one[1]), abs=1e-12)
