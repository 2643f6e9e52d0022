"""Crest detection: analytic waves with noise, spikes, gaps and out-of-order readings."""

from __future__ import annotations

import dataclasses
import math
import random
from datetime import datetime, timedelta, timezone

import msgspec
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import find_peaks

from gis.hydro.crests import (
    CrestParams,
    CrestState,
    Point,
    crest_events,
    detect_crests,
    flush,
    step,
    trend,
)
from gis.hydro.errors import HydroError
from stream.schemas import TrendState

T0 = datetime(2021, 7, 1, tzinfo=timezone(timedelta(hours=8)))
STEP = timedelta(minutes=15)
PARAMS = CrestParams(prominence=0.3, hysteresis=0.1, lateness=timedelta(hours=1))

# Two flood waves on a 4.0 m base: crests of 6.5 m at 40 h and 5.8 m at 110 h.
WAVES = ((40.0, 2.5, 12.0), (110.0, 1.8, 10.0))


def stage_at(hours: float) -> float:
    return 4.0 + sum(h * math.exp(-(((hours - c) / w) ** 2)) for c, h, w in WAVES)


def series(hours: float = 160.0) -> list[Point]:
    n = int(hours / 0.25)
    return [Point(T0 + i * STEP, stage_at(i * 0.25)) for i in range(n)]


def test_clean_waves_give_their_analytic_crests() -> None:
    crests = detect_crests(series(), PARAMS)
    # The 3-point median clips a sharp maximum to its higher neighbour (a millimetre low on
    # these waves); the time is the middle of the flat top, i.e. the true crest time.
    for crest, hours in zip(crests, (40, 110), strict=True):
        assert crest.time == T0 + timedelta(hours=hours)
        assert crest.stage == pytest.approx(stage_at(hours), abs=0.002)
    # Between the waves the stage bottoms out near the base, which is where the second rise starts.
    trough_h = min(range(40 * 4, 110 * 4), key=lambda i: stage_at(i / 4)) / 4
    assert crests[1].rise_start == T0 + timedelta(hours=trough_h)
    assert crests[1].prominence == pytest.approx(stage_at(110) - stage_at(trough_h), abs=0.002)
    assert crests[0].prominence == pytest.approx(stage_at(40) - stage_at(0), abs=0.002)


def test_agrees_with_scipy_peak_prominence_on_a_clean_series() -> None:
    # Reference: scipy.signal.find_peaks (topographic prominence) on the same samples.
    pts = series()
    stages = np.array([p.stage for p in pts])
    peaks, props = find_peaks(stages, prominence=0.3)
    ours = detect_crests(pts, PARAMS)
    assert len(peaks) == len(ours) == 2
    assert [pts[i].time for i in peaks] == [c.time for c in ours]
    # Both waves fall back almost to the base, so the two prominences agree to a centimetre.
    assert [round(p, 2) for p in props["prominences"]] == [round(c.prominence, 2) for c in ours]


def _messy(seed: int) -> tuple[list[Point], int]:
    """Noise, one spike, a 6-h gap and shuffled arrival within 45 min; returns (readings, dropped)."""
    rng = random.Random(seed)
    pts = [Point(p.time, p.stage + rng.gauss(0, 0.01)) for p in series()]
    spike_at = 30 * 4  # on the rising limb of the first wave
    pts[spike_at] = Point(pts[spike_at].time, pts[spike_at].stage + 1.5)
    pts = [p for p in pts if not (T0 + timedelta(hours=60) <= p.time < T0 + timedelta(hours=66))]
    arrival = sorted(pts, key=lambda p: p.time + timedelta(minutes=rng.uniform(0, 45)))
    return arrival, 0


@pytest.mark.parametrize("seed", range(5))
def test_noise_spike_gap_and_disorder_still_give_each_crest_once(seed: int) -> None:
    readings, _ = _messy(seed)
    crests = detect_crests(readings, PARAMS)
    assert len(crests) == 2
    for crest, (centre, height, _) in zip(crests, WAVES):
        assert abs((crest.time - (T0 + timedelta(hours=centre))).total_seconds()) <= 2 * 3600
        assert crest.stage == pytest.approx(4.0 + height, abs=0.04)
        # Confirmed after a fall of `hysteresis`: a few hours after the crest, never before it.
        assert timedelta(0) < crest.confirmed_at - crest.time < timedelta(hours=8)


def test_single_reading_spike_is_not_a_crest() -> None:
    pts = [Point(T0 + i * STEP, 4.0) for i in range(40)]
    pts[20] = Point(pts[20].time, 9.0)
    assert detect_crests(pts, PARAMS) == []


