"""Snapshot client, retries and the circuit breaker against the real fleet server on loopback."""

from __future__ import annotations

import asyncio

import cv2
import numpy as np
import pytest
from aiohttp import web

from stream.embedded.services import free_port
from tests.helpers.fleet import serve_fleet, small_fleet, snapshot_url
from vision.sources.breaker import (
    Breaker,
    BreakerPhase,
    BreakerPolicy,
    allows,
    on_attempt,
    on_result,
)
from vision.sources.http import SnapshotClient, with_retries
from vision.sources.outcome import FetchOutcome

pytestmark = pytest.mark.integration


GENEROUS_TIMEOUT_S = 60.0
"""Client timeout where answers do arrive: a bound, generous on a shared, loaded machine (the fleet renders each one)."""


async def held(fleet) -> None:
    """Until the fleet holds the hanging camera's request."""
    while not fleet.faults:
        await asyncio.sleep(0.01)


async def test_a_hanging_camera_does_not_delay_the_others() -> None:
    """While one pooled connection hangs (the fleet holds it for an hour), every other camera is answered."""
    cameras = small_fleet(12)
    async with serve_fleet(cameras) as (fleet, base):
        fleet.add_event({"kind": "timeout", "camera_ids": ["cam0000"]})
        client = SnapshotClient(concurrency=8, timeout_s=GENEROUS_TIMEOUT_S)
        hanging = asyncio.create_task(client.fetch("cam0000", snapshot_url(base, "cam0000")))
        try:
            await asyncio.wait_for(held(fleet), GENEROUS_TIMEOUT_S)  # one of the 8 connections is taken
            healthy = [c for c in cameras if c != "cam0000"]
            results = await asyncio.gather(*(client.fetch(c, snapshot_url(base, c)) for c in healthy))
            still_hanging = not hanging.done()
        finally:
            hanging.cancel()
            await asyncio.gather(hanging, return_exceptions=True)
            await client.close()
    assert [r.outcome for r in results] == [FetchOutcome.OK] * len(healthy)
    assert fleet.served == len(healthy) and still_hanging  # every other camera answered before it gave up


async def test_a_hanging_camera_times_out() -> None:
    async with serve_fleet(small_fleet(1)) as (fleet, base):
        fleet.add_event({"kind": "timeout", "camera_ids": ["cam0000"]})
        client = SnapshotClient(concurrency=1, timeout_s=0.5)
        try:
            result = await client.fetch("cam0000", snapshot_url(base, "cam0000"))
        finally:
            await client.close()
    assert (result.outcome, result.detail, result.data) == (FetchOutcome.TIMEOUT, "timeout", None)


async def test_outcomes_of_server_faults() -> None:
    async with serve_fleet(small_fleet(4)) as (fleet, base):
        fleet.add_event({"kind": "offline", "camera_ids": ["cam0000"]})
        fleet.add_event({"kind": "http_500", "camera_ids": ["cam0001"]})
        fleet.add_event({"kind": "corrupt", "camera_ids": ["cam0002"]})
        client = SnapshotClient(concurrency=4, timeout_s=GENEROUS_TIMEOUT_S)
        try:
            got = {c: (await client.fetch(c, snapshot_url(base, c))).outcome for c in small_fleet(4)}
        finally:
            await client.close()
    assert got == {"cam0000": FetchOutcome.OFFLINE, "cam0001": FetchOutcome.HTTP_ERROR,
                   "cam0002": FetchOutcome.CORRUPT, "cam0003": FetchOutcome.OK}


async def test_a_large_snapshot_arrives_whole() -> None:
    """A body larger than one socket read comes back complete (it was once cut at about 100 kB and failed to decode)."""
    pixels = np.random.default_rng(1).integers(0, 256, (720, 1280, 3), dtype=np.uint8)
    body = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()

    async def snapshot(_: web.Request) -> web.Response:
        return web.Response(body=body, content_type="image/jpeg")

    app = web.Application()
    app.router.add_get("/snapshot.jpg", snapshot)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    client = SnapshotClient(concurrency=1, timeout_s=GENEROUS_TIMEOUT_S)
    try:
        fetched = await client.fetch("big", f"http://127.0.0.1:{port}/snapshot.jpg")
    finally:
        await client.close()
        await runner.cleanup()
    assert len(body) > 1_000_000
    assert fetched.outcome is FetchOutcome.OK and fetched.data == body


