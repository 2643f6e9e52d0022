"""The per-reading pipeline: gauge reports, history thinning, state in tables (msgspec)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import msgspec

from gis.hydro.alerts import Thresholds
from gis.hydro.config import load_config
from gis.hydro.crests import Crest, Point
from gis.hydro.numbering import seed_season
from gis.hydro.pipeline import (
    GaugeMemory,
    HydroContext,
    HydroState,
    OpenCrest,
    PipelineParams,
    RiverState,
    observe,
    process,
)
from stream.schemas import Colour, TrendState

T0 = datetime(2024, 8, 1, tzinfo=timezone.utc)
T = Thresholds("g", 7.0, 8.0, 9.0, approach_margin_m=0.5, hysteresis_m=0.1)
PARAMS = PipelineParams(history=timedelta(hours=12), history_step=timedelta(minutes=30))


def feed(memory: GaugeMemory, stages: list[float], start_min: int = 0):  # noqa: ANN201
    reports = []
    for i, s in enumerate(stages):
        memory, report, _ = observe(memory, Point(T0 + timedelta(minutes=start_min + 15 * i), s), T, PARAMS)
        reports.append(report)
    return memory, reports


def test_reports_trend_and_colour_as_the_stage_rises() -> None:
    memory, reports = feed(GaugeMemory(), [6.0 + 0.02 * i for i in range(80)])  # 8 cm/h
    last = [r for r in reports if r is not None][-1]
    assert last.trend.state is TrendState.RISING
    assert abs(last.trend.rate_per_h - 0.08) < 1e-9
    assert last.colour is Colour.YELLOW  # smoothed stage passed 7.0 m
    colours = [r.colour for r in reports if r is not None]
    assert colours.index(Colour.BLUE) < colours.index(Colour.YELLOW)
    assert memory.colour is Colour.YELLOW


def test_history_is_thinned_and_bounded_but_keeps_the_newest_point() -> None:
    memory, _ = feed(GaugeMemory(), [5.0] * (4 * 24))  # 24 h at 15 min
    times = [p.time for p in memory.history]
    assert times[-1] == memory.detector.smooth[-1].time
    assert all(b - a >= timedelta(minutes=15) for a, b in zip(times, times[1:]))
    assert all(b - a >= timedelta(minutes=30) for a, b in zip(times[:-2], times[1:-1]))
    assert times[-1] - times[0] <= timedelta(hours=12)


def test_state_round_trips_through_msgspec_as_a_table_value() -> None:
    memory, _ = feed(GaugeMemory(), [6.0 + 0.02 * i for i in range(40)])
    assert msgspec.json.decode(msgspec.json.encode(memory), type=GaugeMemory) == memory
    wave = OpenCrest("heilongjiang", 2024, 5, "hlj-huma", Crest(T0, 8.3, 3.0, T0 - timedelta(days=2), 5.3, T0 + timedelta(hours=6)))
    assert msgspec.json.decode(msgspec.json.encode(wave), type=OpenCrest) == wave


def test_threshold_colour_does_not_wait_for_the_lateness_allowance() -> None:
    # 15-min readings; the detector holds readings 1 h for late arrivals, the colour must not
    memory, reports = feed(GaugeMemory(), [6.0, 6.1, 7.2, 7.3, 7.4])
    assert reports[-1] is not None and reports[-1].colour is Colour.YELLOW
    assert reports[-1].trend.time == T0 + timedelta(minutes=45)  # median of the newest three readings


def test_a_single_spike_does_not_change_the_colour() -> None:
    memory, reports = feed(GaugeMemory(), [6.0, 6.0, 6.0, 9.5, 6.0, 6.0])
    assert all(r is None or r.colour is Colour.GREEN for r in reports)


def test_a_crest_announced_early_and_revised_keeps_its_number_and_the_forecast_follows() -> None:
    # Oupu rises 1.5 m, pauses and dips 0.15 m (enough to announce a crest, not to confirm it), then rises
    # 0.9 m higher; Huma below reads its base. One crest, No. 5 (four were numbered by hand this season).
    config = load_config()
    ctx = HydroContext.build(config, {})
    state = HydroState(rivers={"heilongjiang": RiverState("heilongjiang", seed_season("heilongjiang", 2024, 4))})
    hump = [5.0] * 12 + [5.0 + 0.1 * i for i in range(1, 16)] + [6.5, 6.45, 6.4, 6.35, 6.35, 6.4, 6.5]
    hump += [6.5 + 0.1 * i for i in range(1, 10)] + [7.4 - 0.1 * i for i in range(1, 16)]
    reports, forecasts_at = [], {}
    for i, stage in enumerate(hump):
        t = T0 + timedelta(hours=i)
        state, _ = process(state, "hlj-huma", Point(t, 5.3), ctx)
        state, out = process(state, "hlj-oupu", Point(t, stage), ctx)
        for report in out.crests:
            reports.append(report)
            forecasts_at[report.crest.revision] = [f for f in out.forecasts if not f.cancelled]
    announced, revised = reports
    assert (announced.numbered.crest_no, revised.numbered.crest_no) == (5, 5)
    assert (announced.crest.stage, revised.crest.stage) == (6.5, 7.4) and revised.crest.revision == 1
    assert revised.previous == announced.crest
    # the forecast is re-issued from the revised crest, higher, at the same gauges
    before = {f.issued.forecast.gauge_id: f.issued.forecast for f in forecasts_at[0]}
    after = {f.issued.forecast.gauge_id: f.issued.forecast for f in forecasts_at[1]}
    assert set(after) == set(before) and "hlj-huma" in after
    assert after["hlj-huma"].stage > before["hlj-huma"].stage
    assert all(f.issued.crest_no == 5 for f in forecasts_at[1])
    wave = state.rivers["heilongjiang"].waves["heilongjiang-2024-5"]
    assert wave.crest == revised.crest and state.rivers["heilongjiang"].log.next_no == 6
