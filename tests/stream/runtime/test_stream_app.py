"""A real Faust app on the embedded broker: topics, the fetch-wait transport, a round trip."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest

from stream import schemas, topics
from stream.runtime.admin import (
    partition_mismatches,
    prepare_topics,
    prepare_topics_async,
)
from stream.runtime.app import build_app, expected_topics

pytestmark = pytest.mark.integration


def test_partition_mismatches_name_the_topic() -> None:
    problems = partition_mismatches({"a": 8, "b": 8, "c": 4}, {"a": 8, "b": 4})
    assert problems == ["topic b has 4 partitions, expected 8", "topic c does not exist"]


def test_prepare_topics_creates_every_topic_with_its_count(make_settings) -> None:
    settings = make_settings(partitions=3)
    actual = prepare_topics(settings, agent_modules=[])
    rt = build_app(settings, agent_modules=[])
    assert actual == expected_topics(rt)
    assert actual[rt.topic_name(topics.WATER_LEVELS)] == 3


async def test_worker_consumes_with_short_fetch_wait(make_settings) -> None:
    settings = make_settings(partitions=2)
    await prepare_topics_async(settings, agent_modules=[])
    rt = build_app(settings, agent_modules=[])
    received: asyncio.Queue[schemas.WaterLevel] = asyncio.Queue()

    @rt.app.agent(rt.topic(topics.WATER_LEVELS))
    async def collect(stream):  # type: ignore[no-untyped-def]
        async for payload in stream:
            await received.put(schemas.decode(schemas.WaterLevel, payload))

    await rt.app.start()
    try:
        consumer = rt.app.consumer._thread._ensure_consumer()
        assert consumer._fetch_max_wait_ms == settings.fetch_max_wait_ms
        level = schemas.WaterLevel(source="test", event_time=datetime.now(timezone.utc),
                                   gauge_id="hlj-heihe", stage_m=96.5)
        await asyncio.sleep(1.0)
        await rt.topic(topics.WATER_LEVELS).send(key=b"hlj-heihe", value=schemas.encode(level))
        got = await asyncio.wait_for(received.get(), timeout=30)
        assert got == level
    finally:
        await rt.app.stop()
