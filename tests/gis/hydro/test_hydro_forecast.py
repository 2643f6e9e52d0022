"""Downstream crest forecasts on a small network where the answer is known."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from gis.hydro.config import HydroConfig
from gis.hydro.crests import CrestParams, Point, detect_crests
from gis.hydro.errors import HydroError
from gis.hydro.forecast import forecast_changed, forecast_downstream
from gis.hydro.muskingum import route_reach
from gis.hydro.network import Reach, RiverNetwork
from gis.hydro.rating import RatingCurve
from tests.helpers.hydro import gauge

T0 = datetime(2024, 7, 1, tzinfo=timezone.utc)
GAUGES = {
    "a": gauge("a", "r", 0, 6.0, 7.0, 8.0, "b"),
    "b": gauge("b", "r", 60, 6.0, 7.0, 8.0, "c"),
    "c": gauge("c", "r", 100, 6.0, 7.0, 8.0, "t1"),
    "t1": gauge("t1", "other", 5, 6.0, 7.0, 8.0, None),
}
RATINGS = {g: RatingCurve(g, a=200.0, h0=0.5, b=1.6) for g in GAUGES}
CONFIG = HydroConfig(
    network=RiverNetwork(GAUGES, {
        "a": Reach("a", "b", k_h=15.0, x=0.2, arrival_sd_h=2.0, flow_sd=0.05),
        "b": Reach("b", "c", lag_h=6.0, arrival_sd_h=1.0, flow_sd=0.1),
        "c": Reach("c", "t1", k_h=5.0),
    }),
    ratings=RATINGS,
)
HOURS = np.arange(0, 200.0, 1.0)
BASE_Q = {"a": 1000.0, "b": 1300.0, "c": 1300.0}
WAVE = 3000.0 * np.exp(-(((HOURS - 40.0) / 12.0) ** 2))
EXCESS = {"a": WAVE, "b": np.array(route_reach(list(WAVE), 15.0, 0.2, 1.0))}
EXCESS["c"] = np.interp(HOURS - 6.0, HOURS, EXCESS["b"], left=0.0)


def stages(gauge: str, until_h: float) -> list[Point]:
    curve = RATINGS[gauge]
    return [Point(T0 + timedelta(hours=float(h)), curve.stage(BASE_Q[gauge] + q))
            for h, q in zip(HOURS, EXCESS[gauge]) if h <= until_h]


def truth(gauge: str) -> tuple[datetime, float]:
    i = int(np.argmax(EXCESS[gauge]))
    return T0 + timedelta(hours=float(HOURS[i])), RATINGS[gauge].stage(BASE_Q[gauge] + EXCESS[gauge][i])


def crest_of(points: list[Point]):  # noqa: ANN201
    return detect_crests(points, CrestParams(prominence=0.3, hysteresis=0.05, lateness=timedelta(0)))[0]


def test_with_the_whole_wave_seen_upstream_the_forecast_is_the_routed_truth() -> None:
    up = stages("a", 199)
    now = T0 + timedelta(hours=55)
    down = {g: stages(g, 55) for g in ("b", "c")}
    fcs = {f.gauge_id: f for f in forecast_downstream(CONFIG, "a", crest_of(up), [p for p in up if p.time <= now], down, now)}
    assert set(fcs) == {"b", "c"}  # t1 is on another river
    for g in ("b", "c"):
        when, stage = truth(g)
        assert fcs[g].stage == pytest.approx(stage, abs=0.01)
        assert abs((fcs[g].arrival - when).total_seconds()) <= 1800
    # The lag reach only translates: C's crest comes 6 h after B's, at the same excess flow.
    assert (fcs["c"].arrival - fcs["b"].arrival).total_seconds() == pytest.approx(6 * 3600, abs=1)


def test_just_after_the_crest_the_mirrored_rise_stands_in_for_the_unseen_fall() -> None:
    up = stages("a", 199)
    crest = crest_of(up)
    now = crest.confirmed_at
    fc = forecast_downstream(CONFIG, "a", crest, [p for p in up if p.time <= now], {"b": stages("b", 0)}, now)[0]
    when, stage = truth("b")
    # The wave is symmetric, so the mirror is nearly right; only the first hours after the crest are known.
    assert fc.stage == pytest.approx(stage, abs=0.03)
    assert abs((fc.arrival - when).total_seconds()) <= 2 * 3600
    assert fc.stage_low < stage < fc.stage_high and fc.arrival_low < when < fc.arrival_high


def test_band_grows_downstream_and_is_z_standard_deviations() -> None:
    up = stages("a", 199)
    now = T0 + timedelta(hours=60)
    fcs = forecast_downstream(CONFIG, "a", crest_of(up), up, {g: stages(g, 0) for g in ("b", "c")}, now, z=2.0)
    b, c = fcs
    assert (b.arrival_high - b.arrival).total_seconds() == pytest.approx(2 * 2.0 * 3600)
    assert (c.arrival_high - c.arrival).total_seconds() == pytest.approx(2 * math.sqrt(2.0**2 + 1.0**2) * 3600)
    assert c.stage_high - c.stage_low > b.stage_high - b.stage_low > 0
    assert RATINGS["b"].flow(b.stage_high) - b.flow == pytest.approx(0.1 * (b.flow - BASE_Q["b"]), rel=1e-4)


def test_downstream_base_flow_comes_from_its_own_readings() -> None:
    up = stages("a", 199)
    now = T0 + timedelta(hours=55)
    higher = [Point(p.time, RATINGS["b"].stage(RATINGS["b"].flow(p.stage) + 500.0)) for p in stages("b", 55)]
    fc = forecast_downstream(CONFIG, "a", crest_of(up), up, {"b": higher}, now)[0]
    _, stage = truth("b")
    assert RATINGS["b"].flow(fc.stage) == pytest.approx(RATINGS["b"].flow(stage) + 500.0, rel=0.002)


def test_gauges_without_readings_are_skipped_and_routing_goes_on() -> None:
    up = stages("a", 199)
    fcs = forecast_downstream(CONFIG, "a", crest_of(up), up, {"c": stages("c", 0)}, T0 + timedelta(hours=60))
    assert [f.gauge_id for f in fcs] == ["c"]


def test_no_rating_no_forecast() -> None:
    config = HydroConfig(network=CONFIG.network, ratings={"b": RATINGS["b"]})
    up = stages("a", 199)
    with pytest.raises(HydroError, match="no rating curve for gauge 'a'"):
        forecast_downstream(config, "a", crest_of(up), up, {}, T0 + timedelta(hours=60))


def test_changed_means_another_source_or_beyond_tolerance() -> None:
    up = stages("a", 199)
    fc = forecast_downstream(CONFIG, "a", crest_of(up), up, {"b": stages("b", 0)}, T0 + timedelta(hours=60))[0]
    assert not forecast_changed(fc, replace(fc, stage=fc.stage + 0.04))
    assert forecast_changed(fc, replace(fc, stage=fc.stage + 0.06))
    assert forecast_changed(fc, replace(fc, arrival=fc.arrival + timedelta(hours=2)))
    assert forecast_changed(fc, replace(fc, from_gauge_id="x"))
