"""A camera's analysis state moves with it between samplers, through a real Redis.

Two :class:`Sampler` objects sharing one Redis namespace stand for two workers.
A fire needs 3 of the last 5 samples: the first worker sees two, the second the
third, and confirms it only because the first one's state reached it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import cv2
import numpy as np
import pytest
import redis.asyncio as aioredis

from stream.cameras.sampler import CameraTarget, Sampler, thumbnail_key
from stream.cameras.statestore import state_key
from stream.embedded.services import free_port
from stream.runtime.metrics import Metrics
from stream.schemas import FindingKind
from stream.settings import Settings, load_settings
from tests.helpers.fleet import NOON_HEIHE, Collected, small_fleet
from vision.analysis.model import FireSmokeModel
from vision.analysis.state import CameraState
from vision.evidence import EvidenceStore
from vision.fleet.events import EventKind, ScriptedEvent
from vision.fleet.render import FrameRenderer, encode_jpeg
from vision.sampling import FrameAnalyser
from vision.sources.outcome import Fetched, FetchOutcome

pytestmark = pytest.mark.integration

CAMERA = "cam0000"  # a forest camera
CAMERAS = small_fleet(4)
TARGETS = {c: CameraTarget(c, "http", f"http://127.0.0.1:9/{c}", (cam.cell_code,)) for c, cam in CAMERAS.items()}
RENDERER = FrameRenderer(seed=7)
ONSET = 5
"""Samples 0-4 are quiet (the baseline learns), flames from sample 5; 3 of 5 confirm at sample 7."""
FIRE = ScriptedEvent("fire", EventKind.FLAME, frozenset({CAMERA}), NOON_HEIHE, None, 1.0)


def sample(i: int) -> tuple[Fetched, float]:
    """Sample ``i`` of the camera, 10 s apart: the fetched frame and its capture time."""
    at = NOON_HEIHE + timedelta(seconds=10 * i)
    data = encode_jpeg(RENDERER.render(CAMERAS[CAMERA], at, (FIRE,) if i >= ONSET else ()))
    return Fetched(CAMERA, FetchOutcome.OK, data), at.timestamp()


@pytest.fixture
def settings(redis_server, tmp_path: Path) -> Settings:  # type: ignore[no-untyped-def]
    return load_settings(redis_url=redis_server.url + "/0", drill_id=f"t{uuid.uuid4().hex[:8]}",
                         vision_evidence_dir=tmp_path, vision_thumbnail_ttl_s=120)


def new_analyser(settings: Settings) -> FrameAnalyser:
    return FrameAnalyser(FireSmokeModel.load, EvidenceStore(settings.vision_evidence_dir, 50_000_000))


@asynccontextmanager
async def running(settings: Settings, redis_url: str | None = None,
                  clock: Callable[[], float] | None = None) -> AsyncIterator[tuple[Sampler, Collected]]:
    """A started sampler (a worker) on ``redis_url`` (default: the settings' Redis); stopped on exit."""
    redis = aioredis.Redis.from_url(redis_url or settings.redis_url or "")
    out = Collected()
    sampler = Sampler(settings, TARGETS, out, Metrics(), redis, analyser=new_analyser(settings),
                      **({"clock": clock} if clock else {}))
    await sampler.start()
    try:
        yield sampler, out
    finally:
        await sampler.stop()
        await redis.aclose()


async def feed(sampler: Sampler, samples: range) -> None:
    for i in samples:
        await sampler.analyse(CAMERA, *sample(i))


def fire_confirmed(out: Collected) -> bool:
    return any(f.kind is FindingKind.FIRE and f.confirmed for f in out.findings)


def dropped(sampler: Sampler, queue: str) -> float:
    return sampler.metrics.registry.get_sample_value("amur_dropped_total", {"queue": queue}) or 0.0


async def eventually(check: Callable[[], object], timeout_s: float = 10.0) -> None:
    for _ in range(int(timeout_s / 0.02)):
        if await check():  # type: ignore[misc]
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


async def test_a_released_camera_continues_its_confirmation_on_the_next_worker(settings: Settings) -> None:
    async with running(settings) as (first, first_out), running(settings) as (second, second_out):
        await first.assign([CAMERA], 0.0)
        await feed(first, range(ONSET + 2))  # two fire samples: not yet confirmed
        handed = first.analyser.states[CAMERA]
        assert handed.baseline and handed.baseline.samples == ONSET
        assert handed.bits(FindingKind.FIRE) == 0b11 and not fire_confirmed(first_out)

        await first.assign([], 0.0)  # a planned rebalance moves the camera away
        assert CAMERA not in first.analyser.states
        await second.assign([CAMERA], 0.0)
        assert second.analyser.states[CAMERA] == handed

        await second.analyse(CAMERA, *sample(ONSET + 2))
        assert fire_confirmed(second_out)
    # without the hand-over, the same third sample on a fresh state confirms nothing
    fresh = new_analyser(settings).process(CAMERA, *sample(ONSET + 2))
    assert not any(f.confirmed for f in fresh.findings)


async def test_a_dead_workers_half_confirmed_fire_is_confirmed_by_its_successor(settings: Settings) -> None:
    async with running(settings) as (first, _), running(settings) as (second, second_out):
        await first.assign([CAMERA], 0.0)
        await feed(first, range(ONSET + 2))
        last = first.analyser.states[CAMERA]
        assert last.bits(FindingKind.FIRE) == 0b11 and last.seen_at == datetime.fromtimestamp(sample(ONSET + 1)[1],
                                                                                              timezone.utc)
        key = state_key(settings, CAMERA)
        redis = first.store.redis  # type: ignore[union-attr]
        # no release: the batching writer alone wrote the state. The key exists since the first sample
        # (a periodic write), so flush what it queued rather than wait for the key: since fire bits were
        # set, the last sample's state is among it (it would be the first sample's otherwise)
        await first.writer.flush()  # type: ignore[union-attr]
        assert 0 < await redis.ttl(key) <= settings.vision_state_ttl_s

        await second.assign([CAMERA], 0.0)  # the first worker's partitions moved after its death
        assert second.analyser.states[CAMERA] == last
        await second.analyse(CAMERA, *sample(ONSET + 2))
        assert fire_confirmed(second_out)


async def test_a_quiet_camera_is_written_once_per_interval(settings: Settings) -> None:
    now = [1000.0]
    async with running(settings, clock=lambda: now[0]) as (sampler, _):
        redis = sampler.store.redis  # type: ignore[union-attr]
        await sampler.assign([CAMERA], now[0])
        for i in range(3):
            now[0] += 10.0
            await sampler.analyse(CAMERA, *sample(i))
        await sampler.writer.flush()  # type: ignore[union-attr]
        assert not await redis.exists(state_key(settings, CAMERA))
        now[0] += settings.vision_state_save_interval_s
        await sampler.analyse(CAMERA, *sample(3))
        await sampler.writer.flush()  # type: ignore[union-attr]
        assert await sampler.store.load([CAMERA]) == {CAMERA: sampler.analyser.states[CAMERA]}  # type: ignore


async def test_a_corrupt_stored_state_is_counted_and_the_camera_starts_fresh(settings: Settings) -> None:
    async with running(settings) as (sampler, out):
        redis = sampler.store.redis  # type: ignore[union-attr]
        await redis.set(state_key(settings, CAMERA), b'{"seen_at": "not a time"}')
        await sampler.assign([CAMERA], 0.0)
        assert dropped(sampler, "vision_state_corrupt") == 1
        assert sampler.analyser.states[CAMERA] == CameraState()
        await sampler.analyse(CAMERA, *sample(0))
        assert out.frames[-1].status.value == "ok" and sampler.analyser.states[CAMERA].seen_at is not None


async def test_a_stored_state_of_another_layout_is_refused_at_load(settings: Settings) -> None:
    """A state from another version (here a previous-sample thumbnail of the wrong size) decodes as
    JSON but cannot be compared: it is counted as unreadable and the camera starts fresh."""
    fetched, at = sample(0)
    alien = CameraState(seen_at=datetime.fromtimestamp(at - 10, timezone.utc), gray=b"\x00" * 10, luma=120.0)
    async with running(settings) as (sampler, out):
        await sampler.store.save({CAMERA: alien})  # type: ignore[union-attr]
        await sampler.assign([CAMERA], 0.0)
        assert dropped(sampler, "vision_state_corrupt") == 1
        assert sampler.analyser.states[CAMERA] == CameraState()
        await sampler.analyse(CAMERA, fetched, at)
        assert [s.status.value for s in out.frames] == ["ok"]


async def test_thumbnails_reach_redis_with_their_ttl_through_the_batching_writer(settings: Settings) -> None:
    async with running(settings) as (sampler, out):
        redis = sampler.store.redis  # type: ignore[union-attr]
        await sampler.assign([CAMERA], 0.0)
        await sampler.analyse(CAMERA, *sample(0))
        key = thumbnail_key(settings, CAMERA)
        assert out.frames[-1].image_ref == f"redis:{key}"
        await eventually(lambda: redis.exists(key))
        assert 0 < await redis.ttl(key) <= 120
        pixels = cv2.imdecode(np.frombuffer(await redis.get(key), np.uint8), cv2.IMREAD_COLOR)
        assert pixels.shape[1] == 320


async def test_a_redis_that_is_down_is_counted_and_sampling_goes_on(settings: Settings) -> None:
    async with running(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0") as (sampler, out):
        await sampler.assign([CAMERA], 0.0)
        assert dropped(sampler, "vision_state_load") == 1
        await feed(sampler, range(ONSET + 3))
        await sampler.writer.flush()  # type: ignore[union-attr]
        assert len(out.frames) == ONSET + 3 and fire_confirmed(out)
        assert dropped(sampler, "vision_thumbnail") >= 1 and dropped(sampler, "vision_state") >= 1
        await sampler.assign([], 0.0)  # the hand-over fails too, quietly
    assert dropped(sampler, "vision_state") >= 2