async def test_retries_back_off_on_transient_outcomes_only() -> None:
    async with serve_fleet(small_fleet(2)) as (fleet, base):
        fleet.add_event({"kind": "http_500", "camera_ids": ["cam0000"]})
        client = SnapshotClient(concurrency=2, timeout_s=GENEROUS_TIMEOUT_S)
        slept: list[float] = []

        async def sleep(delay: float) -> None:
            slept.append(delay)

        try:
            failing = await with_retries(lambda: client.fetch("cam0000", snapshot_url(base, "cam0000")),
                                         retries=2, uniform=lambda: 0.5, sleep=sleep)
            healthy = await with_retries(lambda: client.fetch("cam0001", snapshot_url(base, "cam0001")),
                                         retries=2, uniform=lambda: 0.5, sleep=sleep)
        finally:
            await client.close()
    assert failing.outcome is FetchOutcome.HTTP_ERROR and failing.attempts == 3
    assert slept == [0.05, 0.1]  # full jitter at u=0.5 of base 0.1 s x 2^attempt
    assert healthy.outcome is FetchOutcome.OK and healthy.attempts == 1


async def test_breaker_stops_calling_a_dead_camera_then_tries_again() -> None:
    policy = BreakerPolicy(threshold=3, cooldown_s=10.0, max_cooldown_s=40.0)
    async with serve_fleet(small_fleet(1)) as (fleet, base):
        event = fleet.add_event({"kind": "offline", "camera_ids": ["cam0000"]})
        client = SnapshotClient(concurrency=1, timeout_s=GENEROUS_TIMEOUT_S)
        breaker, calls, now = Breaker(), 0, 0.0
        try:
            for step in range(40):  # one attempt per virtual second
                now = float(step)
                if step == 25:
                    fleet.book.remove(event.event_id)  # the camera comes back
                if not allows(breaker, now):
                    continue
                breaker = on_attempt(breaker, now)
                calls += 1
                result = await client.fetch("cam0000", snapshot_url(base, "cam0000"))
                breaker = on_result(breaker, result.outcome is FetchOutcome.OK, now, policy)
        finally:
            await client.close()
    # 3 failures open it at t=2 (until 12); the trial at 12 fails (open until 32); the trial at 32 succeeds
    assert calls == 3 + 1 + 1 + 7
    assert breaker.phase is BreakerPhase.CLOSED


async def test_a_50_mb_body_and_a_one_byte_a_second_trickle_each_fault_only_their_camera() -> None:
    """A camera answering 50 MB is read no further than the limit (corrupt, bounded memory); one trickling a byte
    a second times out; a healthy camera fetched beside them at the same time is unaffected."""
    from vision.sources.http import MAX_SNAPSHOT_BYTES

    good = cv2.imencode(".jpg", np.zeros((48, 64, 3), dtype=np.uint8))[1].tobytes()

    async def huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
        response.content_length = 50 * 1024 * 1024
        await response.prepare(request)
        block = b"\xff\xd8" + b"\0" * (1024 * 1024 - 2)
        try:
            for _ in range(50):
                await response.write(block)
        except (ConnectionResetError, RuntimeError):  # the client stopped reading at its limit
            pass
        return response

    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
        await response.prepare(request)
        for byte in good:
            await response.write(bytes([byte]))
            await asyncio.sleep(1.0)
        return response

    async def healthy(_: web.Request) -> web.Response:
        return web.Response(body=good, content_type="image/jpeg")

    app = web.Application()
    app.add_routes([web.get("/huge.jpg", huge), web.get("/trickle.jpg", trickle), web.get("/ok.jpg", healthy)])
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    client = SnapshotClient(concurrency=3, timeout_s=5.0)  # the trickle needs 600+ s; 5 s is its whole budget
    try:
        big, slow, ok = await asyncio.gather(*(client.fetch(name, f"http://127.0.0.1:{port}/{name}.jpg")
                                               for name in ("huge", "trickle", "ok")))
    finally:
        await client.close()
        await runner.cleanup()
    assert big.outcome is FetchOutcome.CORRUPT and big.data is not None and len(big.data) <= MAX_SNAPSHOT_BYTES
    assert slow.outcome is FetchOutcome.TIMEOUT
    assert ok.outcome is FetchOutcome.OK and ok.data == good
