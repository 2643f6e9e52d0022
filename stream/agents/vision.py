"""Vision in the worker: the camera sampler as a service, and camera priorities from risk.

Why inside the Faust worker: the sampler's shard *is* the worker's share of
``camera.priority`` partitions (cameras keyed by id, murmur2 like every
producer), so Kafka's group protocol does the sharding and the failover — when
a worker dies its partitions, hence its cameras, move to the survivors within a
session timeout, and the ``on_partitions_assigned`` hook hands the new set to
the sampler. It writes the analysis state of the cameras it releases to Redis
and reads back that of the cameras it gains before sampling them, so the
baseline and any half-confirmed finding move with the camera (a worker that
dies has had its states written at least every ``vision_state_save_interval_s``,
and after every sample while a finding was being confirmed). Priority claims
for a camera arrive on the partition of the worker that samples it, in order.

- ``vision_take_priorities``: CameraPriority -> the owning sampler's schedule.
- ``vision_prioritise_cells``: CellRisk (keyed by cell) -> CameraPriority for
  every camera that sees the cell (re-keyed by camera), on a change only.
- ``vision_prioritise_crests``: CrestForecast -> CameraPriority for the cameras
  of the cells the crest will reach, until it has passed.
- the sampler service publishes FrameSample and VisionFinding, writes
  thumbnails and camera states to Redis, and every few seconds publishes
  SamplingHealth (how it keeps up with its plan) for the wall.
- every ``vision_inventory_refresh_s`` it checks the real-camera inventory
  (GB/T 28181 channels, ONVIF cameras): channels placed since the worker
  started are sampled by the worker owning their partition, without a restart.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import mode
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from stream import schemas, topics
from stream.agents.deadletter import send_dead_letter
from stream.cameras.channels import InventoryWatcher, inventory_change
from stream.cameras.sampler import CameraTarget, Sampler, targets_from_registry
from stream.errors import InvalidEvent
from stream.topics import partition_for
from vision.schedule import (
    PRIORITY_BY_COLOUR,
    PRIORITY_CREST_FORECAST,
    cameras_for_cells,
)

log = logging.getLogger(__name__)

SOURCE = "vision"
CREST_HOLD = timedelta(hours=6)
"""Cameras stay prioritised this long after a crest's latest forecast arrival."""


class _Outputs:
    def __init__(self, rt: Any) -> None:
        self.frames, self.findings = rt.topic(topics.FRAMES), rt.topic(topics.FINDINGS)
        self.sampling = rt.topic(topics.SAMPLING)

    async def send_frame(self, sample: schemas.FrameSample) -> None:
        await self.frames.send(key=sample.camera_id.encode(), value=schemas.encode(sample))

    async def send_findings(self, findings: Sequence[schemas.VisionFinding]) -> None:
        for finding in findings:
            await self.findings.send(key=finding.camera_id.encode(), value=schemas.encode(finding))

    async def send_health(self, health: schemas.SamplingHealth) -> None:
        await self.sampling.send(key=health.worker.encode(), value=schemas.encode(health))


def build_sampler(rt: Any) -> tuple[Sampler, dict[str, list[str]], frozenset[str]]:
    """The sampler of this worker (not started), the cell -> cameras coverage, and the inventory's channels."""
    from gis.registry import CameraCoverage, load_cameras
    from vision.analysis.image import DETECTORS
    from vision.evidence import EvidenceStore
    from vision.sampling import FrameAnalyser

    settings = rt.settings
    cameras = load_cameras()
    coverage = CameraCoverage.load()
    targets = targets_from_registry(settings, cameras,
                                    lambda camera_id: [v.cell_code for v in coverage.cells_seen_by(camera_id)])
    stored: dict[str, CameraTarget] = {}
    if settings.redis_url and settings.vision_sampling:  # GB/T 28181 channels the platform placed (docs/cameras.md)
        from stream.cameras.channels import stored_targets

        try:
            stored = stored_targets(rt.redis_url(), settings.redis_prefix)
        except (OSError, RedisError) as exc:  # Redis not there: sample the registry's cameras only
            log.warning("gb28181 channels not read error=%r", exc)
    targets.update(stored)
    by_cell: dict[str, list[str]] = {}
    add_coverage(by_cell, targets.values())
    load_detector = DETECTORS[settings.vision_detector]
    load_detector()  # fail at start-up, not in the first frame, if the model is missing
    analyser = FrameAnalyser(load_detector,
                             EvidenceStore(settings.vision_evidence_dir, settings.vision_evidence_max_mb * 1024 * 1024),
                             riverside=frozenset(c.camera_id for c in cameras if c.scene == "river"))
    # a worker that does not sample neither writes thumbnails nor reads camera states
    redis = aioredis.Redis.from_url(rt.redis_url()) if settings.redis_url and settings.vision_sampling else None
    sampler = Sampler(settings, targets, _Outputs(rt), rt.metrics, redis, analyser=analyser)
    return sampler, by_cell, frozenset(stored)


def add_coverage(by_cell: dict[str, list[str]], targets: Iterable[CameraTarget]) -> None:
    """Add each target to the cameras of the cells it sees (once)."""
    for target in targets:
        for cell in target.cells:
            seen = by_cell.setdefault(cell, [])
            if target.camera_id not in seen:
                seen.append(target.camera_id)


