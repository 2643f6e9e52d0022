"""What a drill sends: the inputs of a recording or an archive, paced on their event times, into its namespace.

Every input goes to the drill's topic of the same name as the live topic it was
recorded from. A recorded frame sample is not sent as it is: its image goes
through the same analysis as a live frame — the camera sampler's
:meth:`~stream.cameras.sampler.Sampler.analyse`, with the same analyser, model and
per-camera temporal confirmation — at the recorded event time, and the sampler
publishes the FrameSample and any VisionFinding into the drill's topics. Frames
are analysed one at a time in event-time order, so the same archive gives the same
findings. The replay's sampler writes nothing to Redis (no thumbnails, no camera
states) and keeps its evidence frames in the drill's run directory.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from stream import schemas, topics
from stream.drills.archive import Damage, read_archive
from stream.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Input:
    topic: str
    """Short name of the topic it was recorded from (``ingest.raw``, ``frames.samples``, ...)."""
    key: bytes | None
    payload: bytes
    event_time: datetime
    image: Path | None = None
    """The recorded frame image (frame samples only)."""


def replay_offsets(times: Sequence[datetime], speed: float) -> list[float]:
    """Wall-clock seconds after the start at which each message is sent (all 0 at ``speed`` infinity, "max")."""
    if speed <= 0:
        raise ValueError(f"speed must be positive, got {speed}")
    if not times:
        return []
    first = min(times)
    return [0.0 if math.isinf(speed) else max(0.0, (t - first).total_seconds() / speed) for t in times]


def in_order(inputs: Sequence[Input]) -> list[Input]:
    """By event time; inputs of the same time keep their recorded order (a stable sort)."""
    return sorted(inputs, key=lambda i: i.event_time)


def archive_inputs(root: Path, skipped: list[Damage]) -> list[Input]:
    """The inputs of an archive's sound segments; damaged segments are noted in ``skipped``."""
    by_name = {spec.name for spec in topics.ALL}
    out = []
    for record in read_archive(root, skipped):
        if record.topic not in by_name:
            skipped.append(Damage(record.topic, "a topic this version does not know; its records are skipped"))
            continue
        out.append(Input(record.topic, record.key.encode() if record.key is not None else None, record.payload(),
                         record.event_time, root / record.image if record.image else None))
    return out


class _ToKafka:
    """The replay sampler's outputs: the drill's frame and finding topics (no health reports: it is no
    live sampler, and the drill's wall should not list one)."""

    def __init__(self, producer: Any, settings: Settings) -> None:
        self.producer = producer
        self.frames = topics.topic_name(topics.FRAMES, settings.drill_id)
        self.findings = topics.topic_name(topics.FINDINGS, settings.drill_id)

    async def send_frame(self, sample: schemas.FrameSample) -> None:
        await self.producer.send(self.frames, key=sample.camera_id.encode(), value=schemas.encode(sample))

    async def send_findings(self, findings: Sequence[schemas.VisionFinding]) -> None:
        for finding in findings:
            await self.producer.send(self.findings, key=finding.camera_id.encode(), value=schemas.encode(finding))

    async def send_health(self, health: schemas.SamplingHealth) -> None:
        return None


def replay_sampler(settings: Settings, outputs: _ToKafka, evidence_dir: Path) -> Any:
    """A camera sampler over the registry's cameras, for analysis only (nothing fetched, nothing in Redis)."""
    from gis.registry import CameraCoverage, load_cameras
    from stream.cameras.sampler import Sampler, targets_from_registry
    from stream.runtime.metrics import Metrics
    from vision.analysis.model import FireSmokeModel
    from vision.evidence import EvidenceStore
    from vision.sampling import FrameAnalyser

    cameras = load_cameras()
    coverage = CameraCoverage.load()
    targets = targets_from_registry(settings, cameras, lambda c: [v.cell_code for v in coverage.cells_seen_by(c)])
    analyser = FrameAnalyser(FireSmokeModel.load, EvidenceStore(evidence_dir, settings.vision_evidence_max_mb << 20),
                             riverside=frozenset(c.camera_id for c in cameras if c.scene == "river"))
    return Sampler(settings, targets, outputs, Metrics(), None, analyser=analyser)


async def analyse_frame(sampler: Any, item: Input) -> None:
    """One recorded frame sample through the sampler's analysis, at its recorded time."""
    from stream.cameras.sampler import CameraTarget
    from vision.sources.outcome import Fetched, FetchOutcome

    try:
        sample = schemas.decode(schemas.FrameSample, item.payload)
    except Exception as exc:  # noqa: BLE001 - refused live too: the pipeline refuses it again, same reason
        log.info("drill: recorded frame sample refused error=%s", exc)
        return
    camera_id = sample.camera_id
    if camera_id not in sampler.targets:  # a camera the platform placed live (GB/T 28181): no cells known here
        sampler.targets[camera_id] = CameraTarget(camera_id, "http", "", ())
    sampler.owned = sampler.owned | {camera_id}  # keeps its analysis state from frame to frame
    outcome = FetchOutcome(sample.status.value)
    data = item.image.read_bytes() if item.image is not None and item.image.exists() else None
    if outcome is FetchOutcome.OK and data is None:
        outcome = FetchOutcome.OFFLINE  # recorded without its image (docs/drills.md)
    await sampler.analyse(camera_id, Fetched(camera_id, outcome, data, sample.fetch_ms), item.event_time.timestamp())


async def send_inputs(settings: Settings, inputs: Sequence[Input], speed: float, evidence_dir: Path,
                      on_time: Callable[[float], None] | None = None) -> dict[str, int]:
    """Send ``inputs`` in event-time order, paced by ``speed``; frames through the analysis. Counts per topic.

    ``on_time`` is told the simulated seconds reached, once per recorded step.
    """
    from aiokafka import AIOKafkaProducer

    from stream.runtime.admin import bootstrap_servers
    from stream.runtime.app import kafka_url
    from stream.runtime.kafkaauth import client_options

    ordered = in_order(inputs)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers(kafka_url(settings)), linger_ms=10,
                                max_request_size=8 * 1024 * 1024, **client_options(settings))
    await producer.start()
    sampler = None
    counts: dict[str, int] = {}
    try:
        if any(i.topic == topics.FRAMES.name for i in ordered):
            sampler = replay_sampler(settings, _ToKafka(producer, settings), evidence_dir)
            await sampler.start()
        started, last = time.monotonic(), None
        for item, offset in zip(ordered, replay_offsets([i.event_time for i in ordered], speed)):
            if on_time is not None and item.event_time != last:
                last = item.event_time
                on_time((item.event_time - ordered[0].event_time).total_seconds())
            delay = offset - (time.monotonic() - started)
            if delay > 0:
                await asyncio.sleep(delay)
            if item.topic == topics.FRAMES.name and sampler is not None:
                await analyse_frame(sampler, item)
            else:
                spec = next(s for s in topics.ALL if s.name == item.topic)
                await producer.send(topics.topic_name(spec, settings.drill_id), key=item.key, value=item.payload)
            counts[item.topic] = counts.get(item.topic, 0) + 1
        await producer.flush()
    finally:
        if sampler is not None and sampler.pool is not None:
            sampler.pool.shutdown(wait=True)
            if sampler.http is not None:
                await sampler.http.close()
            if sampler.keyframes is not None:
                sampler.keyframes.close()
        await producer.stop()
    return counts
