"""Validation of ingested observations: units, sentinels, ranges, unknown ids, time limits."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stream.errors import InvalidEvent
from stream.ingest.inventory import Inventory, Site
from stream.ingest.registry import load_registry
from stream.ingest.validation import (
    TimeLimits,
    convert_unit,
    validate,
    validate_reading,
)
from stream.schemas import SensorKind, SensorReading, WaterLevel, WeatherObservation

REGISTRY = load_registry()
INVENTORY = Inventory.from_sites(
    sensors=[Site("temperature-00001", 127.5, 50.2, SensorKind.TEMPERATURE), Site("smoke-00001", 127.4, 50.3,
                                                                                     SensorKind.SMOKE)],
    stations=[Site("ws-001", 127.5, 50.2)], gauges=[Site("hlj-heihe", 127.5, 50.25)])
LIMITS = TimeLimits(max_future_s=300.0, max_past_s=86400.0)
NOW_DT = datetime(2021, 7, 12, 8, 0, tzinfo=timezone.utc)
NOW = NOW_DT.timestamp()
TEMP = "meteorology.temperature-sensors"


def reading(value: float = 21.5, unit: str = "degC", sensor: str = "temperature-00001", source: str = TEMP,
            kind: SensorKind = SensorKind.TEMPERATURE, at: datetime = NOW_DT) -> SensorReading:
    return SensorReading(source=source, event_time=at, sensor_id=sensor, kind=kind, value=value, unit=unit)


def refused(obs: object) -> InvalidEvent:
    with pytest.raises(InvalidEvent) as info:
        validate(obs, REGISTRY, INVENTORY, LIMITS, NOW)  # type: ignore[arg-type]
    return info.value


# NIST SP 811 (2008), appendix B: 1 ft = 0.3048 m and 1 in = 2.54 cm exactly; t/°C = (t/°F − 32)/1.8;
# t/°C = T/K − 273.15.
@pytest.mark.parametrize(("value", "unit", "to", "expected"), [
    (212.0, "degF", "degC", 100.0), (32.0, "degF", "degC", 0.0), (-40.0, "degF", "degC", -40.0),
    (273.15, "K", "degC", 0.0), (250.0, "cm", "m", 2.5), (10.0, "ft", "m", 3.048), (1.0, "in", "mm", 25.4),
    (36.0, "km/h", "m/s", 10.0), (0.5, "fraction", "%", 50.0),
])
def test_known_unit_conversions(value: float, unit: str, to: str, expected: float) -> None:
    assert convert_unit(value, unit, to) == pytest.approx(expected, abs=1e-9)


def test_alternative_unit_is_converted_to_the_registered_one() -> None:
    got = validate_reading(reading(value=212.0 - 180.0, unit="degF"), REGISTRY, INVENTORY, LIMITS, NOW)
    assert got.unit == "degC" and got.value == pytest.approx(0.0)


def test_unknown_unit_is_refused_naming_it() -> None:
    err = refused(reading(unit="furlongs"))
    assert (err.field, err.value) == ("unit", "furlongs")


@pytest.mark.parametrize("sentinel", [-9999.0, -999.0, 9999.0])
def test_sentinel_is_refused_even_in_another_unit(sentinel: float) -> None:
    for unit in ("degC", "degF"):
        err = refused(reading(value=sentinel, unit=unit))
        assert (err.field, err.value) == ("value", str(sentinel)) and "sentinel" in err.reason


def test_out_of_range_names_value_and_range() -> None:
    err = refused(reading(value=120.0))
    assert err.field == "value" and err.value == "120.0" and "[-55, 85]" in err.reason


def test_unknown_sensor_and_wrong_kind_are_refused() -> None:
    assert refused(reading(sensor="temperature-99999")).field == "sensor_id"
    err = refused(reading(sensor="smoke-00001"))
    assert (err.field, err.value) == ("kind", "temperature")
    err = refused(reading(kind=SensorKind.SMOKE, unit="%obs/m", sensor="smoke-00001"))
    assert err.field == "kind" and TEMP in err.reason  # the source sends temperature, not smoke


def test_unregistered_source_and_wrong_schema_are_refused() -> None:
    assert (refused(reading(source="nobody")).field, refused(reading(source="nobody")).value) == ("source", "nobody")
    obs = WeatherObservation(source=TEMP, event_time=NOW_DT, station_id="ws-001", temp_c=20, rh_pct=50,
                             wind_kmh=10, rain_mm=0)
    assert refused(obs).field == "type"


def test_time_limits_are_inclusive_and_named() -> None:
    limit = timedelta(seconds=LIMITS.max_future_s)
    validate(reading(at=NOW_DT + limit), REGISTRY, INVENTORY, LIMITS, NOW)
    err = refused(reading(at=NOW_DT + limit + timedelta(seconds=1)))
    assert err.field == "event_time" and "future" in err.reason
    validate(reading(at=NOW_DT - timedelta(days=1)), REGISTRY, INVENTORY, LIMITS, NOW)
    assert "past" in refused(reading(at=NOW_DT - timedelta(days=1, seconds=1))).reason


def test_weather_and_water_level_checks() -> None:
    weather = "meteorology.weather-stations"
    good = WeatherObservation(source=weather, event_time=NOW_DT, station_id="ws-001", temp_c=25, rh_pct=40,
                              wind_kmh=20, rain_mm=0)
    assert validate(good, REGISTRY, INVENTORY, LIMITS, NOW) == good
    assert refused(WeatherObservation(source=weather, event_time=NOW_DT, station_id="ws-999", temp_c=25,
                                      rh_pct=40, wind_kmh=20, rain_mm=0)).field == "station_id"
    level = WaterLevel(source="hydrology.river-gauges", event_time=NOW_DT, gauge_id="hlj-heihe", stage_m=7.1)
    assert validate(level, REGISTRY, INVENTORY, LIMITS, NOW) == level
    assert refused(WaterLevel(source="hydrology.river-gauges", event_time=NOW_DT, gauge_id="hlj-nowhere",
                              stage_m=7.1)).field == "gauge_id"
    err = refused(WaterLevel(source="hydrology.river-gauges", event_time=NOW_DT, gauge_id="hlj-heihe", stage_m=-999.0))
    assert (err.field, err.value) == ("stage_m", "-999.0")


def test_unchecked_inventory_trusts_ids() -> None:
    unchecked = Inventory(sensors=None, stations=None, gauges=None)
    got = validate(reading(sensor="anything"), REGISTRY, unchecked, LIMITS, NOW)
    assert isinstance(got, SensorReading) and got.sensor_id == "anything"


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6))
def test_accepted_iff_in_range_after_conversion(fahrenheit: float) -> None:
    celsius = (fahrenheit - 32.0) / 1.8
    try:
        got = validate_reading(reading(value=fahrenheit, unit="degF"), REGISTRY, INVENTORY, LIMITS, NOW)
    except InvalidEvent as err:
        assert err.field == "value"
        assert not -55 <= convert_unit(fahrenheit, "degF", "degC") <= 85 or fahrenheit in (-9999.0, -999.0, 9999.0)
    else:
        assert -55 <= got.value <= 85 and got.value == pytest.approx(celsius, abs=1e-9)


def test_frame_from_unknown_camera_is_refused() -> None:
    from stream.ingest.validation import validate_frame
    from stream.schemas import DecodeStatus, FrameSample

    inventory = Inventory.from_sites([], [], [], cameras=["23110200001320000001"])
    frame = FrameSample(source="sampler", event_time=NOW_DT, camera_id="23110200001320000001", status=DecodeStatus.OK)
    assert validate_frame(frame, inventory, LIMITS, NOW) == frame
    with pytest.raises(InvalidEvent) as info:
        validate_frame(FrameSample(source="sampler", event_time=NOW_DT, camera_id="99", status=DecodeStatus.OK),
                       inventory, LIMITS, NOW)
    assert (info.value.field, info.value.value) == ("camera_id", "99")


def test_a_generated_category_names_itself_as_its_sensor_and_nothing_else_may() -> None:
    sample = next(s for s in REGISTRY.sources.values() if s.sample and s.kind is SensorKind.HUMIDITY)
    own = reading(value=55.0, unit=sample.unit, sensor=sample.source_id, source=sample.source_id,
                  kind=SensorKind.HUMIDITY)
    assert validate(own, REGISTRY, INVENTORY, LIMITS, NOW) == own
    other = refused(reading(value=55.0, unit=sample.unit, sensor="humidity-00001", source=sample.source_id,
                            kind=SensorKind.HUMIDITY))
    assert other.field == "sensor_id" and other.value == "humidity-00001"
    assert refused(reading(sensor=TEMP)).field == "sensor_id"  # a real feed's sensors are the GIS layers' only