def register(rt: Any) -> None:
    app, settings = rt.app, rt.settings
    sampler, by_cell, from_inventory = build_sampler(rt)
    priority_topic = rt.topic(topics.CAMERA_PRIORITY)
    priority_name = rt.topic_name(topics.CAMERA_PRIORITY)
    partitions = topics.partitions_for(topics.CAMERA_PRIORITY, settings.partitions)
    partition_of = {camera_id: partition_for(camera_id, partitions) for camera_id in sampler.targets}
    owned_partitions: set[int] = set()
    inventory_ids = set(from_inventory)
    rt.vision_sampler = sampler  # for tests and the fleet benchmark

    def owned_cameras() -> list[str]:
        return [c for c, p in partition_of.items() if p in owned_partitions]

    async def learn_inventory(watcher: InventoryWatcher) -> None:
        """Channels placed (or re-addressed) since start join the schedule where this worker owns their
        partition; channels no longer placed leave it. Ownership stays the partitions'."""
        stored = await watcher.read_if_changed()
        if stored is None:
            return
        current = {c: t for c, t in sampler.targets.items() if c in partition_of}
        change = inventory_change(current, frozenset(inventory_ids), stored)
        if not change.changed and not change.gone:
            return
        for camera_id in change.gone:
            partition_of.pop(camera_id, None)  # kept in sampler.targets: a fetch in flight may still need it
        sampler.targets.update(change.changed)
        partition_of.update({c: partition_for(c, partitions) for c in change.changed})
        inventory_ids.difference_update(change.gone)
        inventory_ids.update(change.changed)
        add_coverage(by_cell, change.changed.values())
        log.info("camera inventory changed new_or_changed=%s gone=%s", len(change.changed), len(change.gone))
        await sampler.assign(owned_cameras(), time.time())

    async def dead_letter(spec: topics.TopicSpec, payload: bytes, exc: InvalidEvent) -> None:
        await send_dead_letter(rt, spec, payload, exc, SOURCE)

    async def send_priorities(cameras: set[str], priority: float, reason: str, at: datetime,
                              until: datetime | None) -> None:
        for camera_id in sorted(cameras):
            event = schemas.CameraPriority(source=SOURCE, event_time=at, camera_id=camera_id, priority=priority,
                                           reason=reason, until=until)
            await priority_topic.send(key=camera_id.encode(), value=schemas.encode(event))

    @app.agent(priority_topic, name="vision_take_priorities")
    async def take_priorities(stream: Any) -> None:
        async for payload in stream:
            try:
                event = schemas.decode(schemas.CameraPriority, payload)
            except InvalidEvent as exc:
                await dead_letter(topics.CAMERA_PRIORITY, payload, exc)
                continue
            sampler.claim(event.camera_id, event.reason, event.priority,
                          event.until.timestamp() if event.until else None)

    cell_priority: dict[tuple[str, str], float] = {}

    @app.agent(rt.topic(topics.CELL_RISK), name="vision_prioritise_cells")
    async def prioritise_cells(stream: Any) -> None:
        async for payload in stream:
            try:
                risk = schemas.decode(schemas.CellRisk, payload)
            except InvalidEvent as exc:
                await dead_letter(topics.CELL_RISK, payload, exc)
                continue
            priority = PRIORITY_BY_COLOUR.get(risk.colour.value, 0.0)
            key = (risk.cell_code, risk.hazard.value)
            if cell_priority.get(key, 0.0) == priority:
                continue
            cell_priority[key] = priority
            await send_priorities(cameras_for_cells([risk.cell_code], by_cell), priority,
                                  f"cell {risk.cell_code}/{risk.hazard.value} {risk.colour.value}", risk.event_time,
                                  None)

    @app.agent(rt.topic(topics.FORECASTS), name="vision_prioritise_crests")
    async def prioritise_crests(stream: Any) -> None:
        async for payload in stream:
            try:
                forecast = schemas.decode(schemas.CrestForecast, payload)
            except InvalidEvent as exc:
                await dead_letter(topics.FORECASTS, payload, exc)
                continue
            priority = 0.0 if forecast.cancelled else PRIORITY_CREST_FORECAST
            await send_priorities(cameras_for_cells(forecast.affected_cells, by_cell), priority,
                                  f"crest {forecast.river}-{forecast.crest_no} at {forecast.gauge_id}",
                                  forecast.event_time, forecast.arrival_high + CREST_HOLD)

    @app.on_partitions_assigned.connect
    async def own_cameras(sender: Any, assigned: Any, **_: Any) -> None:
        owned_partitions.clear()
        owned_partitions.update(tp.partition for tp in app.assignor.assigned_actives() if tp.topic == priority_name)
        await sampler.assign(owned_cameras(), time.time())

    if not settings.vision_sampling:
        log.info("camera sampling is off in this worker (AMUR_VISION_SAMPLING=false)")
        return

    @app.service
    class SamplerService(mode.Service):
        """Runs the sampler for the worker's lifetime."""

        async def on_start(self) -> None:
            await sampler.start()

        async def on_stop(self) -> None:
            await sampler.stop()

        @mode.Service.task
        async def _sample(self) -> None:
            await sampler.run()

        @mode.Service.task
        async def _learn_inventory(self) -> None:
            if not settings.vision_inventory_refresh_s or sampler.writer is None:
                return  # no Redis, or refreshing turned off: the inventory is read at start only
            watcher = InventoryWatcher(sampler.writer.redis, settings.redis_prefix)
            while not self.should_stop:
                await self.sleep(settings.vision_inventory_refresh_s)
                try:
                    await learn_inventory(watcher)
                except (OSError, RedisError) as exc:  # Redis away for a while: try again next time
                    log.warning("camera inventory not read error=%r", exc)
