"""Projection agents: derived topics -> current state and update streams in Redis.

Each agent decodes, calls :func:`stream.screens.projection.project` and applies the
result with :class:`RedisProjector`. A state change and its numbered update
are written by one Lua script, so the sequence number a reader sees always
matches the state it reads.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
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

    async def apply(self, projections: Iterable[Projection]) -> None:
        """Write every change, point and count, in order, in one round trip."""
        pipe = self.client.pipeline(transaction=False)
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
        await pipe.execute()


async def apply_until_done(projector: RedisProjector, projections: list[Projection], name: str) -> int:
    """Apply ``projections``, retrying while Redis is unreachable; returns the number of failed tries.

    A retried batch may repeat part of its writes: state upserts are idempotent, a series point or a
    counter can count twice (at least once, like the stream itself).
    """
    delay, failures = RETRY_FIRST_S, 0
    while True:
        try:
            await projector.apply(projections)
            if failures:
                log.info("projection resumed topic=%s after_failures=%s", name, failures)
            return failures
        except (RedisConnectionError, RedisTimeoutError) as exc:
            failures += 1
            log.warning("projection paused: redis unreachable topic=%s error=%s retry_in_s=%.1f", name, exc, delay)
            await asyncio.sleep(delay)
            delay = min(RETRY_CAP_S, delay * 2)


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

    def projector() -> RedisProjector:
        found = holder.get("p")
        if found is None:
            client = aioredis.from_url(rt.redis_url())
            found = holder["p"] = RedisProjector(client, keys, rt.settings.projection_stream_maxlen,
                                                 rt.settings.projection_series_maxlen)
        return found

    for spec, kind in PROJECTED:
        _register_one(rt, spec, kind, keys, projector)


def _register_one(rt: Any, spec: topics.TopicSpec, kind: type, keys: Keys, projector: Any) -> None:
    async def project_topic(stream: Any) -> None:
        async for batch in stream.take(BATCH, within=BATCH_WITHIN_S):
            events, refused = decode_all(kind, batch)
            if refused:
                rt.metrics.dropped.labels(queue=f"projection:{spec.name}").inc(refused)
            await apply_until_done(projector(), [project(event, keys) for event in events], spec.name)

    project_topic.__name__ = f"project_{spec.name.replace('.', '_')}"
    project_topic.__qualname__ = project_topic.__name__
    rt.app.agent(rt.topic(spec), name=f"amur.projection.{spec.name}")(project_topic)
