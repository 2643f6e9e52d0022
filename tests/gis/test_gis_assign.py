"""Point -> cell assignment, camera coverage ranking and IDW."""

import numpy as np
import pyogrio
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from gis import registry as R
from gis.assign import CellIndex, assign_points, cameras_seeing, idw


@pytest.fixture(scope="module")
def index():
    cells = pyogrio.read_dataframe(R.DEFAULT_DATA_DIR / "cells_sample.geojson", columns=["code"])
    return CellIndex.build(cells["code"].to_numpy(), cells.geometry.to_numpy())


def test_every_cells_own_point_lands_in_it(index):
    cells = R.load_cells()
    lon = np.array([c.lon for c in cells])
    lat = np.array([c.lat for c in cells])
    got = assign_points(index, lon, lat)
    expected = np.array([c.cell_code for c in cells])
    assert not got.outside.any()
    assert (got.cell_code == expected).mean() > 0.999  # a point exactly on a shared edge may go either way


def test_outside_points_are_reported_not_dropped(index):
    lon = np.array([116.39, 127.50, 128.0])  # Beijing; Heihe centre; Russia's bank (Blagoveshchensk side)
    lat = np.array([39.91, 50.245, 50.6])
    got = assign_points(index, lon, lat)
    assert got.index.shape == (3,)
    assert got.outside.tolist() == [True, False, True]
    assert got.cell_code[0] == "" and got.cell_code[1].startswith("231102")


def test_levels_of_a_point(index):
    got = assign_points(index, [127.50], [50.245])
    code = got.cell_code[0]
    assert got.level("city")[0] == "231100"
    assert got.level("county")[0] == "231102"
    assert got.level("township")[0] == code[:9]
    assert got.level("village")[0] == code[:12]
    assert got.level("cell")[0] == code


def _sector(x, y, heading, fov, rng):
    a = np.radians(heading + np.linspace(-fov / 2, fov / 2, 13))
    return shapely.Polygon([(x, y), *zip(x + rng * np.sin(a), y + rng * np.cos(a)), (x, y)])


def test_cameras_ranked_by_share_seen_then_distance():
    area = shapely.box(0, 0, 100, 100)
    views = [
        shapely.box(-50, -50, 50, 150),  # sees the west half
        shapely.box(-1000, -1000, 1000, 1000),  # sees all of it, from far away
        shapely.box(-10, -10, 110, 110),  # sees all of it, nearer
        shapely.box(500, 500, 600, 600),  # sees nothing
    ]
    got = cameras_seeing(area, ["half", "far", "near", "none"], views, [0, -900, -5, 550], [0, -900, -5, 550])
    assert [g.camera_id for g in got] == ["near", "far", "half"]
    assert got[0].fraction_seen == pytest.approx(1.0) and got[2].fraction_seen == pytest.approx(0.5)
    assert got[0].distance_m < got[1].distance_m


def test_idw_basics():
    sx, sy = np.array([0.0, 10.0]), np.array([0.0, 0.0])
    assert idw(sx, sy, [2.0, 4.0], [0.0, 5.0, 10.0], [0.0, 0.0, 0.0]).tolist() == [2.0, 3.0, 4.0]
    multi = idw(sx, sy, np.array([[1.0, 10.0], [3.0, 30.0]]), [5.0], [0.0])
    assert multi.tolist() == [[2.0, 20.0]]
    assert idw(sx, sy, [np.nan, 4.0], [0.0], [0.0]).tolist() == [4.0]  # a station without data is skipped
    with pytest.raises(ValueError):
        idw(sx, sy, [np.nan, np.nan], [0.0], [0.0])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(-1e4, 1e4), st.floats(-1e4, 1e4), st.floats(-30, 40)), min_size=1, max_size=12),
       st.floats(-2e4, 2e4), st.floats(-2e4, 2e4))
def test_idw_stays_within_station_range(stations, tx, ty):
    sx, sy, v = (np.array(c) for c in zip(*stations))
    got = idw(sx, sy, v, [tx], [ty], k=8)[0]
    assert v.min() - 1e-9 <= got <= v.max() + 1e-9
