"""stream.cameras.statestore: when a camera's state is written (pure), and the round trip through a real Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timezone

import pytest
import redis.asyncio as aioredis
from hypothesis import given
from hypothesis import strategies as st

from stream.cameras.redisbatch import BatchWriter
from stream.cameras.statestore import Saved, StateStore, save_due, state_key
from stream.embedded.services import free_port
from stream.runtime.metrics import Metrics
from stream.schemas import FindingKind
from stream.settings import Settings, load_settings
from vision.analysis.scene import BASELINE_SIZE, THUMB_SIZE
from vision.analysis.state import Baseline, CameraState

FIRE_BITS = ((FindingKind.FIRE, 0b11),)
_THUMB, _BASE = THUMB_SIZE[0] * THUMB_SIZE[1], BASELINE_SIZE[0] * BASELINE_SIZE[1]
STATE = CameraState(seen_at=datetime(2026, 6, 21, 4, tzinfo=timezone.utc), gray=b"\x01\x02" * _THUMB,
                    baseline=Baseline(42, b"\x03" * 4 * _BASE, b"\x04" * 4 * _BASE, 0.5, 40.0, 0, b"\x05" * 12 * _BASE),
                    history=FIRE_BITS, luma=121.5)
"""Byte sizes as the analysis packs them (float16 / float32 thumbnails, BGR colour)."""


def test_a_finding_being_confirmed_is_saved_after_every_sample() -> None:
    assert save_due(CameraState(history=FIRE_BITS), Saved(100.0, FIRE_BITS), 100.5, 60.0)
    assert save_due(CameraState(history=FIRE_BITS), Saved(100.0, ()), 100.5, 60.0)


def test_the_sample_that_clears_the_bits_is_saved_once_then_the_interval_applies() -> None:
    assert save_due(CameraState(), Saved(100.0, FIRE_BITS), 101.0, 60.0)
    assert not save_due(CameraState(), Saved(101.0, ()), 102.0, 60.0)


def test_a_quiet_camera_is_saved_once_per_interval() -> None:
    assert not save_due(CameraState(), Saved(100.0, ()), 159.9, 60.0)
    assert save_due(CameraState(), Saved(100.0, ()), 160.0, 60.0)


@given(st.lists(st.tuples(st.floats(0.5, 90.0), st.booleans()), max_size=200), st.floats(1.0, 120.0))
def test_writes_are_bounded_by_the_interval_plus_the_samples_with_findings(samples, interval_s) -> None:
    """Over any run of samples: every sample with bits (and the one clearing them) is written, and the
    quiet writes are at least an interval apart."""
    now, saved, quiet_writes = 0.0, Saved(0.0, ()), 0
    for gap, seen in samples:
        now += gap
        state = CameraState(history=FIRE_BITS if seen else ())
        due = save_due(state, saved, now, interval_s)
        if seen or saved.history:
            assert due
        elif due:
            assert now - saved.at >= interval_s
            quiet_writes += 1
        if due:
            saved = Saved(now, state.history)
    assert quiet_writes <= now / interval_s


@pytest.fixture
def settings(redis_server) -> Settings:  # type: ignore[no-untyped-def]
    return load_settings(redis_url=redis_server.url + "/0", drill_id=f"t{uuid.uuid4().hex[:8]}",
                         vision_state_ttl_s=600, vision_state_save_interval_s=60.0)


@pytest.fixture
async def redis(settings: Settings) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(settings.redis_url or "")
    yield client
    await client.aclose()


def dropped(metrics: Metrics, queue: str) -> float:
    return metrics.registry.get_sample_value("amur_dropped_total", {"queue": queue}) or 0.0


@pytest.mark.integration
async def test_saved_states_load_back_equal_with_their_ttl(settings: Settings, redis: aioredis.Redis) -> None:
    store = StateStore(redis, BatchWriter(redis, Metrics()), settings, Metrics())
    await store.save({"cam1": STATE, "cam2": CameraState()})
    assert await store.load(["cam1", "cam2", "cam3"]) == {"cam1": STATE, "cam2": CameraState()}
    assert 500 < await redis.ttl(state_key(settings, "cam1")) <= 600
    assert state_key(settings, "cam1") == f"amur:drill:{settings.drill_id}:vision:state:cam1"


@pytest.mark.integration
async def test_only_owned_cameras_are_offered_and_only_when_due(settings: Settings, redis: aioredis.Redis) -> None:
    writer = BatchWriter(redis, Metrics())
    store = StateStore(redis, writer, settings, Metrics())
    store.watch("cam1", CameraState(), now=1000.0)
    store.offer("cam1", CameraState(luma=1.0), now=1010.0)  # quiet, within the interval
    store.offer("cam2", STATE, now=1010.0)  # not watched: not this worker's camera
    await writer.flush()
    assert await store.load(["cam1", "cam2"]) == {}
    store.offer("cam1", STATE, now=1011.0)  # a finding is being confirmed
    await writer.flush()
    assert await store.load(["cam1"]) == {"cam1": STATE}
    store.unwatch("cam1")
    store.offer("cam1", CameraState(), now=2000.0)
    await writer.flush()
    assert await store.load(["cam1"]) == {"cam1": STATE}


@pytest.mark.integration
async def test_a_corrupt_state_is_counted_logged_and_left_out(settings: Settings, redis: aioredis.Redis,
                                                              caplog) -> None:
    metrics = Metrics()
    store = StateStore(redis, BatchWriter(redis, metrics), settings, metrics)
    await store.save({"cam1": STATE})
    await redis.set(state_key(settings, "cam2"), b'{"seen_at": null}')
    await redis.set(state_key(settings, "cam3"), b"\xff not json")
    assert await store.load(["cam1", "cam2", "cam3"]) == {"cam1": STATE}
    assert dropped(metrics, "vision_state_corrupt") == 2
    assert "camera_id=cam2" in caplog.text and "camera_id=cam3" in caplog.text


@pytest.mark.integration
async def test_a_redis_that_is_down_loads_nothing_and_counts_it(settings: Settings) -> None:
    metrics = Metrics()
    down = aioredis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0")
    store = StateStore(down, BatchWriter(down, metrics), settings, metrics)
    assert await store.load(["cam1", "cam2"]) == {}
    assert dropped(metrics, "vision_state_load") == 2
    await store.save({"cam1": STATE})
    assert dropped(metrics, "vision_state") == 1
    await down.aclose()
