"""A simulated GB/T 28181 NVR with 100 channels through the upper platform into Amur, on loopback.

Register -> catalogue placed in the Heihe grid (Redis) -> snapshots sampled by the
existing sampler -> a device alarm becomes a finding -> a missed keepalive window
makes all 100 channels offline findings. Real UDP, real HTTP, real Redis.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
import redis.asyncio as aioredis

from gis import registry
from stream.cameras.channels import ChannelStore, stored_targets
from stream.cameras.gb28181 import Gb28181Service, grid_lookup
from stream.cameras.sampler import CameraTarget, Sampler
from stream.runtime.metrics import Metrics
from stream.schemas import DecodeStatus, FindingKind
from tests.helpers.fleet import Collected
from tests.helpers.gb28181_device import Device, SimChannel, channel_ids

pytestmark = pytest.mark.integration

DEVICE = "23110200001180000001"
PASSWORD = "nvr-secret-1"
BOUND_S = 60.0
START = 1_782_000_000.0


class VirtualClock:
    """The platform's clock: keepalive windows pass when the test says, not when the machine is slow."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


async def until(condition: Callable[[], bool], what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + BOUND_S
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"not within {BOUND_S} s: {what}")
        await asyncio.sleep(0.02)


def heihe_channels() -> tuple[list[SimChannel], dict[str, str]]:
    """90 channels at registry camera positions of Aihui district (their cells known), 10 without a position."""
    aihui = [c for c in registry.load_cameras() if c.county_code == "231102"][:90]
    ids = channel_ids("23110200", 100)
    channels = [SimChannel(cid, f"爱辉{i + 1:03d}", "231102", aihui[i].lon if i < 90 else None,
                           aihui[i].lat if i < 90 else None) for i, cid in enumerate(ids)]
    return channels, {ids[i]: aihui[i].cell_code for i in range(90)}


async def test_nvr_catalogue_inventory_sampling_alarm_and_offline(make_settings, redis_server, tmp_path) -> None:
    channels, expected_cells = heihe_channels()
    sim = Device(DEVICE, PASSWORD, ("127.0.0.1", 0), "2311000000", "23110000002000000001", channels)
    await sim.start()
    settings = make_settings(
        gb28181_port=0, gb28181_password="domain-secret", gb28181_device_passwords=f"{DEVICE}:{PASSWORD}",
        gb28181_keepalive_interval_s=1.0, gb28181_keepalive_missed=2,
        gb28181_departments={DEVICE: "forestry"}, gb28181_alarm_kinds={"5/101": "fire"},
        gb28181_snapshot_urls={DEVICE: f"http://127.0.0.1:{sim.http_port}/snapshot/{{channel_id}}.jpg"},
        vision_frame_budget_fps=50.0, vision_min_interval_s=1.0, vision_max_interval_s=5.0,
        vision_fetch_timeout_s=20.0, vision_evidence_dir=tmp_path)
    redis = aioredis.from_url(settings.redis_url)
    out = Collected()
    targets: dict[str, CameraTarget] = {}
    clock = VirtualClock()
    service = Gb28181Service(settings, out, ChannelStore(redis, settings.redis_prefix), grid_lookup(settings),
                             on_targets=targets.update, clock=clock)
    await service.start()
    sim.server = ("127.0.0.1", service.server.port)
    sampler: Sampler | None = None
    try:
        # registration with the device's own password (not the domain's), then catalogue, subscription, guard
        assert await sim.register(password="domain-secret") == 403
        refused = service.metrics.registry.get_sample_value("amur_gb28181_refused_total", {"reason": "auth_failed"})
        assert refused == 1.0
        assert await sim.register() == 200
        await until(lambda: len(targets) == 100, "100 channels as sampler targets")
        store = ChannelStore(redis, settings.redis_prefix)
        placed, unplaced = await store.placed(), await store.unplaced()
        got = {c.channel_id: c.cell_code for c in placed}
        assert set(got) == set(expected_cells)
        # the registry's positions are rounded to 6 decimals: a camera on a cell edge may fall in its neighbour
        differ = {cid for cid in got if got[cid] != expected_cells[cid]}
        assert len(differ) <= 2 and all(got[c][:12] == expected_cells[c][:12] for c in differ)
        assert {c.department for c in placed} == {"forestry"}
        assert len(unplaced) == 10 and {c.unplaced_reason for c in unplaced} == {"no coordinates in the catalogue"}
        assert {c.county_code for c in unplaced} == {"231102"}
        await until(lambda: sim.guard_commands == ["SetGuard"] and sim.subscribed, "alarm subscription and guard")
        # what a worker's sampler adds to its targets when it starts: the placed channels, with their snapshot URLs
        stored = await asyncio.to_thread(stored_targets, settings.redis_url, settings.redis_prefix)
        assert stored == {c: targets[c] for c in got}

        # the existing sampler samples the channels' snapshots
        sampler = Sampler(settings, targets, out, Metrics(), None, analyser=None)
        await sampler.start()
        chosen = list(expected_cells)[:10]
        await sampler.assign(chosen, 0.0)
        for camera_id in chosen:
            sampler.claim(camera_id, "test gb28181", 100.0, None)
        runner = asyncio.create_task(sampler.run())
        try:
            await until(lambda: {f.camera_id for f in out.frames if f.status is DecodeStatus.OK} == set(chosen),
                        "an OK sample of every chosen channel")
        finally:
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)

        # an armed device's fire alarm (a vendor type mapped in the settings) is a confirmed finding in its cell
        alarmed = chosen[0]
        sim.keepalive()
        assert sim.alarm(alarmed, method=5, alarm_type=101, priority=1)
        assert sim.alarm(alarmed, method=5, alarm_type=2)  # motion: counted, no finding
        await until(lambda: any(f.kind is FindingKind.FIRE for f in out.findings), "the fire finding")
        fire = next(f for f in out.findings if f.kind is FindingKind.FIRE)
        assert (fire.camera_id, fire.confirmed, fire.cells, fire.source) == (
            alarmed, True, [got[alarmed]], "gb28181")
        await until(lambda: service.unhandled_alarms == 1, "the motion alarm counted")

        # no keepalive for the window (2 × 1 s): every channel is offline, in the findings and the inventory
        assert not any(f.kind is FindingKind.OFFLINE for f in out.findings)
        clock.now = START + 2.5
        await until(lambda: sum(f.kind is FindingKind.OFFLINE for f in out.findings) == 100, "100 offline findings")
        offline = [f for f in out.findings if f.kind is FindingKind.OFFLINE]
        assert {f.camera_id for f in offline} == {c.channel_id for c in channels}
        assert all(f.confirmed for f in offline)
        await until(lambda: service.pending == 0, "the inventory updated")
        assert {c.online for c in await store.placed()} == {False}
    finally:
        if sampler is not None:
            await sampler.stop()
        await service.stop()
        await sim.stop()
        await redis.aclose()
