"""Reading the projection from Redis: the consistent snapshot, update ranges, the tail."""

from __future__ import annotations

from collections.abc import Mapping

import redis.asyncio as aioredis

from command_ui.mirror import Mirror, Update
from stream.screens.projection import Channel, Keys


async def read_mirror(client: aioredis.Redis, keys: Keys) -> Mirror:
    """Every channel's state and sequence, read in one MULTI/EXEC (atomic w.r.t. the projector)."""
    pipe = client.pipeline(transaction=True)
    for channel in Channel:
        pipe.hgetall(keys.state(channel))
        pipe.get(keys.seq(channel))
    replies = await pipe.execute()
    state, head = {}, {}
    for index, channel in enumerate(Channel):
        raw_state, raw_seq = replies[2 * index], replies[2 * index + 1]
        state[channel] = {_text(k): bytes(v) for k, v in raw_state.items()}
        head[channel] = int(raw_seq or 0)
    return Mirror(state, head)


async def oldest_seqs(client: aioredis.Redis, keys: Keys) -> dict[Channel, int | None]:
    """First sequence still held in each update stream (None if empty)."""
    pipe = client.pipeline(transaction=False)
    for channel in Channel:
        pipe.xrange(keys.updates(channel), count=1)
    replies = await pipe.execute()
    return {channel: (_seq(reply[0][0]) if reply else None) for channel, reply in zip(Channel, replies)}


async def read_range(client: aioredis.Redis, keys: Keys, channel: Channel, after: int, upto: int) -> list[Update]:
    """Updates ``after`` < seq <= ``upto`` of one channel, in order."""
    if upto <= after:
        return []
    entries = await client.xrange(keys.updates(channel), min=f"{after + 1}-0", max=f"{upto}-0")
    return [_update(channel, entry_id, fields) for entry_id, fields in entries]


async def read_tail(client: aioredis.Redis, keys: Keys, head: Mapping[Channel, int],
                    block_ms: int, count: int) -> list[Update]:
    """Updates after ``head`` on every channel, waiting up to ``block_ms`` for the first."""
    streams = {keys.updates(channel): f"{head[channel]}-0" for channel in Channel}
    replies = await client.xread(streams, count=count, block=block_ms)
    by_name = {keys.updates(channel): channel for channel in Channel}
    updates: list[Update] = []
    for name, entries in replies or []:
        channel = by_name[_text(name)]
        updates.extend(_update(channel, entry_id, fields) for entry_id, fields in entries)
    return updates


async def read_counters(client: aioredis.Redis, keys: Keys) -> tuple[dict[str, int], dict[Channel, int]]:
    """Event counters, and every channel's current sequence (to notice a reset projection)."""
    pipe = client.pipeline(transaction=False)
    pipe.hgetall(keys.counters)
    for channel in Channel:
        pipe.get(keys.seq(channel))
    raw, *seqs = await pipe.execute()
    counters = {_text(k): int(v) for k, v in raw.items()}
    return counters, {channel: int(seq or 0) for channel, seq in zip(Channel, seqs)}


def _update(channel: Channel, entry_id: bytes | str, fields: Mapping[bytes, bytes]) -> Update:
    data = fields.get(b"d") or None
    return Update(channel, _seq(entry_id), _text(fields[b"k"]), bytes(data) if data else None)


def _seq(entry_id: bytes | str) -> int:
    return int(_text(entry_id).split("-", 1)[0])


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
