"""Validation of ingested observations: pure functions, every refusal an :class:`InvalidEvent`.

Order of checks for one observation: registered source → schema of the source →
sensor kind → unit (converted when it is a known alternative, else refused) →
sentinel values → range → known station/sensor/gauge (a generated sample category,
which has no sensors in the GIS layers, names itself as its sensor) → event time
within ``[now - max_past_s, now + max_future_s]``. Each refusal names the field and
the value received. ``now`` is passed in (epoch seconds); nothing here reads a clock.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import msgspec

from stream.errors import InvalidEvent
from stream.ingest.inventory import Inventory
from stream.ingest.registry import Registry, Source, SourceSchema
from stream.schemas import FrameSample, SensorReading, WaterLevel, WeatherObservation

Observation = SensorReading | WeatherObservation | WaterLevel

#: Values that field systems write when they have no value; never a measurement.
SENTINELS: frozenset[float] = frozenset({-9999.0, -999.0, -999.9, -99.9, 9999.0, 99999.0, -32768.0, 32767.0})

#: (from unit, to unit) -> (scale, offset): value_to = value_from * scale + offset.
CONVERSIONS: Mapping[tuple[str, str], tuple[float, float]] = {
    ("degF", "degC"): (5.0 / 9.0, -32.0 * 5.0 / 9.0),
    ("K", "degC"): (1.0, -273.15),
    ("cm", "m"): (0.01, 0.0),
    ("mm", "m"): (0.001, 0.0),
    ("ft", "m"): (0.3048, 0.0),
    ("cm", "mm"): (10.0, 0.0),
    ("in", "mm"): (25.4, 0.0),
    ("km/h", "m/s"): (1.0 / 3.6, 0.0),
    ("fraction", "%"): (100.0, 0.0),
}


@dataclass(frozen=True, slots=True)
class TimeLimits:
    max_future_s: float
    max_past_s: float


def convert_unit(value: float, unit: str, to_unit: str) -> float:
    """``value`` in ``unit`` expressed in ``to_unit``; refuses an unknown pair."""
    if unit == to_unit:
        return value
    factors = CONVERSIONS.get((unit, to_unit))
    if factors is None:
        raise InvalidEvent(f"unit {unit!r} is not {to_unit!r} and has no known conversion to it",
                           field="unit", value=unit)
    scale, offset = factors
    return value * scale + offset


def check_source(source_id: str, registry: Registry, schema: SourceSchema) -> Source:
    source = registry.sources.get(source_id)
    if source is None:
        raise InvalidEvent(f"source {source_id!r} is not registered", field="source", value=source_id)
    if source.schema is not schema:
        raise InvalidEvent(f"source {source_id!r} is registered for {source.schema.value}, got {schema.value}",
                           field="type", value=schema.value)
    return source


def check_value(value: float, source: Source, field: str) -> None:
    if not math.isfinite(value):
        raise InvalidEvent(f"{field}={value!r} is not a finite number", field=field, value=value)
    if value in SENTINELS:
        raise InvalidEvent(f"{field}={value!r} is a missing-value sentinel", field=field, value=value)
    if not source.min_value <= value <= source.max_value:
        raise InvalidEvent(f"{field}={value!r} {source.unit} is outside the valid range "
                           f"[{source.min_value:g}, {source.max_value:g}] of {source.source_id}",
                           field=field, value=value)


def check_time(event_time: datetime, limits: TimeLimits, now: float) -> None:
    t = event_time.timestamp()
    if t > now + limits.max_future_s:
        raise InvalidEvent(f"event_time {event_time.isoformat()} is more than {limits.max_future_s:g} s "
                           f"in the future", field="event_time", value=event_time.isoformat())
    if t < now - limits.max_past_s:
        raise InvalidEvent(f"event_time {event_time.isoformat()} is more than {limits.max_past_s:g} s "
                           f"in the past", field="event_time", value=event_time.isoformat())


def validate_reading(reading: SensorReading, registry: Registry, inventory: Inventory,
                     limits: TimeLimits, now: float) -> SensorReading:
    """The reading in its source's unit, or :class:`InvalidEvent`."""
    source = check_source(reading.source, registry, SourceSchema.SENSOR_READING)
    if reading.kind is not source.kind:
        raise InvalidEvent(f"kind {reading.kind.value!r} differs from {source.source_id}'s kind "
                           f"{source.kind.value if source.kind else None!r}", field="kind", value=reading.kind.value)
    if reading.unit != source.unit:
        value = reading.value
        if not math.isfinite(value) or value in SENTINELS:
            check_value(value, source, "value")  # a sentinel stays a sentinel in any unit
        reading = msgspec.structs.replace(reading, value=convert_unit(value, reading.unit, source.unit),
                                          unit=source.unit)
    check_value(reading.value, source, "value")
    known_kind = inventory.sensor_kind(reading.sensor_id, reading.kind)
    if known_kind is None and source.sample and reading.sensor_id == source.source_id:
        known_kind = source.kind  # a generated category has no sensors in the GIS layers: it is its own one series
    if known_kind is None:
        raise InvalidEvent(f"sensor {reading.sensor_id!r} is unknown", field="sensor_id", value=reading.sensor_id)
    if known_kind is not reading.kind:
        raise InvalidEvent(f"sensor {reading.sensor_id!r} is a {known_kind.value} sensor, not {reading.kind.value}",
                           field="kind", value=reading.kind.value)
    check_time(reading.event_time, limits, now)
    return reading


