"""Start the simulated camera fleet in-process on a free loopback port (shared by the fleet/sampler tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from aiohttp import web

from stream.embedded.services import free_port
from stream.schemas import FrameSample, SamplingHealth, VisionFinding
from vision.fleet.camera import FleetCamera, fleet_camera
from vision.fleet.server import Fleet, VirtualClock, build_web_app

NOON_HEIHE = datetime.fromisoformat("2026-06-21T04:00:00+00:00")
"""Local solar noon at Heihe is about 03:30 UTC: a daylit virtual start."""


class Collected:
    """The sampler's outputs kept in lists (stands in for the topics where the broker is not the subject)."""

    def __init__(self) -> None:
        self.frames: list[FrameSample] = []
        self.findings: list[VisionFinding] = []
        self.health: list[SamplingHealth] = []

    async def send_frame(self, sample: FrameSample) -> None:
        self.frames.append(sample)

    async def send_findings(self, findings: Sequence[VisionFinding]) -> None:
        self.findings.extend(findings)

    async def send_health(self, health: SamplingHealth) -> None:
        self.health.append(health)


def small_fleet(n: int, *, seed: int = 7) -> dict[str, FleetCamera]:
    scenes = ("forest", "river", "street", "square")
    return {f"cam{i:04d}": fleet_camera(f"cam{i:04d}", scenes[i % 4], 127.5, 50.25, f"cell{i % 10}", seed=seed)
            for i in range(n)}


@asynccontextmanager
async def serve_fleet(cameras: dict[str, FleetCamera], *, seed: int = 7, start: datetime = NOON_HEIHE,
                      speed: float = 1.0) -> AsyncIterator[tuple[Fleet, str]]:
    """The fleet and its base URL (http://127.0.0.1:PORT), served until the block ends."""
    fleet = Fleet(cameras, seed=seed, clock=VirtualClock(start, speed))
    fleet.warm()
    runner = web.AppRunner(build_web_app(fleet), access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield fleet, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def snapshot_url(base: str, camera_id: str) -> str:
    return f"{base}/cameras/{camera_id}/snapshot.jpg"


def registry_fleet(cameras: Iterable[object], seed: int = 7) -> dict[str, FleetCamera]:
    from vision.fleet.camera import fleet_from_registry

    return fleet_from_registry(cameras, seed=seed)  # type: ignore[arg-type]


async def two_sampler_workers(settings: Any) -> tuple[Any, Any]:
    """Two Faust workers with only the vision agents (not started), in one consumer group, on their own web ports."""
    from stream.runtime.admin import prepare_topics_async
    from stream.runtime.app import build_app

    agents = ["stream.agents.vision"]
    await prepare_topics_async(settings, agent_modules=agents)
    return (build_app(settings, agent_modules=agents),
            build_app(settings.model_copy(update={"worker_web_port": free_port()}), agent_modules=agents))
