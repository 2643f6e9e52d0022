"""The FWI System against the published Van Wagner & Pickett (1985) test table, plus its invariants."""

import csv

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gis import fwi as F
from tests.conftest import TESTS

REFERENCE = TESTS / "data" / "gis_fwi_reference.csv"
COMPONENTS = ("ffmc", "dmc", "dc", "isi", "bui", "fwi")

def _reference_rows():
    with REFERENCE.open() as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


def _run(rows):
    codes = (F.FFMC_START, F.DMC_START, F.DC_START)
    out = []
    for r in rows:
        day = F.fwi_day(float(r["temp"]), float(r["rh"]), float(r["wind"]), float(r["rain"]), int(r["mon"]), *codes)
        codes = (day.ffmc, day.dmc, day.dc)
        out.append(day)
    return out


def test_reproduces_the_published_van_wagner_pickett_table_within_0_1_every_day():
    """Van Wagner & Pickett (1985), Forestry Technical Report 33: the FORTRAN program's test data,
    49 days from start-up values 85/6/15, all six components (data file cites its source)."""
    rows = _reference_rows()
    assert len(rows) == 49
    for r, day in zip(rows, _run(rows)):
        for name in COMPONENTS:
            got, published = float(getattr(day, name)), float(r[name])
            assert abs(got - published) <= 0.1, f"{r['mon']}/{r['day']} {name}: {got:.3f} vs published {published}"


def test_first_days_print_exactly_as_published():
    rows = _reference_rows()[:5]
    for r, day in zip(rows, _run(rows)):
        assert [round(float(getattr(day, n)), 1) for n in COMPONENTS] == [float(r[n]) for n in COMPONENTS]


def test_vectorised_equals_one_station_at_a_time():
    rows = _reference_rows()[:10]
    temps = np.array([float(r["temp"]) for r in rows])
    rh = np.array([float(r["rh"]) for r in rows])
    wind = np.array([float(r["wind"]) for r in rows])
    rain = np.array([float(r["rain"]) for r in rows])
    together = F.fwi_day(temps, rh, wind, rain, 4)
    for i in range(len(rows)):
        alone = F.fwi_day(temps[i], rh[i], wind[i], rain[i], 4)
        assert float(alone.fwi) == pytest.approx(together.fwi[i], rel=1e-12)


@pytest.mark.parametrize("value,cls", [
    (0.0, F.DangerClass.VERY_LOW), (5.19, F.DangerClass.VERY_LOW), (5.2, F.DangerClass.LOW),
    (11.2, F.DangerClass.MODERATE), (21.29, F.DangerClass.MODERATE), (21.3, F.DangerClass.HIGH),
    (38.0, F.DangerClass.VERY_HIGH), (49.9, F.DangerClass.VERY_HIGH), (50.0, F.DangerClass.EXTREME),
])
def test_effis_danger_classes(value, cls):
    assert F.danger_class(value) is cls


def test_day_length_factors_are_the_standard_tables():
    assert F.DMC_DAY_LENGTH[3] == 12.8 and F.DMC_DAY_LENGTH[6] == 12.4
    assert F.DC_DAY_LENGTH[0] == -1.6 and F.DC_DAY_LENGTH[6] == 6.4


def test_rejects_impossible_weather():
    with pytest.raises(ValueError, match="humidity"):
        F.fwi_day(20, 101, 10, 0, 6)
    with pytest.raises(ValueError, match="rain"):
        F.fwi_day(20, 50, 10, -1, 6)


weather = st.tuples(st.floats(-10, 40), st.floats(0, 100), st.floats(0, 80), st.floats(0, 60))


@given(weather, st.integers(1, 12), st.floats(0, 101), st.floats(0, 300), st.floats(0, 800))
def test_outputs_stay_in_range(w, month, f0, p0, d0):
    day = F.fwi_day(*w, month, f0, p0, d0)
    assert 0.0 <= float(day.ffmc) <= 101.0
    assert float(day.dmc) >= 0 and float(day.dc) >= 0 and float(day.bui) >= 0
    assert float(day.isi) >= 0 and float(day.fwi) >= 0


@given(st.floats(0, 60), st.floats(0, 60), st.floats(0, 500))
def test_fwi_never_falls_as_isi_or_bui_rises(isi, extra, bui):
    assert F.fwi(isi + extra, bui) >= F.fwi(isi, bui) - 1e-9
    assert F.fwi(isi, bui + extra) >= F.fwi(isi, bui) - 1e-9


@given(st.floats(0, 101), st.floats(0, 60), st.floats(0, 60))
def test_isi_never_falls_as_wind_rises(ffmc, wind, extra):
    assert F.isi(ffmc, wind + extra) >= F.isi(ffmc, wind) - 1e-9