def validate_weather(obs: WeatherObservation, registry: Registry, inventory: Inventory,
                     limits: TimeLimits, now: float) -> WeatherObservation:
    """The observation (range of the registry applies to ``temp_c``), or :class:`InvalidEvent`."""
    source = check_source(obs.source, registry, SourceSchema.WEATHER_OBSERVATION)
    for field in ("rh_pct", "wind_kmh", "rain_mm"):
        value = getattr(obs, field)
        if value in SENTINELS:
            raise InvalidEvent(f"{field}={value!r} is a missing-value sentinel", field=field, value=value)
    check_value(obs.temp_c, source, "temp_c")
    if not inventory.has_station(obs.station_id):
        raise InvalidEvent(f"weather station {obs.station_id!r} is unknown", field="station_id", value=obs.station_id)
    check_time(obs.event_time, limits, now)
    return obs


def validate_water_level(level: WaterLevel, registry: Registry, inventory: Inventory,
                         limits: TimeLimits, now: float) -> WaterLevel:
    """The level (range of the registry applies to ``stage_m``), or :class:`InvalidEvent`."""
    source = check_source(level.source, registry, SourceSchema.WATER_LEVEL)
    check_value(level.stage_m, source, "stage_m")
    if level.flow_m3s is not None and (level.flow_m3s in SENTINELS or not math.isfinite(level.flow_m3s)):
        raise InvalidEvent(f"flow_m3s={level.flow_m3s!r} is a missing-value sentinel", field="flow_m3s",
                           value=level.flow_m3s)
    if not inventory.has_gauge(level.gauge_id):
        raise InvalidEvent(f"river gauge {level.gauge_id!r} is unknown", field="gauge_id", value=level.gauge_id)
    check_time(level.event_time, limits, now)
    return level


def validate_frame(frame: FrameSample, inventory: Inventory, limits: TimeLimits, now: float) -> FrameSample:
    """A frame sample from a known camera at a plausible time (for producers of the frames topic)."""
    if not inventory.has_camera(frame.camera_id):
        raise InvalidEvent(f"camera {frame.camera_id!r} is unknown", field="camera_id", value=frame.camera_id)
    check_time(frame.event_time, limits, now)
    return frame


def validate(obs: Observation, registry: Registry, inventory: Inventory, limits: TimeLimits,
             now: float) -> Observation:
    """Dispatch on the observation's type."""
    if isinstance(obs, SensorReading):
        return validate_reading(obs, registry, inventory, limits, now)
    if isinstance(obs, WeatherObservation):
        return validate_weather(obs, registry, inventory, limits, now)
    return validate_water_level(obs, registry, inventory, limits, now)


def identity(obs: Observation) -> str:
    """The observed thing's id: sensor, station or gauge."""
    if isinstance(obs, SensorReading):
        return obs.sensor_id
    if isinstance(obs, WeatherObservation):
        return obs.station_id
    return obs.gauge_id
