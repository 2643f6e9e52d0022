"""stream.cameras.redisbatch against a real Redis: batched SETs with TTL, latest value wins, losses counted."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from stream.cameras.redisbatch import BatchWriter
from stream.embedded.services import free_port
from stream.runtime.metrics import Metrics

pytestmark = pytest.mark.integration


@pytest.fixture
async def redis(redis_server) -> AsyncIterator[aioredis.Redis]:  # type: ignore[no-untyped-def]
    client = aioredis.Redis.from_url(redis_server.url + "/0")
    yield client
    await client.aclose()


def dropped(metrics: Metrics, queue: str) -> float:
    return metrics.registry.get_sample_value("amur_dropped_total", {"queue": queue}) or 0.0


async def test_a_full_batch_is_written_at_once_with_ttls_and_the_latest_value_per_key(redis) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    writer = BatchWriter(redis, Metrics(), flush_s=60.0, batch_size=3)
    flusher = asyncio.create_task(writer.run())
    try:
        writer.put(prefix + "a", b"old", 30, "q")
        writer.put(prefix + "a", b"new", 30, "q")  # replaces the waiting write
        writer.put(prefix + "b", b"b", 40, "q")
        await asyncio.sleep(0.2)
        assert await redis.get(prefix + "a") is None  # two keys wait for a minute
        writer.put(prefix + "c", b"c", 50, "q")  # the third fills the batch
        for _ in range(50):
            if await redis.exists(prefix + "c"):
                break
            await asyncio.sleep(0.02)
        assert await redis.mget([prefix + k for k in "abc"]) == [b"new", b"b", b"c"]
        assert 0 < await redis.ttl(prefix + "a") <= 30 and 40 < await redis.ttl(prefix + "c") <= 50
    finally:
        flusher.cancel()
        await asyncio.gather(flusher, return_exceptions=True)


async def test_a_lone_write_is_flushed_within_the_interval(redis) -> None:
    key = f"test:{uuid.uuid4().hex}"
    writer = BatchWriter(redis, Metrics(), flush_s=0.05)
    flusher = asyncio.create_task(writer.run())
    try:
        writer.put(key, b"x", 10, "q")
        for _ in range(250):  # flushed by the timer alone (polled: the machine may be busy)
            if await redis.exists(key):
                break
            await asyncio.sleep(0.02)
        assert await redis.get(key) == b"x"
    finally:
        flusher.cancel()
        await asyncio.gather(flusher, return_exceptions=True)


async def test_writes_beyond_the_bound_are_dropped_and_counted(redis) -> None:
    metrics, prefix = Metrics(), f"test:{uuid.uuid4().hex}:"
    writer = BatchWriter(redis, metrics, max_pending=2)
    for key in "abc":
        writer.put(prefix + key, b"v", 10, "vision_thumbnail")
    writer.put(prefix + "a", b"w", 10, "vision_thumbnail")  # a waiting key is still replaced
    await writer.flush()
    assert dropped(metrics, "vision_thumbnail") == 1
    assert await redis.mget([prefix + k for k in "abc"]) == [b"w", b"v", None]


async def test_a_refused_write_is_counted_under_its_label_and_the_others_land(redis) -> None:
    metrics, prefix = Metrics(), f"test:{uuid.uuid4().hex}:"
    writer = BatchWriter(redis, metrics)
    writer.put(prefix + "good", b"v", 10, "vision_thumbnail")
    writer.put(prefix + "bad", b"v", 0, "vision_state")  # Redis refuses an expiry of 0
    await writer.flush()
    assert await redis.get(prefix + "good") == b"v"
    assert (dropped(metrics, "vision_state"), dropped(metrics, "vision_thumbnail")) == (1, 0)


async def test_a_redis_that_is_down_is_counted_and_nothing_is_raised(caplog) -> None:
    metrics = Metrics()
    down = aioredis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0")
    writer = BatchWriter(down, metrics)
    writer.put("test:cam1", b"thumb", 10, "vision_thumbnail")
    writer.put("test:cam2", b"thumb", 10, "vision_thumbnail")
    writer.put("test:state:cam1", b"{}", 10, "vision_state")
    await writer.flush()
    assert (dropped(metrics, "vision_thumbnail"), dropped(metrics, "vision_state")) == (2, 1)
    assert "redis writes lost count=3" in caplog.text and "test:cam1" in caplog.text
    await writer.flush()  # nothing waits any more
    assert dropped(metrics, "vision_thumbnail") == 2
    await down.aclose()
