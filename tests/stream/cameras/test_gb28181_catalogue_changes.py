"""Catalogue changes a device pushes (Notify Catalog: ADD, DEL, UPDATE, ON, OFF) update the inventory.

Real SIP over UDP on loopback, the real grid lookup, real Redis. The platform
subscribes to catalogue changes on registration; the simulated NVR then pushes them
as NOTIFYs (and, before it was subscribed, a device may push them as MESSAGEs: both
are taken). A malformed notification is refused and counted, and changes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
import redis.asyncio as aioredis

from gis import registry
from stream.cameras.channels import ChannelStore
from stream.cameras.gb28181 import Gb28181Service, grid_lookup
from stream.cameras.targets import CameraTarget
from stream.schemas import FindingKind
from tests.helpers.fleet import Collected
from tests.helpers.gb28181_device import Device, SimChannel, channel_ids
from vision.gb28181.placement import Channel

pytestmark = pytest.mark.integration

DEVICE = "23110200001180000001"
BOUND_S = 60.0


async def until(probe: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + BOUND_S
    while not await probe():
        assert asyncio.get_running_loop().time() < deadline, f"not within {BOUND_S} s: {what}"
        await asyncio.sleep(0.05)


async def test_pushed_changes_add_delete_update_and_switch_channels(make_settings) -> None:
    cams = [c for c in registry.load_cameras() if c.county_code == "231102"]
    spots = [cams[0], next(c for c in cams if c.cell_code[:12] != cams[0].cell_code[:12])]
    ids = channel_ids("23110200", 4)
    first = [SimChannel(ids[i], f"c{i}", "231102", spots[0].lon, spots[0].lat) for i in range(3)]
    sim = Device(DEVICE, "pw", ("127.0.0.1", 0), "2311000000", "23110000002000000001", list(first))
    await sim.start()
    settings = make_settings(gb28181_port=0, gb28181_password="pw",
                             gb28181_snapshot_url="http://{host}:1/snapshot/{channel_id}.jpg")
    redis = aioredis.from_url(settings.redis_url)
    store = ChannelStore(redis, settings.redis_prefix)
    out = Collected()
    targets: dict[str, CameraTarget] = {}
    service = Gb28181Service(settings, out, store, grid_lookup(settings), on_targets=targets.update)
    await service.start()
    sim.server = ("127.0.0.1", service.server.port)

    async def placed() -> dict[str, Channel]:
        return {c.channel_id: c for c in await store.placed()}

    try:
        assert await sim.register() == 200

        async def ready() -> bool:
            return len(await placed()) == 3 and sim.catalog_subscribed and service.pending == 0

        await until(ready, "the catalogue placed and the catalogue subscription taken")
        before = await redis.get(store.version_key)

        sim.catalog_notify([
            (SimChannel(ids[3], "new", "231102", spots[1].lon, spots[1].lat), "ADD"),
            (first[1], "DEL"),
            (first[2], "OFF"),
            (SimChannel(ids[0], "renamed", "231102", spots[1].lon, spots[1].lat), "UPDATE"),
        ])

        async def applied() -> bool:
            now = await placed()
            return set(now) == {ids[0], ids[2], ids[3]} and not now[ids[2]].online and service.pending == 0

        await until(applied, "ADD, DEL, OFF and UPDATE in the inventory")
        now = await placed()
        assert now[ids[0]].name == "renamed" and now[ids[0]].cell_code == now[ids[3]].cell_code != now[ids[2]].cell_code
        assert await redis.get(store.version_key) != before  # running samplers and the wall re-read the inventory
        assert await redis.hget(store.urls_key, ids[1]) is None
        assert ids[3] in targets and targets[ids[3]].cells == (now[ids[3]].cell_code,)
        assert [(f.camera_id, f.kind, f.confirmed) for f in out.findings] == [(ids[2], FindingKind.OFFLINE, True)]

        sim.catalog_notify([(first[2], "ON")])

        async def back_on() -> bool:
            return (await placed())[ids[2]].online and service.pending == 0

        await until(back_on, "the channel back online")

        # an event the standard does not have: refused and counted, the inventory untouched
        refused = service.server.refused["body"]
        sim.catalog_notify([(first[2], "EXPLODE")])

        async def counted() -> bool:
            return service.server.refused["body"] == refused + 1

        await until(counted, "the bad notification refused")
        assert set(await placed()) == {ids[0], ids[2], ids[3]} and (await placed())[ids[2]].online
    finally:
        await service.stop()
        await sim.stop()
        await redis.aclose()
