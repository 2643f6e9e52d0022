"""From stored risk inputs to grid scores and the cells to publish (stream.risk.score), on a small grid."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gis.grid import GridModel
from gis.registry import CameraCoverage, CellView
from gis.risk import RiskScores, StageForecast, score_flood
from stream import schemas
from stream.risk.score import (
    FireWeatherMemo,
    RiskGrid,
    RiskInputs,
    changes,
    forecast_by_gauge,
    fwi_by_cell,
    rain_by_cell,
    score_grid,
    vision_evidence,
)
from stream.risk.state import RainBuckets, StationFwi, add_rain, observe_weather
from stream.schemas import Colour, Hazard

HEIHE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2024, 8, 5, 6, 2, 30, tzinfo=timezone.utc)
CODES = ["231102001001001", "231102001001002", "231102001001003", "231183001001001"]


def _grid() -> RiskGrid:
    model = GridModel.from_columns(
        CODES, lon=[127.50, 127.52, 127.55, 126.12], lat=[50.25, 50.25, 50.24, 50.97], population=[2000, 50, 0, 0],
        urban=[True, False, False, False], forest_frac=[0.0, 0.3, 0.9, 0.95], fuel_type=["urban", "mixed", "conifer", "conifer"],
        gauge_id=["hlj-heihe", "hlj-heihe", "hlj-heihe", None], inundation_stage_m=[6.6, 7.4, 8.2, None])
    views = [CellView("cam-1", CODES[2], 0.6, 800.0), CellView("cam-1", CODES[1], 0.02, 1500.0)]
    coverage = CameraCoverage({"cam-1": tuple(views)}, {v.cell_code: (v,) for v in views})
    return RiskGrid(model, coverage, {"st-1": (127.51, 50.25), "st-2": (126.1, 50.9)},
                    {"rain-a": 0, "rain-b": 0, "rain-c": 2})


def _forecast(gauge: str, stage: float, arrival: datetime, cancelled: bool = False, n: int = 1) -> schemas.CrestForecast:
    return schemas.CrestForecast(source="t", event_time=NOW, forecast_id=f"f-{gauge}-{n}", gauge_id=gauge, river="heilongjiang",
                                 crest_no=n, from_gauge_id="hlj-huma", issued_at=NOW, arrival_time=arrival,
                                 arrival_low=arrival, arrival_high=arrival, stage_m=stage, stage_low_m=stage,
                                 stage_high_m=stage, colour=Colour.YELLOW, cancelled=cancelled)


def _gauge(stage: float) -> schemas.GaugeState:
    return schemas.GaugeState(source="t", event_time=NOW, gauge_id="hlj-heihe", stage_m=stage,
                              trend=schemas.TrendState.RISING, rate_m_per_h=0.1, colour=Colour.BLUE)


def _finding(kind: schemas.FindingKind, score: float, cells: list[str], confirmed: bool = True) -> schemas.VisionFinding:
    return schemas.VisionFinding(source="t", event_time=NOW - timedelta(minutes=2), camera_id="cam-1", kind=kind,
                                 score=score, confirmed=confirmed, cells=cells)


def test_forecast_per_gauge_is_the_highest_due_within_72_hours_and_not_cancelled() -> None:
    got = forecast_by_gauge([
        _forecast("hlj-heihe", 8.0, NOW + timedelta(hours=10), n=1),
        _forecast("hlj-heihe", 8.6, NOW + timedelta(hours=30), n=2),
        _forecast("hlj-heihe", 9.5, NOW + timedelta(hours=80), n=3),  # beyond the horizon
        _forecast("hlj-heihe", 9.9, NOW + timedelta(hours=5), cancelled=True, n=4),
        _forecast("hlj-aihui", 7.0, NOW - timedelta(hours=1), n=5),  # already passed
    ], now=NOW)
    assert list(got) == ["hlj-heihe"]
    assert (got["hlj-heihe"].stage_m, got["hlj-heihe"].arrival) == (8.6, NOW + timedelta(hours=30))


def test_rain_per_cell_is_the_mean_of_its_sensors() -> None:
    grid = _grid()
    rain = {"rain-a": add_rain(RainBuckets(), NOW - timedelta(minutes=10), 4.0),
            "rain-b": add_rain(RainBuckets(), NOW - timedelta(hours=3), 2.0),
            "rain-c": add_rain(RainBuckets(), NOW - timedelta(hours=30), 6.0),
            "rain-unknown": add_rain(RainBuckets(), NOW, 50.0)}
    got = rain_by_cell(grid, rain, now=NOW)
    # cell 0: (4 + 0) / 2 in 1 h, (4 + 2) / 2 in 24 h and 72 h; cell 2: 6 mm 30 h ago, 72 h only
    assert got[:, 0].tolist() == [2.0, 3.0, 3.0]
    assert got[:, 2].tolist() == [0.0, 0.0, 6.0]
    assert got[:, [1, 3]].tolist() == [[0.0, 0.0]] * 3


def _station(station_id: str, days: list[date]) -> StationFwi:
    state = StationFwi(station_id)
    for k, d in enumerate(days):
        state = observe_weather(state, datetime(d.year, d.month, d.day, 12, 5, tzinfo=HEIHE), 26.0 + k, 35.0, 18.0, 0.0, HEIHE)
    return state


def test_one_station_gives_every_cell_its_own_fwi() -> None:
    # inverse-distance weighting from a single station hands every cell that station's weather and codes,
    # so every cell runs the station's own day
    station = _station("st-1", [date(2024, 8, 3), date(2024, 8, 4), date(2024, 8, 5)])
    got = fwi_by_cell(_grid(), {"st-1": station}, today=NOW.astimezone(HEIHE))
    assert got == pytest.approx([station.today.fwi] * len(CODES), abs=1e-9)
    assert station.today.fwi > 5.0


def test_stations_without_a_current_day_do_not_count() -> None:
    stale = _station("st-1", [date(2024, 8, 1)])  # four days old on 5 August
    fresh = _station("st-2", [date(2024, 8, 4)])  # yesterday's still counts before today's noon
    grid = _grid()
    assert fwi_by_cell(grid, {"st-1": stale}, today=NOW.astimezone(HEIHE)).tolist() == [0.0] * len(CODES)
    both = fwi_by_cell(grid, {"st-1": stale, "st-2": fresh}, today=NOW.astimezone(HEIHE))
    assert both == pytest.approx([fresh.today.fwi] * len(CODES), abs=1e-9)


def test_vision_reaches_the_cells_a_finding_lists_else_those_its_camera_sees() -> None:
    grid = _grid()
    listed = vision_evidence(grid, [_finding(schemas.FindingKind.SMOKE, 0.8, [CODES[0]])], now=NOW)
    assert listed == pytest.approx({CODES[0]: 0.7 * 0.8})  # smoke weighs 0.7 (gis.fire.FINDING_WEIGHT)
    seen = vision_evidence(grid, [_finding(schemas.FindingKind.FIRE, 0.9, [])], now=NOW)
    assert seen == pytest.approx({CODES[2]: 0.9})  # cam-1's best-seen cell; it sees only 2 % of the other
    assert vision_evidence(grid, [_finding(schemas.FindingKind.FIRE, 0.9, [], confirmed=False)], now=NOW) == {}


def test_score_grid_feeds_the_gauge_forecast_and_rain_to_gis_risk() -> None:
    grid = _grid()
    rain = {"rain-a": add_rain(RainBuckets(), NOW - timedelta(minutes=10), 12.0)}
    inputs = RiskInputs({"hlj-heihe": _gauge(7.0)}, [_forecast("hlj-heihe", 8.0, NOW + timedelta(hours=12))], rain, {}, [])
    got = score_grid(grid, inputs, now=NOW, tz=HEIHE)
    rain_cells = np.array([12.0, 0.0, 0.0, 0.0])  # cell 0's other sensor has never reported: it does not count
    direct = score_flood(grid.model, {"hlj-heihe": 7.0}, {"hlj-heihe": StageForecast(8.0, NOW + timedelta(hours=12))},
                         rain_cells, rain_cells, rain_cells, now=NOW)
    assert got.flood.score.tolist() == direct.score.tolist()
    assert got.fire.score.tolist() == [0.0] * len(CODES)  # no weather, no findings


@settings(max_examples=40, deadline=None)
@given(st.floats(4.0, 10.0), st.floats(0.0, 3.0))
def test_a_higher_stage_never_lowers_a_cell_flood_score(stage: float, rise: float) -> None:
    grid = _grid()
    low = score_grid(grid, RiskInputs({"hlj-heihe": _gauge(stage)}, [], {}, {}, []), now=NOW, tz=HEIHE)
    high = score_grid(grid, RiskInputs({"hlj-heihe": _gauge(stage + rise)}, [], {}, {}, []), now=NOW, tz=HEIHE)
    assert np.all(high.flood.score >= low.flood.score)


def _scores(values: list[float], colours: list[int]) -> RiskScores:
    return RiskScores(Hazard.FLOOD, NOW, np.arange(len(values)), np.array(values), np.array(colours, np.int8),
                      {"hazard": np.array(values)})


def test_changes_are_against_what_was_last_published() -> None:
    grid = _grid()
    first, published = changes(grid, None, _scores([0.0, 0.02, 0.2, 0.7], [0, 0, 1, 3]))
    assert [c.cell_code for c in first] == CODES[2:]  # against the baseline: score 0, green
    assert [c.colour for c in first] == [Colour.BLUE, Colour.ORANGE]
    same, published = changes(grid, published, _scores([0.0, 0.02, 0.2, 0.7], [0, 0, 1, 3]))
    assert same == []
    # a drift of 0.03 per scoring: nothing at the first step, published once it reaches 0.06 from the last publication
    step1, published = changes(grid, published, _scores([0.0, 0.02, 0.23, 0.7], [0, 0, 1, 3]))
    step2, published = changes(grid, published, _scores([0.0, 0.02, 0.26, 0.7], [0, 0, 1, 3]))
    assert step1 == [] and [(c.cell_code, c.score) for c in step2] == [(CODES[2], 0.26)]
    fell, _ = changes(grid, published, _scores([0.0, 0.02, 0.26, 0.59], [0, 0, 1, 2]))
    assert [(c.cell_code, c.colour) for c in fell] == [(CODES[3], Colour.YELLOW)]  # colour changed, score by 0.11


def test_fire_weather_memo_recomputes_only_when_a_station_day_changes() -> None:
    grid, today = _grid(), NOW.astimezone(HEIHE)
    memo = FireWeatherMemo()
    day1 = {"st-1": _station("st-1", [date(2024, 8, 4)])}
    first = memo.fwi_by_cell(grid, day1, today=today)
    assert first.tolist() == fwi_by_cell(grid, day1, today=today).tolist()
    morning = {"st-1": observe_weather(day1["st-1"], datetime(2024, 8, 5, 9, tzinfo=HEIHE), 20.0, 60.0, 5.0, 3.0, HEIHE)}
    assert memo.fwi_by_cell(grid, morning, today=today) is first  # rain before noon: same FWI day
    day2 = {"st-1": observe_weather(morning["st-1"], datetime(2024, 8, 5, 12, 1, tzinfo=HEIHE), 30.0, 20.0, 25.0, 0.0, HEIHE)}
    again = memo.fwi_by_cell(grid, day2, today=today)
    assert again.tolist() == fwi_by_cell(grid, day2, today=today).tolist() and again.tolist() != first.tolist()
