"""The sampler inside a real Faust worker, against the real fleet, broker and Redis.

Samples of the 5,000 registry cameras are published on the frames topic, the
latest thumbnail of each sampled camera is in Redis with its TTL, a
CameraPriority raise makes its camera sampled within seconds, and a scripted
fault on the fleet comes back as the right decode status and an offline
finding carrying the camera's cells.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone

import cv2
import numpy as np
import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer

from gis.registry import load_cameras
from stream import schemas, topics
from stream.cameras.sampler import thumbnail_key
from stream.runtime.admin import prepare_topics_async
from stream.runtime.app import build_app
from tests.helpers.fleet import registry_fleet, serve_fleet

pytestmark = pytest.mark.integration

AGENTS = ["stream.agents.vision"]
FLEET_FETCHES = 4
"""Concurrent fetches: the in-process fleet's two render threads and as many waiting."""
GENEROUS_TIMEOUT_S = 30.0


async def test_worker_samples_publishes_and_stores_thumbnails(make_settings, tmp_path) -> None:
    cameras = load_cameras()
    watched, broken = cameras[0].camera_id, cameras[1].camera_id
    async with serve_fleet(registry_fleet(cameras)) as (fleet, base):
        fleet.add_event({"kind": "http_500", "camera_ids": [broken]})
        settings = make_settings(
            vision_sampling=True, vision_snapshot_url=base + "/cameras/{camera_id}/snapshot.jpg",
            vision_frame_budget_fps=25.0, vision_max_interval_s=600.0, vision_min_interval_s=1.0,
            vision_evidence_dir=tmp_path / "evidence", vision_thumbnail_ttl_s=120, vision_retries=0,
            # the fleet renders on two threads in this process: at most a few fetches wait on it, each
            # with a generous timeout, so the prioritised camera's first fetch is not queued behind
            # hundreds of renders until it times out on a loaded machine
            vision_concurrency=FLEET_FETCHES, vision_fetch_timeout_s=GENEROUS_TIMEOUT_S,
        )
        await prepare_topics_async(settings, agent_modules=AGENTS)
        rt = build_app(settings, agent_modules=AGENTS)
        consumer = AIOKafkaConsumer(rt.topic_name(topics.FRAMES), rt.topic_name(topics.FINDINGS),
                                    bootstrap_servers=settings.broker_url.split("://")[1],
                                    auto_offset_reset="earliest", group_id=None)
        redis = aioredis.Redis.from_url(settings.redis_url)
        await rt.app.start()
        await consumer.start()
        try:
            sampler = rt.vision_sampler
            deadline = time.monotonic() + 40
            while len(sampler.owned) < len(cameras) and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            assert len(sampler.owned) == len(cameras), "one worker owns every camera partition"
            for camera_id in (watched, broken):
                priority = schemas.CameraPriority(source="test", event_time=datetime.now(timezone.utc),
                                                  camera_id=camera_id, priority=100.0, reason=f"test {camera_id}")
                await rt.topic(topics.CAMERA_PRIORITY).send(key=camera_id.encode(), value=schemas.encode(priority))
            seen: dict[str, list[schemas.FrameSample]] = {}
            found: dict[str, list[schemas.VisionFinding]] = {}
            while time.monotonic() < deadline and not (seen.get(watched) and seen.get(broken) and found.get(broken)):
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    for record in records:
                        event = schemas.decode(schemas.AnyEvent, record.value)
                        assert record.key == event.camera_id.encode()
                        into = seen if isinstance(event, schemas.FrameSample) else found
                        into.setdefault(event.camera_id, []).append(event)
            assert seen.get(watched), "the prioritised camera was sampled"
            first = seen[watched][0]
            # the raise decided it: planned at the minimum interval (unclaimed: up to 600 s); how soon in
            # seconds the sample came depends on the machine's load, so the wait above is only a bound
            assert sampler.scheduler.intervals[watched] == settings.vision_min_interval_s
            assert first.status is schemas.DecodeStatus.OK
            assert (first.width, first.height) == (fleet.cameras[watched].width, fleet.cameras[watched].height)
            assert first.image_ref and first.size_bytes > 1000
            assert seen[broken][0].status is schemas.DecodeStatus.HTTP_ERROR
            offline = found[broken][0]
            assert offline.kind is schemas.FindingKind.OFFLINE and not offline.confirmed
            assert offline.cells[0] == cameras[1].cell_code  # the camera's own cell, then the cells it sees
            key = thumbnail_key(settings, watched)
            # the thumbnail follows its frame through the batching writer (a flush every 0.1 s)
            for _ in range(500):
                if (thumb := await redis.get(key)) is not None:
                    break
                await asyncio.sleep(0.02)
            ttl = await redis.ttl(key)
            assert thumb is not None and 0 < ttl <= 120
            pixels = cv2.imdecode(np.frombuffer(thumb, np.uint8), cv2.IMREAD_COLOR)
            assert pixels is not None and pixels.shape[1] <= 320
            assert await redis.get(thumbnail_key(settings, broken)) is None
        finally:
            await consumer.stop()
            await rt.app.stop()
            await redis.aclose()