def test_noise_around_a_crest_reports_it_once() -> None:
    # A plateau with +-0.04 m chatter (below the 0.1 m hysteresis) after a 1 m rise.
    rise = [Point(T0 + i * STEP, 4.0 + 0.05 * i) for i in range(20)]
    chatter = [Point(T0 + (20 + i) * STEP, 5.0 + (0.04 if i % 2 else -0.04)) for i in range(40)]
    fall = [Point(T0 + (60 + i) * STEP, 5.0 - 0.05 * i) for i in range(20)]
    crests = detect_crests(rise + chatter + fall, PARAMS)
    assert len(crests) == 1
    assert crests[0].stage == pytest.approx(5.04)


def test_small_bumps_below_the_prominence_are_ignored() -> None:
    pts = [Point(T0 + i * STEP, 4.0 + 0.12 * math.sin(i / 6)) for i in range(200)]
    assert detect_crests(pts, PARAMS) == []


def test_late_readings_are_dropped_and_counted() -> None:
    state = CrestState()
    for i in range(20):
        state, _ = step(state, Point(T0 + i * STEP, 4.0), PARAMS)
    assert state.late_dropped == 0
    state, crests = step(state, Point(T0 + 2 * STEP, 99.0), PARAMS)  # 4 h late, lateness is 1 h
    assert crests == () and state.late_dropped == 1


def test_a_repeated_time_replaces_the_pending_reading() -> None:
    state, _ = step(CrestState(), Point(T0, 4.0), PARAMS)
    state, _ = step(state, Point(T0, 4.5), PARAMS)
    assert state.pending == (Point(T0, 4.5),)


def test_trend_reports_rate_of_rise_in_metres_per_hour() -> None:
    state = CrestState()
    for i in range(30):
        state, _ = step(state, Point(T0 + i * STEP, 4.0 + 0.05 * i * 0.25), PARAMS)
    state, _ = flush(state, PARAMS)
    t = trend(state, PARAMS)
    assert t is not None and t.state is TrendState.RISING
    assert t.rate_per_h == pytest.approx(0.05)
    flat = CrestState()
    for i in range(30):
        flat, _ = step(flat, Point(T0 + i * STEP, 4.0), PARAMS)
    assert trend(flat, PARAMS).state is TrendState.STEADY  # type: ignore[union-attr]
    assert trend(CrestState(), PARAMS) is None


def test_state_survives_a_msgspec_round_trip() -> None:
    # The stream keeps this state in a Faust table as msgspec JSON.
    state = CrestState()
    for p in series(50.0):
        state, _ = step(state, p, PARAMS)
    again = msgspec.json.decode(msgspec.json.encode(state), type=CrestState)
    assert again == state
    rest = series(160.0)[200:]
    assert detect_from(state, rest) == detect_from(again, rest)


def detect_from(state: CrestState, points: list[Point]) -> list:
    out = []
    for p in points:
        state, crests = step(state, p, PARAMS)
        out += crests
    return out + list(flush(state, PARAMS)[1])


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), jitter_min=st.integers(0, 59))
def test_arrival_order_within_the_lateness_does_not_change_the_crests(seed: int, jitter_min: int) -> None:
    rng = random.Random(seed)
    pts = [Point(p.time, p.stage + rng.gauss(0, 0.02)) for p in series(140.0)]
    shuffled = sorted(pts, key=lambda p: p.time + timedelta(minutes=rng.uniform(0, jitter_min)))
    assert detect_crests(shuffled, PARAMS) == detect_crests(pts, PARAMS)


@pytest.mark.parametrize(
    "kwargs", [{"prominence": 0.0}, {"hysteresis": 0.5, "prominence": 0.3}, {"median_window": 2}, {"lateness": timedelta(-1)}]
)
def test_bad_params_are_refused(kwargs: dict) -> None:
    with pytest.raises(HydroError):
        CrestParams(**kwargs)


# --------------------------------------------------------------------------- announced early, revised, confirmed

REVISE = CrestParams(prominence=0.3, hysteresis=0.1, lateness=timedelta(0))


def hourly(stages: list[float]) -> list[Point]:
    return [Point(T0 + timedelta(hours=i), s) for i, s in enumerate(stages)]


def kinds(events) -> list[str]:  # noqa: ANN001
    return [e.kind.value for e in events]


