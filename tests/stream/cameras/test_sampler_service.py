"""The Sampler against the real fleet on loopback, outputs collected in memory.

A hanging camera holds one fetch for the timeout and never delays the others;
its circuit opens after three failures and then it costs one circuit_open
sample per open period; everything else keeps its cadence.

The sampler runs on a virtual clock the test moves one tick at a time, once
every fetch due at the current tick has come back, so cadence and lateness are
the sampler's decisions in virtual time, whatever the load on the machine. The
hanging fetch is the only thing left to the wall clock: it times out after
``vision_fetch_timeout_s`` while virtual time goes on.
"""

from __future__ import annotations

import asyncio
import itertools

import pytest

from stream.cameras.sampler import TICK_S, CameraTarget, Sampler
from stream.runtime.metrics import Metrics
from stream.schemas import DecodeStatus
from stream.settings import load_settings
from tests.helpers.fleet import Collected, serve_fleet, small_fleet, snapshot_url
from vision.sources.http import SnapshotClient
from vision.sources.outcome import FetchOutcome

pytestmark = pytest.mark.integration

HANGING = "cam0007"
START = 1_782_000_000.0
"""Virtual POSIX time the sampler starts at."""
INTERVAL_S = 1.0
AFTER_OPEN_S = 3.0
"""Virtual seconds sampled after the circuit opened (far less wall time than its 15 s open period)."""
BOUND_S = 120.0
"""Wall-clock bound on the whole scenario: generous, the machine is shared."""


class VirtualClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def settled(sampler: Sampler) -> None:
    """Until every fetch but the hanging one has come back and been published."""
    while sampler._fetching - {HANGING} or not sampler.queue.empty() or sampler._busy:
        await asyncio.sleep(0.01)


async def sample_until_open(sampler: Sampler, clock: VirtualClock, out: Collected) -> None:
    """Tick by tick: dispatch everything due (re-ticking while slots free up), then move the clock on."""
    opened_at: float | None = None
    for step in itertools.count():
        clock.now = START + step * TICK_S
        while True:
            before = sampler.stats.dispatched
            sampler.tick(clock.now)
            await settled(sampler)
            if sampler.stats.dispatched == before:
                break
        if opened_at is None and any(s.status is DecodeStatus.CIRCUIT_OPEN for s in out.frames):
            opened_at = clock.now
        if opened_at is not None and clock.now >= opened_at + AFTER_OPEN_S:
            return


async def test_a_hanging_camera_times_out_opens_its_circuit_and_delays_nobody(tmp_path) -> None:
    cameras = small_fleet(20)
    healthy = [c for c in cameras if c != HANGING]
    # the fleet's own clock stands still, so each camera's snapshot is rendered once (warmed below) and
    # every sampler fetch is served from its cache: the 2 s fetch timeout is then far more than a healthy
    # answer needs on a loaded machine, and only the hanging camera reaches it
    async with serve_fleet(cameras, speed=1e-9) as (fleet, base):
        warm = SnapshotClient(concurrency=4, timeout_s=BOUND_S)
        try:
            warmed = await asyncio.gather(*(warm.fetch(c, snapshot_url(base, c)) for c in healthy))
        finally:
            await warm.close()
        assert [w.outcome for w in warmed] == [FetchOutcome.OK] * len(healthy)
        fleet.add_event({"kind": "timeout", "camera_ids": [HANGING]})
        settings = load_settings(vision_frame_budget_fps=40.0, vision_max_interval_s=5.0,
                                 vision_min_interval_s=INTERVAL_S, vision_fetch_timeout_s=2.0, vision_retries=0,
                                 vision_concurrency=8, vision_evidence_dir=tmp_path)
        targets = {c: CameraTarget(c, "http", snapshot_url(base, c), (cameras[c].cell_code,)) for c in cameras}
        out = Collected()
        clock = VirtualClock(START)
        sampler = Sampler(settings, targets, out, Metrics(), None, analyser=None, clock=clock)
        await sampler.start()
        await sampler.assign(cameras, clock.now)
        for camera_id in cameras:  # everyone at the minimum interval: 20 cameras, 1 frame/s each
            sampler.claim(camera_id, "test all", 100.0, None)
        runner = asyncio.create_task(sampler.run())  # the analysis workers (its own ticks repeat ours)
        try:
            await asyncio.wait_for(sample_until_open(sampler, clock, out), BOUND_S)
        finally:
            await sampler.stop()
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)

    hanging = [s.status for s in out.frames if s.camera_id == HANGING]
    assert hanging[:3] == [DecodeStatus.TIMEOUT] * 3
    assert hanging[3:] == [DecodeStatus.CIRCUIT_OPEN]  # one per open period (15 s), not one per second
    samples = [s for s in out.frames if s.camera_id != HANGING]
    # none waited behind the hanging fetch (that would have timed out too)
    assert [s for s in samples if s.status is not DecodeStatus.OK] == []
    # every healthy camera kept its cadence in virtual time (capture times): never more than one interval,
    # plus the tick it was dispatched in, without a sample, from the start (first samples are staggered)
    # to the end, hanging camera or not
    assert clock.now - START > 3 * INTERVAL_S
    for camera_id in healthy:
        times = [START, *(s.event_time.timestamp() for s in samples if s.camera_id == camera_id), clock.now]
        assert max(b - a for a, b in itertools.pairwise(times)) <= INTERVAL_S + TICK_S + 1e-3, camera_id
    assert sampler.stats.late_over_interval == 0
