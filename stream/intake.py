"""One raw ingest payload in, routed outputs out: decode → validate → dedupe → group.

A payload is one tagged event (``sensor_reading``, ``reading_batch``,
``weather_observation``, ``water_level``) or a JSON array of observations. A batch
or an array that fails to decode as a whole is taken apart item by item, so one
bad reading never sinks the good ones. Everything here is synchronous and
deterministic given ``now``; the agent and the HTTP adapter only do the I/O.
"""

from __future__ import annotations

import base64
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Union

import msgspec
import orjson
from aiokafka.partitioner import murmur2

from stream.dedupe import DedupeWindow
from stream.errors import InvalidEvent
from stream.inventory import Inventory
from stream.metrics import Outcome
from stream.registry import Registry, SourceSchema
from stream.schemas import DeadLetter, ReadingBatch, SensorReading, WaterLevel, WeatherObservation, decode
from stream.validation import SENTINELS, Observation, TimeLimits, identity, validate

UNREGISTERED = "unregistered"
"""Metrics label for input whose source is not registered (keeps label cardinality bounded)."""
MAX_RAW_CHARS = 256 * 1024

RawPayload = Union[list[Union[SensorReading, WeatherObservation, WaterLevel]], SensorReading, ReadingBatch,
                   WeatherObservation, WaterLevel]
AnyObservation = Union[SensorReading, WeatherObservation, WaterLevel]


@dataclass(frozen=True, slots=True)
class Rejection:
    """One refused item: whose it was (registered source or UNREGISTERED), why, and as received."""

    source: str
    error: InvalidEvent
    raw: str
    index: int | None = None
    """Position in the array or batch it came in (None for a whole payload)."""


Item = Union[SensorReading, WeatherObservation, WaterLevel, Rejection]


def raw_text(payload: bytes | str) -> str:
    """The payload as text for a dead letter: UTF-8, or ``b64:`` + base64 if binary; capped."""
    if isinstance(payload, str):
        text = payload
    else:
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            text = "b64:" + base64.b64encode(payload).decode("ascii")
    return text if len(text) <= MAX_RAW_CHARS else text[:MAX_RAW_CHARS] + "…[truncated]"


def decode_items(payload: bytes, registry: Registry) -> list[Item]:
    """Observations and rejections of one payload, in input order (batches flattened)."""
    try:
        decoded = decode(RawPayload, payload)
    except InvalidEvent as exc:
        return _decode_one_by_one(payload, exc, registry)
    if isinstance(decoded, ReadingBatch):
        return list(decoded.readings)
    if isinstance(decoded, list):
        return decoded
    return [decoded]


def _decode_one_by_one(payload: bytes, whole_error: InvalidEvent, registry: Registry) -> list[Item]:
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        error = InvalidEvent(f"not valid JSON: {exc}", field=None, value=None)
        return [Rejection(UNREGISTERED, error, raw_text(payload))]
    if isinstance(doc, dict) and doc.get("type") == "reading_batch" and isinstance(doc.get("readings"), list):
        items, kind = doc["readings"], SensorReading
    elif isinstance(doc, list):
        items, kind = doc, AnyObservation
    else:
        return [Rejection(label_for(doc, registry), whole_error, raw_text(payload))]
    out: list[Item] = []
    for i, item in enumerate(items):
        text = orjson.dumps(item)
        try:
            out.append(decode(kind, text))
        except InvalidEvent as exc:
            where = "readings" if kind is SensorReading else ""
            error = InvalidEvent(f"{where}[{i}]: {exc.reason}", field=exc.field, value=exc.value)
            out.append(Rejection(label_for(item, registry), error, raw_text(text), index=i))
    return out


def label_for(doc: object, registry: Registry) -> str:
    source = doc.get("source") if isinstance(doc, dict) else None
    return source if isinstance(source, str) and source in registry.sources else UNREGISTERED


