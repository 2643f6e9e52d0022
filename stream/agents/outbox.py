"""Publish, then record: the order that keeps at-least-once processing lossless.

A worker can die between writing a table (whose changelog survives it) and
publishing what that write decided. If the table write lands first, the input
is replayed after the restart against state that already holds it, the decision
is "nothing new", and the output is never published. Waiting until the broker
has acknowledged the output before the table is written turns the same crash
into a harmless repeat: the replay decides the same thing again and publishes
the same bytes, which consumers already de-duplicate by id and revision.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any, NamedTuple


class Outgoing(NamedTuple):
    topic: Any  # a faust topic
    key: bytes
    value: bytes
    partition: int | None = None


async def publish_acknowledged(messages: Iterable[Outgoing]) -> None:
    """Send every message, then wait until the broker has acknowledged all of them."""
    pending = [await m.topic.send(key=m.key, value=m.value, partition=m.partition) for m in messages]
    if pending:
        await asyncio.gather(*pending)
