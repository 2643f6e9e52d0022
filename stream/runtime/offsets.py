"""True end offsets, whatever the broker reports.

The embedded broker (Tansu) answers a ListOffsets(latest) request with the base
offset of a partition's last producer batch + 1, not the offset after its last
record: 45 records produced in one batch report an end offset of 1. Table
recovery and "read to the end" loops stop there and miss the rest of that
batch. A fetch from ``reported - 1`` returns the whole last batch, so the real
end is one past the highest offset it holds. On Apache Kafka the fetch returns
the record at ``reported - 1`` and the result is unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition


def corrected_end(reported: int, highest_fetched: int | None) -> int:
    """The end offset: one past the highest record seen at or after ``reported - 1``."""
    if highest_fetched is None:
        return reported
    return max(reported, highest_fetched + 1)


async def true_end_offsets(bootstrap: str, reported: Mapping[TopicPartition, int],
                           timeout_s: float = 10.0) -> dict[TopicPartition, int]:
    """Correct ``reported`` end offsets by fetching the last batch of each partition."""
    result = dict(reported)
    probe = [tp for tp, end in reported.items() if end and end > 0]
    if not probe:
        return result
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                fetch_max_wait_ms=10, isolation_level="read_uncommitted")
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
