"""Muskingum on a real reach, beside the naive method (docs/hydrology.md, "Checked on a real reach").

USGS Nonewaug (01203600) + Weekeepeemee (01203805) -> Pomperaug at Southbury (01204000), Connecticut:
calibrated on the flood of 18 December 2023, forecasting the crests of 10 and 13 January 2024
(tests/data/hydro/README.md). The bounds in brackets in docs/hydrology.md are asserted here.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from gis.hydro.calibrate import calibrate
from gis.hydro.errors import InvalidSeries
from gis.hydro.reach import Flood, check_reach, muskingum_crest, naive_reach
from gis.hydro.series import read_series
from tests.conftest import TESTS

DATA = TESTS / "data" / "hydro"
SPLIT = datetime(2024, 1, 12, 12, tzinfo=timezone.utc)  # between the floods of 10 and 13 January


def flood(day: str, after: datetime | None = None, before: datetime | None = None) -> Flood:
    n, w, p = (read_series(DATA / f"usgs_{site}_flood_{day}.csv") for site in ("01203600", "01203805", "01204000"))
    assert [r.time for r in n] == [r.time for r in w] == [r.time for r in p]
    keep = [i for i, r in enumerate(p) if (after is None or r.time >= after) and (before is None or r.time < before)]
    return Flood(tuple(p[i].time for i in keep), tuple(n[i].value + w[i].value for i in keep),
                 tuple(p[i].value for i in keep))


CALIBRATION = flood("2023-12-18")
LATER = [flood("2024-01-10", before=SPLIT), flood("2024-01-10", after=SPLIT)]


def test_calibration_on_the_december_flood_is_stable_and_fits() -> None:
    check = check_reach(CALIBRATION, LATER)
    cal = check.calibration
    assert 2 * cal.k_h * cal.x <= cal.dt_h <= 2 * cal.k_h * (1 - cal.x)  # Chow's stability bounds
    assert cal.fit.nse > 0.95 and abs(cal.fit.peak_time_error_steps) <= 2
    # the reach gains water on the way: the flood grows from the tributary gauges to Southbury
    assert cal.inflow_scale > 1.3
    # without the lateral inflow, routing cannot make the volume and the fit is much worse
    plain = calibrate(CALIBRATION.inflow, CALIBRATION.outflow, CALIBRATION.dt_h)
    assert plain.fit.nse < cal.fit.nse - 0.1


def test_crests_of_the_next_floods_by_muskingum_and_by_the_naive_method() -> None:
    check = check_reach(CALIBRATION, LATER)
    assert check.naive.travel_h == 5.0  # 18 December: tributaries' crest 09:00, Southbury 14:00 (hourly readings)
    for musk, naive in zip(check.muskingum, check.naive_errors):
        assert musk.observed == naive.observed
        assert abs(musk.time_error_h) <= 1.0  # [<= 1 h]
        assert -20.0 <= musk.flow_error_pct <= 0.0  # [-20 % .. 0]: the routed wave arrives, lower
        assert abs(naive.time_error_h) <= 2.0  # [<= 2 h]
        assert abs(naive.flow_error_pct) <= 15.0  # [<= 15 %]


def test_naive_reach_means_travel_and_ratio_over_floods() -> None:
    both = naive_reach([CALIBRATION, *LATER])
    one = [naive_reach([f]) for f in (CALIBRATION, *LATER)]
    assert both.travel_h == pytest.approx(sum(n.travel_h for n in one) / 3)
    assert both.ratio == pytest.approx(sum(n.ratio for n in one) / 3)


def test_a_flood_on_another_time_step_is_refused() -> None:
    hourly = check_reach(CALIBRATION, LATER).calibration
    every_other = Flood(LATER[0].times[::2], LATER[0].inflow[::2], LATER[0].outflow[::2])
    with pytest.raises(InvalidSeries, match="differs from the calibration's 1 h"):
        muskingum_crest(hourly, every_other)
