"""True end offsets, whatever the broker reports.

The embedded broker (Tansu) answers a ListOffsets(latest) request with the base
offset of a partition's last producer batch + 1, not the offset after its last
record: 45 records produced in one batch report an end offset of 1. Table
recovery and "read to the end" loops stop there and miss the rest of that
batch. A fetch from ``reported - 1`` returns the whole last batch, so the real
end is one past the highest offset it holds. On Apache Kafka the fetch returns
the record at ``reported - 1`` and the result is unchanged.

:class:`GroupLag` measures a consumer group's lag against those true ends (a
drill waits on it until its worker has processed everything).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from stream.errors import AmurError


def corrected_end(reported: int, highest_fetched: int | None) -> int:
    """The end offset: one past the highest record seen at or after ``reported - 1``."""
    if highest_fetched is None:
        return reported
    return max(reported, highest_fetched + 1)


async def true_end_offsets(bootstrap: str, reported: Mapping[TopicPartition, int],
                           timeout_s: float = 10.0, options: Mapping[str, Any] | None = None
                           ) -> dict[TopicPartition, int]:
    """Correct ``reported`` end offsets by fetching the last batch of each partition (``options``: SASL)."""
    result = dict(reported)
    probe = [tp for tp, end in reported.items() if end and end > 0]
    if not probe:
        return result
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                fetch_max_wait_ms=10, isolation_level="read_uncommitted", **(options or {}))
    await consumer.start()
    try:
        consumer.assign(probe)
        for tp in probe:
            consumer.seek(tp, reported[tp] - 1)
        highest: dict[TopicPartition, int] = {}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while len(highest) < len(probe) and loop.time() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            for tp, records in batches.items():
                if records:
                    highest[tp] = max(highest.get(tp, -1), records[-1].offset)
                    consumer.pause(tp)
        for tp in probe:
            result[tp] = corrected_end(reported[tp], highest.get(tp))
    finally:
        await consumer.stop()
    return result


def lag_per_topic(committed: Mapping[TopicPartition, int | None],
                  ends: Mapping[TopicPartition, int]) -> dict[str, int]:
    """Per topic, the messages a group has not committed: end - committed over the partitions.

    A partition with no committed offset (None or -1) counts from 0: the worker
    reads it from the beginning (``consumer_auto_offset_reset="earliest"``).
    """
    lag: dict[str, int] = {}
    for tp, end in ends.items():
        done = max(0, committed.get(tp) or 0)
        lag[tp.topic] = lag.get(tp.topic, 0) + max(0, end - done)
    return lag


class GroupLag:
    """How far a consumer group is behind on some topics; an async context manager holding its clients.

    :meth:`offsets` reads the group's committed offsets *before* the end offsets,
    so a lag of 0 on every topic means that everything on those topics when the
    committed offsets were read had been processed. Faust flushes what an agent
    sent before it commits the offsets of what the agent read, so when the group
    consumes every topic of a pipeline, zero everywhere means no message is in
    flight (a timer may still send: see :mod:`stream.drills.settle`).
    """

    def __init__(self, bootstrap: str, group: str, topics: Sequence[str], timeout_s: float = 10.0,
                 options: Mapping[str, Any] | None = None):
        self.bootstrap, self.group, self.topics, self.timeout_s = bootstrap, group, list(topics), timeout_s
        self.options = dict(options or {})  # SASL (stream.runtime.kafkaauth)
        self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000),
                                          **self.options)
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                          request_timeout_ms=int(timeout_s * 1000), **self.options)

    async def __aenter__(self) -> GroupLag:
        await self._admin.start()
        try:
            await self._consumer.start()
        except BaseException:
            await self._admin.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self._consumer.stop()
        finally:
            await self._admin.close()

    async def partitions(self) -> list[TopicPartition]:
        """Every partition of the topics; :class:`AmurError` naming a topic the broker does not know."""
        described = await asyncio.wait_for(self._admin.describe_topics(self.topics), self.timeout_s)
        found = {d["topic"]: d["partitions"] for d in described if not d["error_code"] and d["partitions"]}
        missing = [name for name in self.topics if name not in found]
        if missing:
            raise AmurError(f"topic {missing[0]} does not exist")
        return [TopicPartition(name, p["partition"]) for name in self.topics
                for p in sorted(found[name], key=lambda p: p["partition"])]

    async def offsets(self) -> tuple[dict[TopicPartition, int | None], dict[TopicPartition, int]]:
        """The group's committed offsets (None: none yet), then the true end offsets, of every partition."""
        partitions = await self.partitions()
        found = await asyncio.wait_for(self._admin.list_consumer_group_offsets(self.group, partitions=partitions),
                                       self.timeout_s)
        committed = {tp: (meta.offset if meta.offset >= 0 else None) for tp, meta in found.items()}
        reported = await asyncio.wait_for(self._consumer.end_offsets(partitions), self.timeout_s)
        return committed, await true_end_offsets(self.bootstrap, reported, self.timeout_s, self.options)

    async def measure(self) -> dict[str, int]:
        """Per topic, the messages the group has not committed yet."""
        return lag_per_topic(*await self.offsets())
