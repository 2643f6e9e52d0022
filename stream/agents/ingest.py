"""Ingest agents: validate raw input, drop duplicates, route, dead-letter, watch source health.

``ingest_raw`` reads :data:`stream.topics.RAW_INGEST` (key: source id), hands each
payload to :class:`stream.ingest.intake.Intake` and sends what comes out: readings as
one :class:`ReadingBatch` per partition of the readings topic, weather and water
levels one by one, rejections to the dead-letter topic. Readings are deduped in
memory per partition; weather and gauge levels (a few per second) also against
the changelogged ``ingest-recent-times`` table, so their dedupe survives
restarts and rebalances (docs/ingest.md). ``watch_sources`` is a
timer that publishes :class:`SourceHealth` changes for the sources whose raw
partition this worker owns. Decisions live in ``stream.ingest.intake``,
``stream.ingest.validation``, ``stream.ingest.dedupe`` and ``stream.ingest.health``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import faust

from stream import topics
from stream.agents.outbox import Outgoing, publish_acknowledged
from stream.errors import InvalidEvent
from stream.ingest.dedupe import remember
from stream.ingest.health import Watched, health_changes, should_record
from stream.ingest.intake import (
    UNREGISTERED,
    Intake,
    Rejection,
    Routed,
    dead_letter,
    raw_text,
    reading_batch,
)
from stream.ingest.inventory import Inventory, load_inventory
from stream.ingest.outcome import Outcome
from stream.ingest.registry import Registry, load_registry
from stream.ingest.validation import Observation, TimeLimits, identity
from stream.runtime.app import Runtime
from stream.runtime.eventclock import event_clock_on
from stream.schemas import SourceState, encode
from stream.topics import partition_for

log = logging.getLogger(__name__)

ROUTER_SOURCE = "amur.ingest"
"""``source`` of the ReadingBatch messages the router assembles."""


def register(rt: Runtime) -> None:
    install(rt, load_registry(rt.settings.ingest_registry), load_inventory(rt.settings.gis_manifest))


def install(rt: Runtime, registry: Registry, inventory: Inventory) -> None:
    """Define the ingest agents, table and timer on ``rt.app`` for this registry and inventory."""
    settings, app, metrics = rt.settings, rt.app, rt.metrics
    raw_topic, raw_name = rt.topic(topics.RAW_INGEST), rt.topic_name(topics.RAW_INGEST)
    readings_topic, weather_topic = rt.topic(topics.READINGS), rt.topic(topics.WEATHER)
    levels_topic, dlq, health_topic = rt.topic(topics.WATER_LEVELS), rt.topic(topics.DEAD_LETTER), \
        rt.topic(topics.SOURCE_HEALTH)
    partitions = settings.partitions
    event_clock = event_clock_on(settings.ingest_clock, settings.drill_id)
    intake = Intake(registry, inventory, TimeLimits(settings.ingest_max_future_s, settings.ingest_max_past_s),
                    readings_partitions=topics.partitions_for(topics.READINGS, partitions),
                    dedupe_window_s=settings.ingest_dedupe_window_s, dedupe_max_keys=settings.ingest_dedupe_max_keys,
                    event_clock=event_clock)
    recent = app.Table("ingest-recent-times", default=None, partitions=partitions,
                       schema=faust.Schema(key_type=str, value_type=None, key_serializer="json",
                                           value_serializer="json"),
                       help="source|station or gauge id -> event times seen within the dedupe window")
    last_seen = app.Table("ingest-last-seen", default=None, partitions=partitions,
                          schema=faust.Schema(key_type=str, value_type=float, key_serializer="json",
                                              value_serializer="json"),
                          help="source id -> epoch seconds of its last accepted arrival")

    async def publish(routed: Routed, now: float, acknowledged: bool) -> None:
        messages = [Outgoing(readings_topic, readings[0].sensor_id.encode(),
                             encode(reading_batch(readings, ROUTER_SOURCE, now)), partition)
                    for partition, readings in routed.readings.items()]
        messages += [Outgoing(weather_topic, obs.station_id.encode(), encode(obs)) for obs in routed.weather]
        messages += [Outgoing(levels_topic, level.gauge_id.encode(), encode(level)) for level in routed.levels]
        if acknowledged:
            await publish_acknowledged(messages)
        else:
            for m in messages:
                await m.topic.send(key=m.key, value=m.value, partition=m.partition)
        for rejection in routed.rejected:
            await send_dead_letter(rejection, now)
        for (source, outcome), n in routed.counts.items():
            metrics.count(source, outcome, n)

    async def send_dead_letter(rejection: Rejection, now: float) -> None:
        await dlq.send(key=rejection.source.encode(), value=encode(dead_letter(rejection, raw_name, now)))
        metrics.count(rejection.source, Outcome.DEAD_LETTERED)

    def durable_dedupe(to_record: dict[str, list[float]]) -> Callable[[Observation], bool]:
        """Durable dedupe of the low-rate feeds (weather, gauges): survives restarts and rebalances.

        Only decides: what it would remember goes into ``to_record``, written to the table once the
        observations are published (see outbox), so a crash in between cannot drop a first copy."""

        def is_new(obs: Observation) -> bool:
            key = f"{obs.source}|{identity(obs)}"
            seen = to_record.get(key) or recent.get(key) or ()
            times = remember(tuple(seen), obs.event_time.timestamp(), settings.ingest_dedupe_window_s)
            if times is None:
                return False
            to_record[key] = list(times)
            return True

        return is_new

    @app.agent(raw_topic, name="ingest_raw")
    async def ingest_raw(stream: Any) -> None:
        async for event in stream.events():
            now = time.time()
            payload: bytes = event.value if isinstance(event.value, bytes) else bytes(event.value or b"")
            try:
                routed = intake.process(payload, event.message.partition, now)
            except Exception as exc:  # noqa: BLE001 - bad input must never stop the worker
                log.exception("ingest failed partition=%s", event.message.partition)
                error = InvalidEvent(f"internal error while validating: {exc!r}", field=None, value=None)
                rejection = Rejection(UNREGISTERED, error, raw_text(payload))
                metrics.count(rejection.source, Outcome.REJECTED)
                await send_dead_letter(rejection, now)
                continue
            to_record: dict[str, list[float]] = {}
            routed.drop_duplicates(durable_dedupe(to_record))
            # readings are de-duplicated in memory only, so only the durable feeds need the acknowledgement
            await publish(routed, now, acknowledged=bool(to_record))
            for key, times in to_record.items():
                recent[key] = times
            seen_at = intake.watermark if event_clock and intake.watermark is not None else now
            for source in routed.seen:
                if should_record(last_seen.get(source), seen_at):
                    last_seen[source] = seen_at

    published: dict[str, SourceState] = {}
    # on the event clock, silence is judged in stream time from the first event on (stream.runtime.eventclock)
    watch = _SourceWatch(registry, partitions, started=None if event_clock else time.time())

    @app.timer(settings.ingest_health_interval_s, name="watch_sources")
    async def watch_sources() -> None:
        now = intake.watermark if event_clock else time.time()
        if now is None:
            return
        if watch.started is None:
            watch.started = now
        owned = {tp.partition for tp in app.assignor.assigned_actives() if tp.topic == raw_name}
        watched = watch.watched(owned, last_seen)
        for gone in set(published) - {w.source_id for w in watched}:
            del published[gone]
        for change in health_changes(watched, published, watch.started, settings.stale_cadence_factor, now):
            await health_topic.send(key=change.source_id.encode(), value=encode(change))
            published[change.source_id] = change.state
            log.info("source health source_id=%s state=%s", change.source_id, change.state.value)
        metrics.sources_stale.set(sum(1 for s in published.values() if s is SourceState.STALE))

    @app.on_partitions_revoked.connect
    async def forget_windows(sender: Any, revoked: Any, **_: Any) -> None:
        intake.forget({tp.partition for tp in revoked if tp.topic == raw_name})


class _SourceWatch:
    """Which sources this worker watches: required ones and ones seen, on its raw partitions."""

    def __init__(self, registry: Registry, partitions: int, started: float | None) -> None:
        self.started = started
        """Since when the sources are watched (None on the event clock until the first event)."""
        self.sources = [(s, partition_for(s.source_id, partitions)) for s in registry.sources.values()]

    def watched(self, owned: set[int], last_seen: Any) -> list[Watched]:
        out = []
        for source, partition in self.sources:
            if partition not in owned:
                continue
            seen = last_seen.get(source.source_id)
            if seen is not None or source.required:
                out.append(Watched(source.source_id, source.cadence_s, seen))
        return out
