"""A catalogue that arrives after the workers started is sampled without restarting them.

Two real Faust workers split the registry's cameras by ``camera.priority``
partition; then a simulated GB/T 28181 NVR registers with the platform and its
catalogue is placed in the Redis inventory. Each worker learns the new channels
from the inventory (``vision_inventory_refresh_s``), owns exactly those of its own
partitions, and samples them: their thumbnails reach Redis, where the live view
reads them. A channel no longer placed leaves the schedule.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime, timezone

import pytest
import redis.asyncio as aioredis

from gis import registry
from stream import schemas, topics
from stream.cameras.channels import ChannelStore, inventory_change
from stream.cameras.gb28181 import Gb28181Service, grid_lookup
from stream.cameras.sampler import CameraTarget, Sampler, thumbnail_key
from stream.embedded.services import free_port
from stream.topics import partition_for
from tests.helpers.fleet import Collected, two_sampler_workers
from tests.helpers.gb28181_device import Device, SimChannel, channel_ids
from vision.gb28181.placement import Placement

pytestmark = pytest.mark.integration

DEVICE = "23110200001180000001"
BOUND_S = 90.0


async def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + BOUND_S
    while not condition():
        assert time.monotonic() < deadline, f"not within {BOUND_S} s: {what}"
        await asyncio.sleep(0.2)


def target(camera_id: str, url: str = "http://127.0.0.1:1/x.jpg", cell: str = "231102001001001") -> CameraTarget:
    return CameraTarget(camera_id, "http", url, (cell,))


def test_new_and_readdressed_channels_change_and_only_inventory_channels_leave() -> None:
    known = {"reg-1": target("reg-1"), "ch-1": target("ch-1"), "ch-2": target("ch-2")}
    stored = {"ch-1": target("ch-1", url="http://127.0.0.1:2/y.jpg"), "ch-3": target("ch-3")}
    change = inventory_change(known, frozenset({"ch-1", "ch-2"}), stored)
    assert change.changed == stored  # ch-1 re-addressed, ch-3 new
    assert change.gone == {"ch-2"}  # reg-1 is the registry's, never gone
    assert inventory_change({**known, **stored}, frozenset({"ch-1", "ch-3"}), stored).changed == {}


async def test_workers_learn_a_later_catalogue_by_partition_and_sample_it(make_settings, tmp_path) -> None:
    aihui = [c for c in registry.load_cameras() if c.county_code == "231102"][:8]
    ids = channel_ids("23110200", len(aihui))
    sim = Device(DEVICE, "pw", ("127.0.0.1", 0), "2311000000", "23110000002000000001",
                 [SimChannel(cid, f"c{i}", "231102", cam.lon, cam.lat) for i, (cid, cam) in enumerate(zip(ids, aihui))])
    await sim.start()
    # the registry's cameras point at a port nobody serves: their fetches fail fast, the channels' do not
    settings = make_settings(
        vision_sampling=True, vision_snapshot_url=f"http://127.0.0.1:{free_port()}/cameras/{{camera_id}}/snapshot.jpg",
        vision_frame_budget_fps=20.0, vision_max_interval_s=600.0, vision_min_interval_s=1.0,
        vision_evidence_dir=tmp_path / "evidence", vision_inventory_refresh_s=0.5, vision_retries=0,
        vision_fetch_timeout_s=20.0, gb28181_port=0, gb28181_password="pw",
        gb28181_snapshot_url=f"http://{{host}}:{sim.http_port}/snapshot/{{channel_id}}.jpg")
    redis = aioredis.from_url(settings.redis_url)
    first, second = await two_sampler_workers(settings)
    a: Sampler = first.vision_sampler
    b: Sampler = second.vision_sampler
    registry_ids = set(a.targets)
    assert not registry_ids & set(ids)
    service = Gb28181Service(settings, Collected(), ChannelStore(redis, settings.redis_prefix), grid_lookup(settings))
    await first.app.start()
    await second.app.start()
    try:
        await until(lambda: len(a.owned) + len(b.owned) == len(registry_ids) and bool(a.owned and b.owned),
                    "the workers split the registry's cameras")
        await service.start()
        sim.server = ("127.0.0.1", service.server.port)
        assert await sim.register() == 200
        await until(lambda: set(ids) <= a.owned | b.owned, "the new channels owned by the running workers")
        assert not a.owned & b.owned
        partitions = topics.partitions_for(topics.CAMERA_PRIORITY, settings.partitions)
        for sampler in (a, b):  # each worker took exactly the channels of its own partitions
            mine = {partition_for(c, partitions) for c in sampler.owned & registry_ids}
            assert {c for c in ids if partition_for(c, partitions) in mine} == sampler.owned & set(ids)
        assert a.owned & set(ids) and b.owned & set(ids), "8 channels over 2 workers: each got some"

        now = datetime.now(timezone.utc)
        for camera_id in ids:  # raise them so they are sampled now, not within the 10-minute max interval
            claim = schemas.CameraPriority(source="test", event_time=now, camera_id=camera_id, priority=100.0,
                                           reason=f"test {camera_id}")
            await first.topic(topics.CAMERA_PRIORITY).send(key=camera_id.encode(), value=schemas.encode(claim))
        thumbs: set[str] = set()

        async def poll_thumbnails() -> None:
            deadline = time.monotonic() + BOUND_S
            while thumbs != set(ids):
                assert time.monotonic() < deadline, f"thumbnails of {sorted(set(ids) - thumbs)} not within {BOUND_S} s"
                for camera_id in set(ids) - thumbs:
                    if await redis.exists(thumbnail_key(settings, camera_id)):
                        thumbs.add(camera_id)
                await asyncio.sleep(0.2)

        await poll_thumbnails()

        # a channel no longer placed (an operator unplaced it) leaves the schedule of its owner
        store = ChannelStore(redis, settings.redis_prefix)
        moved = next(c for c in await store.placed() if c.channel_id == ids[0])
        await store.save(Placement(placed=(), unplaced=(moved,), skipped=()))
        await until(lambda: ids[0] not in a.owned | b.owned, "the unplaced channel dropped")
        assert set(ids[1:]) <= a.owned | b.owned
    finally:
        await service.stop()
        await second.app.stop()
        await first.app.stop()
        await sim.stop()
        await redis.aclose()
