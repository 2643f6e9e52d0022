"""End offsets on the embedded broker: the quirk, the correction, and table recovery after it."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from stream import topics
from stream.runtime.admin import prepare_topics_async
from stream.runtime.app import build_app
from stream.runtime.offsets import (
    GroupLag,
    corrected_end,
    lag_per_topic,
    true_end_offsets,
)

pytestmark = pytest.mark.integration


def test_corrected_end_is_one_past_the_highest_record_seen() -> None:
    assert corrected_end(1, 44) == 45
    assert corrected_end(45, 44) == 45  # a broker that reports correctly is left alone
    assert corrected_end(7, None) == 7


async def _one_batch(bootstrap: str, topic: str, n: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topic, 1, 1)])
    await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=200)
    await producer.start()
    futures = [await producer.send(topic, b"r%d" % i) for i in range(n)]
    await producer.flush()
    assert [(await f).offset for f in futures] == list(range(n))
    await producer.stop()


async def test_true_end_offsets_counts_every_record_of_the_last_batch(broker) -> None:
    bootstrap = broker.url.split("://", 1)[1]
    topic = f"offsets-{uuid.uuid4().hex[:8]}"
    await _one_batch(bootstrap, topic, 45)
    tp = TopicPartition(topic, 0)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    reported = await consumer.end_offsets([tp])
    await consumer.stop()
    corrected = await true_end_offsets(bootstrap, reported)
    assert corrected[tp] == 45
    # documents the broker's behaviour this module exists for; if Tansu is fixed this
    # still holds for the corrected value, and the reported one may become 45 too
    assert reported[tp] in (1, 45)


async def test_table_recovers_every_write_made_in_one_burst(make_settings) -> None:
    """Changelog writes made in one burst share producer batches; all must come back."""
    settings = make_settings(partitions=1)
    keys = [f"k{i}".encode() for i in range(60)]

    def app_with_table():  # type: ignore[no-untyped-def]
        rt = build_app(settings, agent_modules=[])
        table = rt.app.Table("burst", default=None, partitions=1, key_type=bytes, value_type=bytes)

        @rt.app.agent(rt.topic(topics.WATER_LEVELS))
        async def remember(stream):  # type: ignore[no-untyped-def]
            async for event in stream.events():
                table[event.key] = event.value

        return rt, table

    rt, table = app_with_table()
    await prepare_topics_async(settings, agent_modules=[])
    await rt.app.start()
    try:
        await asyncio.sleep(2)
        for i, key in enumerate(keys):
            await rt.topic(topics.WATER_LEVELS).send(key=key, value=str(i).encode())
        for _ in range(120):
            if len(table) == len(keys):
                break
            await asyncio.sleep(0.25)
        assert len(table) == len(keys)
        await asyncio.sleep(1.5)  # let the changelog producer flush
    finally:
        await rt.app.stop()

    rt2, table2 = app_with_table()
    await rt2.app.start()
    try:
        for _ in range(120):
            if len(table2) == len(keys):
                break
            await asyncio.sleep(0.25)
        assert {k: table2.get(k) for k in keys} == {k: str(i).encode() for i, k in enumerate(keys)}
    finally:
        await rt2.app.stop()


def test_lag_is_end_minus_committed_summed_per_topic() -> None:
    a0, a1, b0 = TopicPartition("a", 0), TopicPartition("a", 1), TopicPartition("b", 0)
    assert lag_per_topic({a0: 40, a1: None, b0: -1}, {a0: 45, a1: 3, b0: 0}) == {"a": 8, "b": 0}
    assert lag_per_topic({a0: 45}, {a0: 45}) == {"a": 0}


async def test_group_lag_counts_what_the_group_has_not_committed_against_the_true_ends(broker) -> None:
    bootstrap = broker.url.split("://", 1)[1]
    topic, group = f"lag-{uuid.uuid4().hex[:8]}", f"g-{uuid.uuid4().hex[:8]}"
    await _one_batch(bootstrap, topic, 45)  # one batch: the broker reports an end offset of 1
    async with GroupLag(bootstrap, group, [topic]) as lag:
        assert await lag.measure() == {topic: 45}  # nothing committed: all of it
        reader = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                                  auto_offset_reset="earliest")
        await reader.start()
        try:
            read = 0
            for _ in range(60):
                batches = await reader.getmany(timeout_ms=500, max_records=30)
                read += sum(len(records) for records in batches.values())
                if read:
                    break
            await reader.commit()
            assert await lag.measure() == {topic: 45 - read}
            while read < 45:
                read += sum(len(r) for r in (await reader.getmany(timeout_ms=500)).values())
            await reader.commit()
        finally:
            await reader.stop()
        assert await lag.measure() == {topic: 0}