def test_a_double_humped_rise_is_one_crest_announced_early_and_revised() -> None:
    # Rises 1 m, pauses and dips 0.15 m (more than the announcing fall, less than the prominence),
    # then rises higher and falls away: one crest, first announced at the first hump.
    stages = [4.0, 4.3, 4.6, 5.0, 5.0, 4.85, 4.85, 5.2, 5.6, 5.9, 5.6, 5.2, 4.8, 4.4, 4.2]
    events = crest_events(hourly(stages), REVISE)
    assert kinds(events) == ["detected", "revised", "confirmed"]
    detected, revised, confirmed = (e.crest for e in events)
    assert (detected.time, detected.stage) == (T0 + timedelta(hours=3), 5.0)  # the first of the flat top
    assert (revised.time, revised.stage, revised.revision) == (T0 + timedelta(hours=9), 5.9, 1)
    assert events[1].previous == detected and detected.confirmed_at < revised.confirmed_at <= confirmed.confirmed_at
    assert confirmed.final and (confirmed.time, confirmed.stage) == (revised.time, revised.stage)
    # the offline answer, and scipy's, see one crest there too
    assert len(find_peaks(np.array(stages), prominence=0.3)[0]) == 1
    assert detect_crests(hourly(stages), REVISE) == [confirmed]


def test_a_plateau_is_one_crest_at_its_first_reading() -> None:
    stages = [4.0, 4.4, 4.8, 5.1] + [5.3] * 8 + [5.0, 4.7, 4.4, 4.1]
    events = crest_events(hourly(stages), REVISE)
    assert kinds(events) == ["detected", "confirmed"]
    assert events[0].crest.time == T0 + timedelta(hours=4) and events[0].crest.stage == 5.3
    # find_peaks reports the plateau's middle sample; the reading reported is where the water first stood there
    peaks, _ = find_peaks(np.array(stages), prominence=0.3)
    assert list(peaks) == [7]


def test_a_small_bump_on_the_recession_is_not_a_crest() -> None:
    # After the crest the stage falls 0.5 m, rises 0.2 m again (a bump below the prominence), then falls on.
    stages = [4.0, 4.5, 5.0, 5.5, 5.2, 5.0, 5.2, 5.1, 4.8, 4.5, 4.3, 4.1]
    events = crest_events(hourly(stages), REVISE)
    assert kinds(events) == ["detected", "confirmed"]
    assert events[0].crest.stage == 5.5
    assert len(find_peaks(np.array(stages), prominence=0.3)[0]) == 1


def test_two_crests_separated_by_the_prominence_are_two() -> None:
    stages = [4.0, 4.5, 5.0, 4.9, 4.6, 4.5, 4.6, 5.1, 5.3, 5.0, 4.6, 4.3]
    events = crest_events(hourly(stages), REVISE)
    assert kinds(events) == ["detected", "confirmed", "detected", "confirmed"]
    assert [e.crest.stage for e in events if e.kind.value == "detected"] == [5.0, 5.3]


def test_late_and_out_of_order_readings_within_the_lateness_give_the_same_events() -> None:
    stages = [4.0, 4.3, 4.6, 5.0, 5.0, 4.85, 4.85, 5.2, 5.6, 5.9, 5.6, 5.2, 4.8, 4.4, 4.2]
    in_order = hourly(stages)
    params = replace_params(REVISE, lateness=timedelta(hours=2))
    shuffled = sorted(in_order, key=lambda p: (p.time + timedelta(minutes=90 * ((p.time.hour * 7) % 3 == 0))))
    assert shuffled != in_order
    assert crest_events(shuffled, params) == crest_events(in_order, params)
    # a reading later than the lateness is dropped and counted, not used
    state = CrestState()
    for p in in_order:
        state, _ = step(state, p, params)
    state, events = step(state, Point(T0 + timedelta(hours=9), 9.9), params)
    assert events == () and state.late_dropped == 1


def test_a_single_high_reading_at_the_top_is_a_spike_not_the_crest() -> None:
    # the median finds the crest; a reading standing more than `spike` above the filtered top is not reported
    stages = [4.0, 4.4, 4.8, 5.2, 5.25, 7.0, 5.2, 4.8, 4.4, 4.0]
    crest = detect_crests(hourly(stages), REVISE)[0]
    assert crest.stage == 5.25 and crest.time == T0 + timedelta(hours=4)
    sharp = [4.0, 4.4, 4.8, 5.2, 5.35, 5.2, 4.8, 4.4, 4.0]  # a sharp real crest keeps its observed stage
    assert detect_crests(hourly(sharp), REVISE)[0].stage == 5.35


def replace_params(params: CrestParams, **changes) -> CrestParams:  # noqa: ANN003
    return dataclasses.replace(params, **changes)
