"""The running Sampler falling behind its plan, against the real fleet on loopback (issue 23).

A sampler that can fetch only one camera per tick (one fetch slot, the clock
moved on once it came back) serves 20 frames/s while its plan asks for about 38:
the four claimed cameras, whose claims flip between 99 and 100 every tick, keep
their 1 s interval; the 56 others share the rest evenly and miss the 3 s max
interval, and the sampler says so in its health report and its gauges.

As in ``test_sampler_service``, the sampler runs on a virtual clock the test
moves one tick at a time once the tick's fetch has come back, so intervals are
the sampler's decisions in virtual time, whatever the load on the machine.
"""

from __future__ import annotations

import asyncio
import itertools

import pytest

from stream.cameras.sampler import TICK_S, CameraTarget, Sampler
from stream.runtime.metrics import Metrics
from stream.settings import load_settings
from tests.helpers.fleet import Collected, serve_fleet, small_fleet, snapshot_url
from vision.schedule import LATE_FACTOR

pytestmark = pytest.mark.integration

START = 1_782_000_000.0
SECONDS = 20.0
CLAIMED = ["cam0000", "cam0001", "cam0002", "cam0003"]
BOUND_S = 300.0
"""Wall-clock bound on the whole scenario: generous, the machine is shared."""


class VirtualClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def settled(sampler: Sampler) -> None:
    while sampler._fetching or not sampler.queue.empty() or sampler._busy:
        await asyncio.sleep(0.005)


def gauge(metrics: Metrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    assert value is not None, (name, labels)
    return value


async def test_claimed_cameras_keep_their_interval_while_the_sampler_is_behind(tmp_path) -> None:
    cameras = small_fleet(60)
    async with serve_fleet(cameras, speed=1e-9) as (_, base):  # a still clock: every snapshot served from cache
        settings = load_settings(vision_frame_budget_fps=40.0, vision_max_interval_s=3.0, vision_min_interval_s=1.0,
                                 vision_concurrency=1, vision_fetch_timeout_s=BOUND_S, vision_retries=0,
                                 vision_evidence_dir=tmp_path)
        targets = {c: CameraTarget(c, "http", snapshot_url(base, c), (cameras[c].cell_code,)) for c in cameras}
        out, metrics, clock = Collected(), Metrics(), VirtualClock(START)
        sampler = Sampler(settings, targets, out, metrics, None, analyser=None, clock=clock, worker="test-sampler")
        await sampler.start()
        await sampler.assign(cameras, clock.now)
        runner = asyncio.create_task(sampler.run(ticking=False))  # analysis only: the test ticks

        async def sample() -> None:
            for step in range(round(SECONDS / TICK_S)):
                clock.now = START + step * TICK_S
                for i, camera_id in enumerate(CLAIMED):  # claim churn: every tick, re-coloured 99 <-> 100
                    sampler.claim(camera_id, "incident 231102-flood-1 red", 100.0 - (step + i) % 2, None)
                sampler.tick(clock.now)
                await settled(sampler)
            await sampler.report(clock.now)

        try:
            await asyncio.wait_for(sample(), BOUND_S)
            planned = {c: sampler.scheduler.intervals[c] for c in cameras}
        finally:
            await sampler.stop()
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)

    end = START + SECONDS
    taken = {c: [s.event_time.timestamp() for s in out.frames if s.camera_id == c] for c in cameras}
    assert len(out.frames) == pytest.approx(SECONDS / TICK_S, abs=2)  # one per tick: the sampler's capacity
    # the claimed cameras, first in line: their planned interval (+ the stated slack), from the start to the end
    for camera_id in CLAIMED:
        assert planned[camera_id] == 1.0
        times = [START, *taken[camera_id], end]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert max(gaps) <= LATE_FACTOR * planned[camera_id] + sampler.scheduler.policy.burst_s + TICK_S, camera_id
    # the others share what is left evenly, and fall behind the 3 s max interval
    others = [len(taken[c]) for c in cameras if c not in CLAIMED]
    assert max(others) - min(others) <= 1
    assert max(planned[c] for c in cameras if c not in CLAIMED) < 3.0 < SECONDS * len(others) / sum(others)
    # said as it is: in the health report the wall shows, and on the gauges
    report = out.health[-2]  # the last before the goodbye
    assert (report.worker, report.cameras, report.claimed) == ("test-sampler", 60, 4)
    assert report.claimed_behind == 0 and report.past_max_interval > 0
    assert report.served_fps == pytest.approx(1 / TICK_S, rel=0.05) and report.planned_fps > 30.0
    assert out.health[-1].cameras == 0  # the goodbye: the wall drops this sampler
    assert gauge(metrics, "amur_vision_cameras_late", kind="past_max_interval") == report.past_max_interval
    assert gauge(metrics, "amur_vision_cameras_late", kind="claimed_behind") == 0
    assert gauge(metrics, "amur_vision_sampling_fps", rate="served") == pytest.approx(report.served_fps, abs=0.1)
