"""Least-squares Muskingum calibration: recovers known K and X."""

from __future__ import annotations

import csv
import math
import random

import pytest

from gis.hydro.calibrate import calibrate, fit_of
from gis.hydro.errors import InvalidSeries
from gis.hydro.muskingum import route
from tests.conftest import TESTS

DATA = TESTS / "data" / "hydro"


def _wave(n: int = 90, dt: float = 4.0) -> list[float]:
    return [150 + 2400 * math.exp(-(((j * dt) - 80) / 30) ** 2) for j in range(n)]


def test_recovers_k_and_x_of_a_synthetic_routed_flood() -> None:
    inflow = _wave()
    outflow = route(inflow, 8.0, 0.2, 4.0)
    result = calibrate(inflow, outflow, 4.0)
    assert result.k_h == pytest.approx(8.0, rel=1e-3)
    assert result.x == pytest.approx(0.2, abs=1e-3)
    assert result.fit.nse > 0.999999 and result.fit.rmse < 0.5


@pytest.mark.parametrize("seed", range(6))
def test_recovers_k_and_x_through_measurement_noise(seed: int) -> None:
    # 1 % multiplicative noise on the outflow: K stays well determined, X (the wedge weight) less so.
    rng = random.Random(seed)
    inflow = _wave()
    outflow = [q * (1 + rng.gauss(0, 0.01)) for q in route(inflow, 10.0, 0.15, 4.0)]
    result = calibrate(inflow, outflow, 4.0)
    assert result.k_h == pytest.approx(10.0, rel=0.02)
    assert result.x == pytest.approx(0.15, abs=0.035)
    assert 0.999 < result.fit.nse < 1.0


def test_chow_table_gives_back_the_books_k_and_x() -> None:
    # Chow, Maidment & Mays (1988) Example 8.4: the printed outflow was routed with K = 2.3 h, X = 0.15.
    with (DATA / "chow_1988_example_8_4.csv").open() as fh:
        rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    result = calibrate([float(r["inflow"]) for r in rows], [float(r["outflow"]) for r in rows], 1.0)
    assert result.k_h == pytest.approx(2.3, abs=0.02)
    assert result.x == pytest.approx(0.15, abs=0.01)
    assert result.fit.rmse < 0.5  # the table is rounded to whole cfs


def test_fit_measures() -> None:
    fit = fit_of([1.0, 3.0, 2.0], [1.0, 2.0, 4.0])
    assert fit.rmse == pytest.approx(math.sqrt(5 / 3))
    assert fit.nse == pytest.approx(1 - 5 / 2)
    assert fit.peak_error == pytest.approx(1.0)
    assert fit.peak_time_error_steps == 1


def test_bad_input_is_refused() -> None:
    with pytest.raises(InvalidSeries, match="inflow has 5 steps but outflow has 4"):
        calibrate([1.0] * 5, [1.0] * 4, 1.0)
    with pytest.raises(InvalidSeries, match="at least 4"):
        calibrate([1.0] * 3, [1.0] * 3, 1.0)
