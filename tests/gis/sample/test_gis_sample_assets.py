"""Camera ids and view sectors of the sample generator."""

import numpy as np
import pytest

from gis.sample.assets import CAMERA_TYPE, bearing_deg, camera_id, sector


def test_camera_id_layout():
    cid = camera_id("231102", "forestry", 42)
    assert len(cid) == 20 and cid.isdigit()
    assert cid[:8] == "23110200"  # centre code: GB/T 2260 county + unit
    assert cid[10:13] == CAMERA_TYPE == "132"
    assert cid[-6:] == "000042"


def test_sector_area_and_direction():
    view = sector(0.0, 0.0, heading_deg=90.0, fov_deg=60.0, range_m=1000.0, steps=120)
    assert view.area == pytest.approx(np.pi * 1000**2 * 60 / 360, rel=1e-3)
    minx, miny, maxx, maxy = view.bounds
    assert minx == pytest.approx(0.0) and maxx == pytest.approx(1000.0)  # looks east
    assert miny == pytest.approx(-500.0, abs=1) and maxy == pytest.approx(500.0, abs=1)


def test_bearing_clockwise_from_north():
    got = bearing_deg(np.zeros(4), np.zeros(4), np.array([0, 1, 0, -1.0]), np.array([1, 0, -1, 0.0]))
    assert got.tolist() == [0.0, 90.0, 180.0, 270.0]
