"""The camera inventory of real sources in Redis: channels placed in their grid cells, and those to place.

``{prefix}cameras:channels`` holds every placed channel, ``{prefix}cameras:unplaced``
the channels an operator must place (no position in the catalogue, or outside
every cell), each a JSON :class:`vision.gb28181.placement.Channel` keyed by
channel id, and ``{prefix}cameras:snapshot_urls`` where each is fetched. A newer
catalogue of a device replaces its channels' entries. Every save bumps
``{prefix}cameras:version``, so a running worker learns of a change with one GET
(:class:`InventoryWatcher`); a worker's sampler adds the placed channels to its
targets when it starts (:func:`stored_targets`) and whenever the version moves.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import redis.asyncio as aioredis

from stream.cameras.targets import CameraTarget
from vision.gb28181.placement import Channel, Placement


class ChannelStore:
    def __init__(self, redis: aioredis.Redis, prefix: str) -> None:
        self.redis = redis
        self.placed_key = f"{prefix}cameras:channels"
        self.unplaced_key = f"{prefix}cameras:unplaced"
        self.urls_key = f"{prefix}cameras:snapshot_urls"
        self.version_key = f"{prefix}cameras:version"

    async def save(self, placement: Placement, urls: Mapping[str, str] | None = None) -> None:
        pipe = self.redis.pipeline(transaction=True)
        if urls:
            pipe.hset(self.urls_key, mapping=dict(urls))
        for channel in placement.placed:
            pipe.hset(self.placed_key, channel.channel_id, _dump(channel))
            pipe.hdel(self.unplaced_key, channel.channel_id)
        for channel in placement.unplaced:
            pipe.hset(self.unplaced_key, channel.channel_id, _dump(channel))
            pipe.hdel(self.placed_key, channel.channel_id)
        pipe.incr(self.version_key)
        await pipe.execute()

    async def remove(self, channel_ids: Iterable[str]) -> None:
        """Channels a device deleted from its catalogue: gone from the inventory (and so from sampling)."""
        ids = list(channel_ids)
        if not ids:
            return
        pipe = self.redis.pipeline(transaction=True)
        for key in (self.placed_key, self.unplaced_key, self.urls_key):
            pipe.hdel(key, *ids)
        pipe.incr(self.version_key)
        await pipe.execute()

    async def set_online(self, channel_ids: Iterable[str], online: bool) -> None:
        for key in (self.placed_key, self.unplaced_key):
            ids = list(channel_ids)
            if not ids:
                return
            stored = await self.redis.hmget(key, ids)
            updates = {cid: _dump(dataclasses.replace(_load(raw), online=online))
                       for cid, raw in zip(ids, stored) if raw is not None}
            if updates:
                await self.redis.hset(key, mapping=updates)

    async def placed(self) -> list[Channel]:
        return [_load(raw) for raw in (await self.redis.hgetall(self.placed_key)).values()]

    async def unplaced(self) -> list[Channel]:
        return [_load(raw) for raw in (await self.redis.hgetall(self.unplaced_key)).values()]


def stored_targets(redis_url: str, prefix: str) -> dict[str, CameraTarget]:
    """The placed channels as sampler targets (HTTP snapshots), read once at a worker's start (sync client)."""
    import redis as sync_redis

    client = sync_redis.Redis.from_url(redis_url)
    try:
        return targets_of(client.hgetall(f"{prefix}cameras:channels"), client.hgetall(f"{prefix}cameras:snapshot_urls"))
    finally:
        client.close()


def targets_of(placed: Mapping[bytes, bytes], urls: Mapping[bytes, bytes]) -> dict[str, CameraTarget]:
    """Stored placed channels with a snapshot URL -> sampler targets (HTTP snapshots, the channel's cell)."""
    out: dict[str, CameraTarget] = {}
    for raw in placed.values():
        channel = _load(raw)
        url = urls.get(channel.channel_id.encode())
        if url and channel.cell_code:
            out[channel.channel_id] = CameraTarget(channel.channel_id, "http", url.decode(), (channel.cell_code,))
    return out


@dataclass(frozen=True)
class InventoryChange:
    """What a running sampler must learn: new or changed targets, and channels no longer placed."""

    changed: dict[str, CameraTarget]
    gone: frozenset[str]


def inventory_change(known: Mapping[str, CameraTarget], inventory_ids: frozenset[str],
                     stored: Mapping[str, CameraTarget]) -> InventoryChange:
    """Pure: ``known`` targets (``inventory_ids`` of them came from the inventory) against what is stored now.

    A registry camera is never ``gone``: only channels the inventory added can leave it."""
    changed = {cid: target for cid, target in stored.items() if known.get(cid) != target}
    return InventoryChange(changed, frozenset(inventory_ids - stored.keys()))


class InventoryWatcher:
    """Reads the placed channels again when ``{prefix}cameras:version`` has moved since the last read."""

    def __init__(self, redis: aioredis.Redis, prefix: str) -> None:
        self.redis = redis
        self.store = ChannelStore(redis, prefix)
        self.version: bytes | None = None

    async def read_if_changed(self) -> dict[str, CameraTarget] | None:
        """The stored targets if the inventory changed since the last call (the first call always reads)."""
        stored = await self._read_if_changed()
        return None if stored is None else targets_of(*stored)

    async def channels_if_changed(self) -> list[Channel] | None:
        """The placed channels if the inventory changed since the last call (the first call always reads)."""
        stored = await self._read_if_changed()
        return None if stored is None else [_load(raw) for raw in stored[0].values()]

    async def _read_if_changed(self) -> tuple[dict[bytes, bytes], dict[bytes, bytes]] | None:
        version = await self.redis.get(self.store.version_key) or b"0"  # read first: a save meanwhile reads again
        if version == self.version:
            return None
        placed = await self.redis.hgetall(self.store.placed_key)
        urls = await self.redis.hgetall(self.store.urls_key)
        self.version = version
        return placed, urls


def _dump(channel: Channel) -> str:
    return json.dumps(dataclasses.asdict(channel), ensure_ascii=False)


def _load(raw: bytes | str) -> Channel:
    return Channel(**json.loads(raw))
