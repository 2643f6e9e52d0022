"""Snapshot client, retries and the circuit breaker against the real fleet server on loopback."""

from __future__ import annotations

import asyncio
import time

import pytest

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
from vision.sources.outcome import Fetched, FetchOutcome

pytestmark = pytest.mark.integration


async def test_a_hanging_camera_does_not_delay_the_others() -> None:
    cameras = small_fleet(12)
    async with serve_fleet(cameras) as (fleet, base):
        fleet.add_event({"kind": "timeout", "camera_ids": ["cam0000"]})
        client = SnapshotClient(concurrency=8, timeout_s=1.5)
        try:
            finished: dict[str, float] = {}
            started = time.monotonic()

            async def fetch(camera_id: str) -> Fetched:
                result = await client.fetch(camera_id, snapshot_url(base, camera_id))
                finished[camera_id] = time.monotonic() - started
                return result

            results = await asyncio.gather(*(fetch(c) for c in cameras))
        finally:
            await client.close()
    by_camera = {r.camera_id: r for r in results}
    assert by_camera["cam0000"].outcome is FetchOutcome.TIMEOUT
    assert finished["cam0000"] >= 1.5
    healthy = [c for c in cameras if c != "cam0000"]
    assert all(by_camera[c].outcome is FetchOutcome.OK for c in healthy)
    # every healthy camera was answered before the hanging one gave up
    assert max(finished[c] for c in healthy) < finished["cam0000"]


async def test_outcomes_of_server_faults() -> None:
    async with serve_fleet(small_fleet(4)) as (fleet, base):
        fleet.add_event({"kind": "offline", "camera_ids": ["cam0000"]})
        fleet.add_event({"kind": "http_500", "camera_ids": ["cam0001"]})
        fleet.add_event({"kind": "corrupt", "camera_ids": ["cam0002"]})
        client = SnapshotClient(concurrency=4, timeout_s=2.0)
        try:
            got = {c: (await client.fetch(c, snapshot_url(base, c))).outcome for c in small_fleet(4)}
        finally:
            await client.close()
    assert got == {"cam0000": FetchOutcome.OFFLINE, "cam0001": FetchOutcome.HTTP_ERROR,
                   "cam0002": FetchOutcome.CORRUPT, "cam0003": FetchOutcome.OK}


async def test_retries_back_off_on_transient_outcomes_only() -> None:
    async with serve_fleet(small_fleet(2)) as (fleet, base):
        fleet.add_event({"kind": "http_500", "camera_ids": ["cam0000"]})
        client = SnapshotClient(concurrency=2, timeout_s=2.0)
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
        client = SnapshotClient(concurrency=1, timeout_s=2.0)
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
