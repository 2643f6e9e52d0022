"""Wire schemas: round trips of every event, and refusals that name the field."""

from __future__ import annotations

import typing
from datetime import datetime, timedelta, timezone

import msgspec
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stream import schemas
from stream.errors import InvalidEvent
from stream.schemas import (
    AnyEvent,
    CellRisk,
    Colour,
    DeadLetter,
    Hazard,
    ReadingBatch,
    SensorKind,
    SensorReading,
    SourceHealth,
    SourceState,
    WaterLevel,
    WeatherObservation,
    decode,
    encode,
)

AT = datetime(2021, 7, 12, 8, 0, tzinfo=timezone(timedelta(hours=8)))
EVENT_TYPES = typing.get_args(AnyEvent)


def reading(**changes: object) -> SensorReading:
    values: dict[str, object] = dict(source="meteorology.temperature-sensors", event_time=AT,
                                     sensor_id="temperature-00001", kind=SensorKind.TEMPERATURE, value=21.5,
                                     unit="degC")
    values.update(changes)
    return SensorReading(**values)  # type: ignore[arg-type]


def wire(event: object, **changes: object) -> bytes:
    doc = orjson.loads(encode(event))
    doc.update(changes)
    return orjson.dumps(doc)


def test_every_event_kind_has_a_unique_tag_and_carries_source_and_event_time() -> None:
    tags = [msgspec.inspect.type_info(t).tag for t in EVENT_TYPES]
    assert len(tags) == len(set(tags))
    # the event kinds issue 2 requires on the wire
    assert {"sensor_reading", "reading_batch", "weather_observation", "water_level", "frame_sample",
            "vision_finding", "grid_event", "cell_risk", "crest_detected", "incident", "operator_command",
            "dead_letter", "source_health"} <= set(tags)
    for t in EVENT_TYPES:
        fields = {f.name for f in msgspec.structs.fields(t)}
        assert {"v", "source", "event_time"} <= fields, t


@given(value=st.floats(allow_nan=False, allow_infinity=False), stage=st.floats(-50, 500),
       minutes=st.integers(-10_000, 10_000))
def test_round_trips(value: float, stage: float, minutes: int) -> None:
    at = AT + timedelta(minutes=minutes)
    events: list[object] = [
        reading(value=value, event_time=at),
        ReadingBatch(source="router", event_time=at, readings=[reading(value=value), reading(sensor_id="t2")]),
        WaterLevel(source="hydrology.river-gauges", event_time=at, gauge_id="hlj-heihe", stage_m=stage),
        WeatherObservation(source="w", event_time=at, station_id="ws-001", temp_c=20.0, rh_pct=40.0, wind_kmh=12.0,
                           rain_mm=0.2),
        SourceHealth(source="amur.ingest", event_time=at, source_id="s", state=SourceState.STALE, last_seen=None,
                     cadence_s=10.0),
        DeadLetter(source="unregistered", event_time=at, topic="t", reason="r", raw="b64:AAE="),
        CellRisk(source="gis", event_time=at, cell_code="231102001001001", hazard=Hazard.FLOOD, score=0.7,
                 colour=Colour.ORANGE, factors={"stage": 0.5}),
    ]
    for event in events:
        assert decode(type(event), encode(event)) == event
        assert decode(AnyEvent, encode(event)) == event  # type: ignore[arg-type]


def test_naive_time_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidEvent) as info:
        decode(SensorReading, wire(reading(), event_time="2021-07-12T08:00:00"))
    assert info.value.field == "event_time" and info.value.value == "2021-07-12T08:00:00"


@pytest.mark.parametrize(("kind", "event", "field", "bad"), [
    (WaterLevel, WaterLevel(source="g", event_time=AT, gauge_id="g1", stage_m=1.0), "stage_m", -9999.0),
    (WeatherObservation, WeatherObservation(source="w", event_time=AT, station_id="s", temp_c=1.0, rh_pct=50.0,
                                            wind_kmh=1.0, rain_mm=0.0), "rh_pct", 101.0),
    (SensorReading, reading(), "kind", "telepathy"),
    (SensorReading, reading(), "sensor_id", ""),
    (SensorReading, reading(), "value", "warm"),
])
def test_out_of_range_or_wrong_type_is_refused_naming_field_and_value(kind: type, event: object, field: str,
                                                                     bad: object) -> None:
    with pytest.raises(InvalidEvent) as info:
        decode(kind, wire(event, **{field: bad}))
    assert info.value.field == field and info.value.value == str(bad)
    assert f"$.{field}" in info.value.reason


def test_unknown_field_and_missing_field_are_refused() -> None:
    with pytest.raises(InvalidEvent) as info:
        decode(SensorReading, wire(reading(), colour="blue"))
    assert "colour" in info.value.reason
    doc = orjson.loads(encode(reading()))
    del doc["unit"]
    with pytest.raises(InvalidEvent, match="unit"):
        decode(SensorReading, orjson.dumps(doc))


def test_nested_field_path_is_named() -> None:
    doc = orjson.loads(encode(ReadingBatch(source="r", event_time=AT, readings=[reading(), reading()])))
    doc["readings"][1]["value"] = None
    with pytest.raises(InvalidEvent) as info:
        decode(ReadingBatch, orjson.dumps(doc))
    assert info.value.field == "readings[1].value"


def test_not_json_is_refused() -> None:
    with pytest.raises(InvalidEvent, match="not valid JSON"):
        decode(SensorReading, b"\x00\x01")


def test_colour_order_is_severity_order() -> None:
    # DOMAIN.md: blue (IV) < yellow (III) < orange (II) < red (I); green = no warning.
    assert [c.rank for c in (Colour.GREEN, Colour.BLUE, Colour.YELLOW, Colour.ORANGE, Colour.RED)] == [0, 1, 2, 3, 4]
    assert Colour.worst([Colour.YELLOW, Colour.RED, Colour.BLUE]) is Colour.RED
    assert Colour.worst([]) is Colour.GREEN
    assert schemas.SCHEMA_VERSION == reading().v
