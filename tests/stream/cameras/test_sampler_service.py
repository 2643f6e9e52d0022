"""The Sampler against the real fleet on loopback, outputs collected in memory.

A hanging camera holds one fetch for the timeout and never delays the others;
its circuit opens after three failures and then it costs one circuit_open
sample per open period; everything else keeps its cadence.
"""

from __future__ import annotations

import asyncio

import pytest

from stream.cameras.sampler import CameraTarget, Sampler
from stream.runtime.metrics import Metrics
from stream.schemas import DecodeStatus
from stream.settings import load_settings
from tests.helpers.fleet import Collected, serve_fleet, small_fleet, snapshot_url

pytestmark = pytest.mark.integration


async def test_a_hanging_camera_times_out_opens_its_circuit_and_delays_nobody(tmp_path) -> None:
    cameras = small_fleet(20)
    async with serve_fleet(cameras) as (fleet, base):
        fleet.add_event({"kind": "timeout", "camera_ids": ["cam0007"]})
        settings = load_settings(vision_frame_budget_fps=40.0, vision_max_interval_s=5.0, vision_min_interval_s=1.0,
                                 vision_fetch_timeout_s=2.0, vision_retries=0, vision_concurrency=8,
                                 vision_evidence_dir=tmp_path)
        targets = {c: CameraTarget(c, "http", snapshot_url(base, c), (cameras[c].cell_code,)) for c in cameras}
        out = Collected()
        sampler = Sampler(settings, targets, out, Metrics(), None, analyser=None)
        await sampler.start()
        loop = asyncio.get_running_loop()
        await sampler.assign(cameras, loop.time())
        sampler.clock = loop.time  # same clock for due times and the test
        for camera_id in cameras:  # everyone at the minimum interval: 20 cameras, 1 frame/s each
            sampler.claim(camera_id, "test all", 100.0, None)
        runner = asyncio.create_task(sampler.run())
        await asyncio.sleep(10.0)
        await sampler.stop()
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)

    hanging = [s.status for s in out.frames if s.camera_id == "cam0007"]
    assert hanging[:3] == [DecodeStatus.TIMEOUT] * 3
    assert hanging[3:] == [DecodeStatus.CIRCUIT_OPEN]  # one per open period (15 s), not one per second
    healthy = [s for s in out.frames if s.camera_id != "cam0007"]
    # none waited behind the hanging fetch (that would have timed out too)
    assert [s for s in healthy if s.status is not DecodeStatus.OK] == []
    per_camera = {c: sum(1 for s in healthy if s.camera_id == c) for c in cameras if c != "cam0007"}
    assert min(per_camera.values()) >= 8  # ~1 frame/s each for 10 s, hanging camera or not
    assert sampler.stats.late_over_interval == 0
