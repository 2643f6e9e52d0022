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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Union

import msgspec
import orjson

from stream.errors import InvalidEvent
from stream.ingest.dedupe import DedupeWindow
from stream.ingest.inventory import Inventory
from stream.ingest.outcome import Outcome
from stream.ingest.registry import Registry, SourceSchema
from stream.ingest.validation import (
    SENTINELS,
    Observation,
    TimeLimits,
    identity,
    validate,
)
from stream.schemas import (
    DeadLetter,
    ReadingBatch,
    SensorReading,
    WaterLevel,
    WeatherObservation,
    decode,
)
from stream.topics import partition_for

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

    def drop_duplicates(self, is_new: Callable[[Observation], bool]) -> None:
        """Apply a second (durable) duplicate check to the weather and water levels, moving counts."""
        for name in ("weather", "levels"):
            kept = []
            for obs in getattr(self, name):
                if is_new(obs):
                    kept.append(obs)
                else:
                    self.counts[(obs.source, Outcome.ACCEPTED)] -= 1
                    self.counts[(obs.source, Outcome.DUPLICATE)] += 1
            setattr(self, name, kept)


class Intake:
    """Validation, per-partition dedupe and routing for the raw-ingest agent."""

    def __init__(self, registry: Registry, inventory: Inventory, limits: TimeLimits, readings_partitions: int,
                 dedupe_window_s: float, dedupe_max_keys: int, event_clock: bool = False) -> None:
        self.registry = registry
        self.event_clock = event_clock
        """Check times against the stream's own time (drills, replays) instead of the wall clock."""
        self.watermark: float | None = None
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
        """Route one payload; ``now`` is the wall clock, replaced by the stream's time on an event clock."""
        routed = Routed()
        window = self.window(partition)
        items = decode_items(payload, self.registry)
        if self.event_clock:
            self.watermark = stream_time(items, self.watermark)
            now = now if self.watermark is None else self.watermark + batch_spread_s(items)
        rest = self._fast_readings(items, window, now, routed)
        args = (self.registry, self.inventory, self.limits, now)
        counts = routed.counts
        for item in rest:
            if isinstance(item, Rejection):
                routed.rejected.append(item)
                counts[(item.source, Outcome.REJECTED)] += 1
                continue
            try:
                obs = validate(item, *args)
            except InvalidEvent as exc:
                source = item.source if item.source in self.registry.sources else UNREGISTERED
                routed.rejected.append(Rejection(source, exc, raw_text(msgspec.json.encode(item))))
                counts[(source, Outcome.REJECTED)] += 1
                continue
            self._admit(obs, window, routed)
        return routed

    def _fast_readings(self, items: list[Item], window: DedupeWindow, now: float, routed: Routed) -> list[Item]:
        """Admit the readings that pass every check of validate_reading unchanged; return the others.

        The fast path decides nothing of its own: a reading that needs a unit
        conversion or fails any check is returned for the full path, which
        converts it or raises the exception that names the field.
        """
        sources, sensors = self._reading_sources, self.inventory.sensors
        earliest, latest = now - self.limits.max_past_s, now + self.limits.max_future_s
        partition_of, n, by_partition = self._partition_of, self.readings_partitions, routed.readings
        first_time = window.first_time
        accepted: dict[str, int] = {}
        duplicates: dict[str, int] = {}
        rest: list[Item] = []
        for r in items:
            if type(r) is not SensorReading:
                rest.append(r)
                continue
            spec = sources.get(r.source)
            if spec is None:
                rest.append(r)
                continue
            kind, unit, low, high = spec
            value, ident, t = r.value, r.sensor_id, r.event_time.timestamp()
            if not (r.kind is kind and r.unit == unit and low <= value <= high and value not in SENTINELS
                    and (sensors is None or sensors.get(ident) is kind) and earliest <= t <= latest):
                rest.append(r)
                continue
            if not first_time(r.source, ident, t):
                duplicates[r.source] = duplicates.get(r.source, 0) + 1
                continue
            accepted[r.source] = accepted.get(r.source, 0) + 1
            p = partition_of.get(ident)
            if p is None:
                p = partition_of[ident] = partition_for(ident, n)
            by_partition[p].append(r)
        for outcome, per_source in ((Outcome.ACCEPTED, accepted), (Outcome.DUPLICATE, duplicates)):
            for source, count in per_source.items():
                routed.counts[(source, outcome)] += count
                routed.seen.add(source)
        return rest

    def _admit(self, obs: Observation, window: DedupeWindow, routed: Routed) -> None:
        """Dedupe and route one validated observation."""
        ident = identity(obs)
        routed.seen.add(obs.source)
        if not window.first_time(obs.source, ident, obs.event_time.timestamp()):
            routed.counts[(obs.source, Outcome.DUPLICATE)] += 1
            return
        routed.counts[(obs.source, Outcome.ACCEPTED)] += 1
        if type(obs) is SensorReading:
            p = self._partition_of.get(ident)
            if p is None:
                p = self._partition_of[ident] = partition_for(ident, self.readings_partitions)
            routed.readings[p].append(obs)
        elif type(obs) is WeatherObservation:
            routed.weather.append(obs)
        else:
            routed.levels.append(obs)


def stream_time(items: list[Item], watermark: float | None) -> float | None:
    """The stream's own "now" for an event clock: the later of the watermark and the payload's median time.

    The median makes a few bad times in a batch unable to move the clock; a
    payload of one item can (a known limit of replays, see docs/ingest.md).
    """
    times = sorted(i.event_time.timestamp() for i in items if not isinstance(i, Rejection))
    if not times:
        return watermark
    median = times[len(times) // 2]
    return median if watermark is None else max(watermark, median)


def batch_spread_s(items: list[Item]) -> float:
    """How far a payload's times reach below its median (median - earliest, seconds).

    On an event clock "now" is the median; a payload legitimately spanning half an
    hour (a gauge's backlog) reaches as far above it, so the future check allows
    that much on top of its limit, while a wild time in a tight batch is still refused.
    """
    times = sorted(i.event_time.timestamp() for i in items if not isinstance(i, Rejection))
    return times[len(times) // 2] - times[0] if times else 0.0


def dead_letter(rejection: Rejection, topic: str, now: float) -> DeadLetter:
    """The dead-letter event for a rejection (event time = when it was refused)."""
    err = rejection.error
    return DeadLetter(source=rejection.source, event_time=datetime.fromtimestamp(now, tz=timezone.utc),
                      topic=topic, reason=err.reason, field=err.field, value=err.value, raw=rejection.raw)


def reading_batch(readings: list[SensorReading], source: str, now: float) -> ReadingBatch:
    return ReadingBatch(source=source, event_time=datetime.fromtimestamp(now, tz=timezone.utc),
                        readings=readings)
