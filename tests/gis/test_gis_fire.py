"""Station weather -> cell FWI, and vision findings -> cells."""

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from gis import fwi as F
from gis import registry as R
from gis.fire import CellCodes, cell_fwi, vision_by_cell
from gis.grid import GridModel

NOW = datetime(2026, 5, 20, 12, tzinfo=timezone(timedelta(hours=8)))


@dataclass(frozen=True)
class Finding:
    camera_id: str
    kind: str
    score: float
    confirmed: bool
    event_time: datetime


def test_uniform_weather_gives_the_station_fwi_everywhere():
    model = GridModel.from_registry()
    stations = R.load_stations()[:10]
    n = len(stations)
    day = cell_fwi(model, [s.lon for s in stations], [s.lat for s in stations], np.full(n, 17.0), np.full(n, 42.0),
                   np.full(n, 25.0), np.zeros(n), 4, CellCodes.start(model.size))
    # Van Wagner & Pickett (1985) first test day: FWI 10.1
    assert np.allclose(day.fwi, float(F.fwi_day(17, 42, 25, 0, 4).fwi))
    assert round(float(day.fwi[0]), 1) == 10.1


def test_findings_reach_the_cells_the_camera_sees():
    cov = R.CameraCoverage.load()
    cam = next(c for c in R.load_cameras() if c.department == "forestry")
    seen = cov.cells_seen_by(cam.camera_id)
    got = vision_by_cell([Finding(cam.camera_id, "fire", 0.9, True, NOW - timedelta(minutes=5))], cov, now=NOW)
    assert got[seen[0].cell_code] == pytest.approx(0.9)
    assert set(got) <= {v.cell_code for v in seen}
    smoke = vision_by_cell([Finding(cam.camera_id, "smoke", 1.0, True, NOW)], cov, now=NOW)
    assert smoke[seen[0].cell_code] == pytest.approx(0.7)


@pytest.mark.parametrize("finding", [
    Finding("x", "fire", 0.9, False, NOW),  # not confirmed
    Finding("x", "fire", 0.9, True, NOW - timedelta(hours=2)),  # too old
    Finding("x", "fire", 0.9, True, NOW + timedelta(minutes=1)),  # from the future
    Finding("x", "blurred", 0.9, True, NOW),  # a camera-health finding
])
def test_ignored_findings(finding):
    cov = R.CameraCoverage.load()
    cam = R.load_cameras()[0].camera_id
    assert vision_by_cell([Finding(cam, finding.kind, finding.score, finding.confirmed, finding.event_time)], cov,
                          now=NOW) == {}
