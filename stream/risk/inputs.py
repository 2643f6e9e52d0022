"""The risk scorer's stored inputs: what each input event changes in its tables, and reading them back.

The tables are byte mappings (Faust tables in the stream, plain dicts in
tests); values are the events' own JSON or msgspec JSON of the
:mod:`stream.risk.state` dataclasses. :func:`fold_input` is the only writer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Union

import msgspec

from stream import schemas
from stream.risk.score import RiskInputs
from stream.risk.state import RainBuckets, StationFwi, add_rain, observe_weather
from stream.schemas import (
    CrestForecast,
    GaugeState,
    ReadingBatch,
    VisionFinding,
    WeatherObservation,
)

RiskInput = Union[GaugeState, CrestForecast, ReadingBatch, WeatherObservation, VisionFinding]
"""What ``risk.inputs`` carries."""
Store = MutableMapping[bytes, bytes]
CLOCK_KEY = b"now"

_rain = msgspec.json.Decoder(RainBuckets)
_station = msgspec.json.Decoder(StationFwi)
_time = msgspec.json.Decoder(datetime)


@dataclass(frozen=True, eq=False)
class InputTables:
    gauges: Store
    """gauge id -> newest GaugeState."""
    forecasts: Store
    """forecast id -> CrestForecast (removed when cancelled)."""
    rain: Store
    """rain sensor id -> RainBuckets."""
    stations: Store
    """station id -> StationFwi."""
    findings: Store
    """``<camera id>/<kind>`` -> newest VisionFinding of that kind."""
    clock: Store
    """``now`` -> the newest event time heard."""


def newest_time(item: RiskInput) -> datetime:
    """The newest event time an input carries (a batch: its newest reading)."""
    if isinstance(item, ReadingBatch):
        return max((r.event_time for r in item.readings), default=item.event_time)
    return item.event_time


def _newer(table: Store, key: bytes, event: GaugeState | VisionFinding) -> bool:
    stored = table.get(key)
    return stored is None or schemas.decode(type(event), stored).event_time <= event.event_time


def fold_input(tables: InputTables, item: RiskInput, payload: bytes, tz: tzinfo) -> None:
    """Write what ``item`` (whose wire form is ``payload``) changes; older news of a key is ignored.

    Raises :class:`~stream.risk.state.RiskInputError` (or a :class:`gis.errors.GisError`)
    for an input the rain or FWI rules refuse.
    """
    if isinstance(item, GaugeState):
        if _newer(tables.gauges, item.gauge_id.encode(), item):
            tables.gauges[item.gauge_id.encode()] = payload
    elif isinstance(item, CrestForecast):
        key = item.forecast_id.encode()
        if not item.cancelled:
            tables.forecasts[key] = payload
        elif tables.forecasts.get(key) is not None:
            del tables.forecasts[key]
    elif isinstance(item, ReadingBatch):
        by_sensor: dict[str, list[schemas.SensorReading]] = defaultdict(list)
        for r in item.readings:
            by_sensor[r.sensor_id].append(r)
        for sensor_id, readings in by_sensor.items():
            stored = tables.rain.get(sensor_id.encode())
            state = _rain.decode(stored) if stored else RainBuckets()
            for r in readings:
                state = add_rain(state, r.event_time, r.value)
            tables.rain[sensor_id.encode()] = msgspec.json.encode(state)
    elif isinstance(item, WeatherObservation):
        stored = tables.stations.get(item.station_id.encode())
        station = _station.decode(stored) if stored else StationFwi(item.station_id)
        after = observe_weather(station, item.event_time, item.temp_c, item.rh_pct, item.wind_kmh, item.rain_mm, tz)
        if after is not station:
            tables.stations[item.station_id.encode()] = msgspec.json.encode(after)
    elif isinstance(item, VisionFinding):
        key = f"{item.camera_id}/{item.kind.value}".encode()
        if _newer(tables.findings, key, item):
            tables.findings[key] = payload
    t = newest_time(item)
    stored = tables.clock.get(CLOCK_KEY)
    if stored is None or _time.decode(stored) < t:
        tables.clock[CLOCK_KEY] = msgspec.json.encode(t)


def clock(tables: InputTables) -> datetime | None:
    """The scorer's ``now``: the newest event time heard (None before any input)."""
    stored = tables.clock.get(CLOCK_KEY)
    return None if stored is None else _time.decode(stored)


def snapshot(tables: InputTables) -> RiskInputs:
    """Everything stored, decoded."""
    return RiskInputs(
        gauges={k.decode(): schemas.decode(GaugeState, v) for k, v in tables.gauges.items()},
        forecasts=[schemas.decode(CrestForecast, v) for v in tables.forecasts.values()],
        rain={k.decode(): _rain.decode(v) for k, v in tables.rain.items()},
        stations={k.decode(): _station.decode(v) for k, v in tables.stations.items()},
        findings=[schemas.decode(VisionFinding, v) for v in tables.findings.values()],
    )
