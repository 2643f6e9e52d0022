"""Projection agents: derived topics -> current state and update streams in Redis.

Each agent decodes, calls :func:`stream.screens.projection.project` and applies the
result with :class:`RedisProjector`. A state change and its numbered update
are written by one Lua script, so the sequence number a reader sees always
matches the state it reads.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from stream import schemas, topics
from stream.errors import InvalidEvent
from stream.screens.projection import Keys, Projection, project

log = logging.getLogger(__name__)

#: KEYS: state hash, seq counter, update stream. ARGV: field, value ('' deletes), only-if-changed, maxlen.
#: Returns the new sequence number, or 0 when nothing changed.
UPSERT_LUA = """
local old = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[2] == '' then
  if not old then return 0 end
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  if ARGV[3] == '1' and old == ARGV[2] then return 0 end
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
local seq = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], seq .. '-0', 'k', ARGV[1], 'd', ARGV[2])
return seq
"""

#: Topics projected, with the wire type each carries.
PROJECTED: tuple[tuple[topics.TopicSpec, type], ...] = (
    (topics.INCIDENTS, schemas.IncidentChanged),
    (topics.CELL_RISK, schemas.CellRisk),
    (topics.GAUGE_STATE, schemas.GaugeState),
    (topics.CRESTS, schemas.CrestDetected),
    (topics.FORECASTS, schemas.CrestForecast),
    (topics.FRAMES, schemas.FrameSample),
    (topics.FINDINGS, schemas.VisionFinding),
    (topics.SOURCE_HEALTH, schemas.SourceHealth),
    (topics.SAMPLING, schemas.SamplingHealth),
    (topics.DISPATCH, schemas.RequestChanged),
    (topics.DEAD_LETTER, schemas.DeadLetter),
)

BATCH = 500
BATCH_WITHIN_S = 0.02
RETRY_FIRST_S = 0.5
RETRY_CAP_S = 10.0
"""While Redis is unreachable a batch is retried, 0.5 s, 1 s, 2 s ... 10 s apart: the partition waits, nothing is
skipped, and the worker stays up (a crashed agent would stop projecting until the worker restarts)."""


class RedisProjector:
    """Applies projections to one Redis (a connection pool per process)."""

    def __init__(self, client: aioredis.Redis, keys: Keys, stream_maxlen: int, series_maxlen: int) -> None:
        self.client = client
        self.keys = keys
        self.stream_maxlen = stream_maxlen
        self.series_maxlen = series_maxlen
        self._upsert = client.register_script(UPSERT_LUA)
        self.written = False
        """Whether this projector has written before: the epoch key missing after that means Redis was reset."""

    async def apply(self, projections: Iterable[Projection]) -> bool:
        """Write every change, point and count, in order, in one round trip.

        Returns True when Redis turned out to have lost the projection since this projector's last write
        (restarted without persistence): the caller re-projects the topics (:func:`rebuild`).
        """
        pipe = self.client.pipeline(transaction=False)
        pipe.set(self.keys.epoch, "1", nx=True)
        for projection in projections:
            for change in projection.changes:
                await self._upsert(
                    keys=[self.keys.state(change.channel), self.keys.seq(change.channel),
                          self.keys.updates(change.channel)],
                    args=[change.key, change.value or b"", "1" if change.only_if_changed else "0",
                          self.stream_maxlen],
                    client=pipe,
                )
            for point in projection.points:
                pipe.xadd(point.series, dict(point.fields), maxlen=self.series_maxlen, approximate=True)
            for field in projection.counts:
                pipe.hincrby(self.keys.counters, field, 1)
            for hash_field in projection.fields:
                pipe.hset(hash_field.key, hash_field.field, hash_field.value)
        created = bool((await pipe.execute())[0])
        reset, self.written = created and self.written, True
        return reset


async def apply_until_done(projector: RedisProjector, projections: list[Projection], name: str) -> bool:
    """Apply ``projections``, retrying while Redis is unreachable; True if Redis was found reset.

    A retried batch may repeat part of its writes: state upserts are idempotent, a series point or a
    counter can count twice (at least once, like the stream itself).
    """
    delay, failures = RETRY_FIRST_S, 0
    while True:
        try:
            reset = await projector.apply(projections)
            if failures:
                log.info("projection resumed topic=%s after_failures=%s", name, failures)
            return reset
        except (RedisConnectionError, RedisTimeoutError) as exc:
            failures += 1
            log.warning("projection paused: redis unreachable topic=%s error=%s retry_in_s=%.1f", name, exc, delay)
            await asyncio.sleep(delay)
            delay = min(RETRY_CAP_S, delay * 2)


async def rebuild(rt: Any, projector: RedisProjector, keys: Keys) -> int:
    """Re-project every projected topic from its beginning to its end, following the end until caught up.

    Run when Redis lost the projection while workers ran. The agents go on writing meanwhile: the rebuild
    applies every message up to an end that no longer moves, so its last write of each key is at least as
    new as theirs, and what they write after it is newer still. Returns the number of events re-projected.
    """
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from stream.runtime.admin import bootstrap_servers
    from stream.runtime.app import kafka_url
    from stream.runtime.kafkaauth import client_options
    from stream.runtime.offsets import true_end_offsets

    kinds = {rt.topic_name(spec): kind for spec, kind in PROJECTED}
    bootstrap = bootstrap_servers(kafka_url(rt.settings))
    options = client_options(rt.settings)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                fetch_max_wait_ms=50, **options)
    await consumer.start()
    try:
        known = await consumer.topics()
        assigned = [TopicPartition(name, p) for name in kinds if name in known
                    for p in sorted(consumer.partitions_for_topic(name) or ())]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        applied, end = 0, None
        while True:
            latest = await true_end_offsets(bootstrap, await consumer.end_offsets(assigned), options=options)
            if latest == end and all([await consumer.position(tp) >= end[tp] for tp in assigned]):
                return applied
            end = latest
            while [tp for tp in assigned if await consumer.position(tp) < end[tp]]:
                for tp, messages in (await consumer.getmany(timeout_ms=200, max_records=BATCH)).items():
                    events, _ = decode_all(kinds[tp.topic], [m.value for m in messages])
                    await apply_until_done(projector, [project(e, keys) for e in events], tp.topic)
                    applied += len(events)
    finally:
        await consumer.stop()


def decode_all(kind: type, payloads: Iterable[bytes]) -> tuple[list[Any], int]:
    """Decoded events and the number refused (derived topics should never carry bad events)."""
    events, refused = [], 0
    for payload in payloads:
        try:
            events.append(schemas.decode(kind, payload))
        except InvalidEvent as exc:
            refused += 1
            log.warning("projection refused event kind=%s reason=%s", kind.__name__, exc.reason)
    return events, refused


def register(rt: Any) -> None:
    """One agent per projected topic, sharing one Redis client and projector."""
    keys = Keys(rt.settings.redis_prefix)
    holder: dict[str, RedisProjector] = {}
    rebuilding: dict[str, asyncio.Task[None]] = {}

    def projector() -> RedisProjector:
        found = holder.get("p")
        if found is None:
            client = aioredis.from_url(rt.redis_url())
            found = holder["p"] = RedisProjector(client, keys, rt.settings.projection_stream_maxlen,
                                                 rt.settings.projection_series_maxlen)
        return found

    def on_reset() -> None:
        """Redis lost the projection: re-project the topics in the background (one rebuild at a time)."""
        running = rebuilding.get("task")
        if running is not None and not running.done():
            return

        async def run() -> None:
            log.warning("projection lost (Redis reset); re-projecting every projected topic")
            try:
                count = await rebuild(rt, projector(), keys)
            except Exception:  # noqa: BLE001 - logged; it must not take the worker down
                log.exception("projection rebuild failed; the wall shows only what changed since the reset")
                return
            log.info("projection rebuilt events=%s", count)

        rebuilding["task"] = asyncio.create_task(run(), name="projection-rebuild")

    for spec, kind in PROJECTED:
        _register_one(rt, spec, kind, keys, projector, on_reset)


def _register_one(rt: Any, spec: topics.TopicSpec, kind: type, keys: Keys,
                  projector: Callable[[], RedisProjector], on_reset: Callable[[], None]) -> None:
    async def project_topic(stream: Any) -> None:
        async for batch in stream.take(BATCH, within=BATCH_WITHIN_S):
            events, refused = decode_all(kind, batch)
            if refused:
                rt.metrics.dropped.labels(queue=f"projection:{spec.name}").inc(refused)
            if await apply_until_done(projector(), [project(event, keys) for event in events], spec.name):
                on_reset()

    project_topic.__name__ = f"project_{spec.name.replace('.', '_')}"
    project_topic.__qualname__ = project_topic.__name__
    rt.app.agent(rt.topic(spec), name=f"amur.projection.{spec.name}")(project_topic)
