"""What each input event writes into the risk scorer's tables (stream.risk.inputs), on plain dicts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import msgspec
import pytest

from stream import schemas
from stream.risk.inputs import InputTables, clock, fold_input, snapshot
from stream.risk.state import (
    RainBuckets,
    RiskInputError,
    StationFwi,
    add_rain,
    observe_weather,
)
from stream.schemas import Colour, FindingKind, SensorKind

HEIHE = ZoneInfo("Asia/Shanghai")
T = datetime(2024, 8, 5, 4, 5, tzinfo=timezone.utc)  # 12:05 in Heihe


def _tables() -> InputTables:
    return InputTables({}, {}, {}, {}, {}, {})


def _fold(tables: InputTables, event: schemas.Event) -> None:
    fold_input(tables, event, schemas.encode(event), HEIHE)  # type: ignore[arg-type]


def _gauge(stage: float, at: datetime) -> schemas.GaugeState:
    return schemas.GaugeState(source="t", event_time=at, gauge_id="hlj-heihe", stage_m=stage,
                              trend=schemas.TrendState.RISING, rate_m_per_h=0.1, colour=Colour.BLUE)


def _rain(sensor: str, mm: float, at: datetime) -> schemas.SensorReading:
    return schemas.SensorReading(source="t", event_time=at, sensor_id=sensor, kind=SensorKind.RAIN, value=mm, unit="mm")


def test_the_newest_gauge_state_is_kept_and_the_clock_only_moves_forward() -> None:
    tables = _tables()
    _fold(tables, _gauge(7.0, T))
    _fold(tables, _gauge(6.0, T - timedelta(minutes=5)))  # late: ignored
    assert snapshot(tables).gauges["hlj-heihe"].stage_m == 7.0 and clock(tables) == T
    _fold(tables, _gauge(7.5, T + timedelta(minutes=10)))
    assert snapshot(tables).gauges["hlj-heihe"].stage_m == 7.5 and clock(tables) == T + timedelta(minutes=10)


def test_a_cancelled_forecast_is_removed() -> None:
    tables = _tables()
    fc = schemas.CrestForecast(source="t", event_time=T, forecast_id="heilongjiang-2024-5-hlj-heihe", gauge_id="hlj-heihe",
                               river="heilongjiang", crest_no=5, from_gauge_id="hlj-huma", issued_at=T,
                               arrival_time=T + timedelta(hours=40), arrival_low=T + timedelta(hours=36),
                               arrival_high=T + timedelta(hours=44), stage_m=8.1, stage_low_m=7.8, stage_high_m=8.4,
                               colour=Colour.ORANGE)
    _fold(tables, fc)
    assert [f.stage_m for f in snapshot(tables).forecasts] == [8.1]
    _fold(tables, msgspec.structs.replace(fc, cancelled=True, event_time=T + timedelta(hours=1)))
    assert snapshot(tables).forecasts == []


def test_rain_readings_fold_into_each_sensor_buckets() -> None:
    tables = _tables()
    batch = schemas.ReadingBatch(source="t", event_time=T, readings=[
        _rain("rain-a", 1.5, T - timedelta(minutes=20)), _rain("rain-b", 4.0, T - timedelta(minutes=3)),
        _rain("rain-a", 0.5, T - timedelta(minutes=10))])
    _fold(tables, batch)
    expected_a = add_rain(add_rain(RainBuckets(), T - timedelta(minutes=20), 1.5), T - timedelta(minutes=10), 0.5)
    got = snapshot(tables).rain
    assert got == {"rain-a": expected_a, "rain-b": add_rain(RainBuckets(), T - timedelta(minutes=3), 4.0)}
    assert clock(tables) == T - timedelta(minutes=3)  # the newest reading, not the batch time
    with pytest.raises(RiskInputError, match="-2.0"):
        _fold(tables, schemas.ReadingBatch(source="t", event_time=T, readings=[_rain("rain-a", -2.0, T)]))


def test_weather_carries_the_station_fwi_day() -> None:
    tables = _tables()
    morning = schemas.WeatherObservation(source="t", event_time=T - timedelta(hours=3), station_id="st-1", temp_c=18.0,
                                         rh_pct=70.0, wind_kmh=5.0, rain_mm=2.0)
    noon = schemas.WeatherObservation(source="t", event_time=T, station_id="st-1", temp_c=27.0, rh_pct=30.0,
                                      wind_kmh=20.0, rain_mm=0.0)
    _fold(tables, morning)
    _fold(tables, noon)
    expected = StationFwi("st-1")
    for o in (morning, noon):
        expected = observe_weather(expected, o.event_time, o.temp_c, o.rh_pct, o.wind_kmh, o.rain_mm, HEIHE)
    assert snapshot(tables).stations == {"st-1": expected}
    assert expected.noon is not None and expected.noon.rain_24h_mm == 2.0


def test_the_newest_finding_per_camera_and_kind_is_kept() -> None:
    tables = _tables()

    def finding(kind: FindingKind, confirmed: bool, at: datetime) -> schemas.VisionFinding:
        return schemas.VisionFinding(source="t", event_time=at, camera_id="cam-1", kind=kind, score=0.9, confirmed=confirmed)

    _fold(tables, finding(FindingKind.FIRE, True, T))
    _fold(tables, finding(FindingKind.SMOKE, True, T))
    _fold(tables, finding(FindingKind.FIRE, False, T + timedelta(seconds=30)))  # the camera no longer confirms fire
    _fold(tables, finding(FindingKind.SMOKE, False, T - timedelta(seconds=30)))  # late: ignored
    got = {(f.kind, f.confirmed) for f in snapshot(tables).findings}
    assert got == {(FindingKind.FIRE, False), (FindingKind.SMOKE, True)}