def partition_for(key: str, partitions: int) -> int:
    """Kafka's default partitioner (murmur2 of the key bytes), as producers and Faust use."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


@dataclass
class Routed:
    """What one payload turns into."""

    readings: dict[int, list[SensorReading]] = field(default_factory=lambda: defaultdict(list))
    """Accepted readings by partition of the readings topic."""
    weather: list[WeatherObservation] = field(default_factory=list)
    levels: list[WaterLevel] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    counts: Counter[tuple[str, Outcome]] = field(default_factory=Counter)
    seen: set[str] = field(default_factory=set)
    """Sources that delivered at least one accepted or duplicate item."""


class Intake:
    """Validation, per-partition dedupe and routing for the raw-ingest agent."""

    def __init__(self, registry: Registry, inventory: Inventory, limits: TimeLimits, readings_partitions: int,
                 dedupe_window_s: float, dedupe_max_keys: int) -> None:
        self.registry = registry
        self.inventory = inventory
        self.limits = limits
        self.readings_partitions = readings_partitions
        self.dedupe_window_s = dedupe_window_s
        self.dedupe_max_keys = dedupe_max_keys
        self.windows: dict[int, DedupeWindow] = {}
        self._partition_of: dict[str, int] = {}
        self._reading_sources = {s.source_id: (s.kind, s.unit, s.min_value, s.max_value)
                                 for s in registry.sources.values() if s.schema is SourceSchema.SENSOR_READING}

    def window(self, partition: int) -> DedupeWindow:
        found = self.windows.get(partition)
        if found is None:
            found = self.windows[partition] = DedupeWindow(self.dedupe_window_s, self.dedupe_max_keys)
        return found

    def forget(self, partitions: set[int]) -> None:
        """Drop the windows of partitions this worker no longer owns."""
        for p in partitions:
            self.windows.pop(p, None)

    def process(self, payload: bytes, partition: int, now: float) -> Routed:
        routed = Routed()
        window = self.window(partition)
        args = (self.registry, self.inventory, self.limits, now)
        partition_of, n = self._partition_of, self.readings_partitions
        counts, seen, by_partition = routed.counts, routed.seen, routed.readings
        accepted: Counter[str] = Counter()
        clean = self._clean_reading_check(now)
        for item in decode_items(payload, self.registry):
            if type(item) is SensorReading and clean(item):
                obs: Observation = item  # passes every check of validate_reading unchanged
            elif isinstance(item, Rejection):
                routed.rejected.append(item)
                counts[(item.source, Outcome.REJECTED)] += 1
                continue
            else:
                try:
                    obs = validate(item, *args)
                except InvalidEvent as exc:
                    source = item.source if item.source in self.registry.sources else UNREGISTERED
                    routed.rejected.append(Rejection(source, exc, raw_text(msgspec.json.encode(item))))
                    counts[(source, Outcome.REJECTED)] += 1
                    continue
            ident = identity(obs)
            if not window.first_time(obs.source, ident, obs.event_time.timestamp()):
                counts[(obs.source, Outcome.DUPLICATE)] += 1
                seen.add(obs.source)
                continue
            accepted[obs.source] += 1
            if type(obs) is SensorReading:
                p = partition_of.get(ident)
                if p is None:
                    p = partition_of[ident] = partition_for(ident, n)
                by_partition[p].append(obs)
            elif type(obs) is WeatherObservation:
                routed.weather.append(obs)
            else:
                routed.levels.append(obs)
        for source, count in accepted.items():
            counts[(source, Outcome.ACCEPTED)] += count
            seen.add(source)
        return routed

    def _clean_reading_check(self, now: float):  # type: ignore[no-untyped-def]
        """A fast predicate: True only for a reading :func:`validate_reading` accepts unchanged.

        Anything else (including every reading that needs a unit conversion or is
        refused) takes the full path, which raises the exception that names it.
        """
        sources, sensors = self._reading_sources, self.inventory.sensors
        earliest, latest = now - self.limits.max_past_s, now + self.limits.max_future_s

        def clean(r: SensorReading) -> bool:
            spec = sources.get(r.source)
            if spec is None:
                return False
            kind, unit, low, high = spec
            value = r.value
            return (r.kind is kind and r.unit == unit and low <= value <= high and value not in SENTINELS
                    and (sensors is None or sensors.get(r.sensor_id) is kind)
                    and earliest <= r.event_time.timestamp() <= latest)

        return clean


def dead_letter(rejection: Rejection, topic: str, now: float) -> DeadLetter:
    """The dead-letter event for a rejection (event time = when it was refused)."""
    err = rejection.error
    return DeadLetter(source=rejection.source, event_time=datetime.fromtimestamp(now, tz=timezone.utc),
                      topic=topic, reason=err.reason, field=err.field, value=err.value, raw=rejection.raw)


def reading_batch(readings: list[SensorReading], source: str, now: float) -> ReadingBatch:
    return ReadingBatch(source=source, event_time=datetime.fromtimestamp(now, tz=timezone.utc),
                        readings=readings)
