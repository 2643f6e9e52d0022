"""The camera sampler: fetch frames under the risk-driven schedule, analyse them, publish what was seen.

One :class:`Sampler` per worker samples the cameras of the ``camera.priority``
partitions that worker owns (:func:`stream.topics.partition_for`, the
producer's murmur2 partitioner). Every tick it asks the pure
:class:`vision.schedule.Scheduler` which cameras are due, and fetches each in
its own task: bounded by ``vision_concurrency``, a per-request timeout, retries
with jittered back-off and a per-camera circuit breaker, so a camera that
hangs holds one slot for at most the timeout and never delays the others.
Fetched frames wait in a bounded queue (drops counted) for a small thread pool
that decodes them at reduced size, makes the thumbnail, runs
``vision.analysis.camera.analyse_frame`` and keeps evidence frames on disk.
Each sample becomes a ``FrameSample`` (metadata and a reference, never pixels)
and each finding a ``VisionFinding`` with the camera's cells. Every
``HEALTH_EVERY_S`` it says how it keeps up with the plan: Prometheus gauges and
a ``SamplingHealth`` event the wall shows (claimed cameras behind, cameras past
the max interval). Thumbnails and
camera analysis states go to Redis in batches (:mod:`stream.cameras.redisbatch`);
:meth:`Sampler.assign` hands released cameras' states over and reads the new
ones' back before it schedules them (:mod:`stream.cameras.statestore`).

`amur sampler` runs a Faust worker with only ``stream.agents.vision`` in its own
consumer group, for running sampling on machines of its own.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import sys
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

import click
import redis.asyncio as aioredis

from stream.cameras.redisbatch import BatchWriter
from stream.cameras.statestore import StateStore
from stream.cameras.targets import CameraTarget
from stream.runtime.metrics import Metrics
from stream.schemas import DecodeStatus, FrameSample, SamplingHealth, VisionFinding
from stream.errors import ConfigError
from stream.settings import REPO_ROOT, Settings
from vision.analysis.state import CameraState
from vision.sampling import Analysed, FrameAnalyser
from vision.schedule import Claim, ScheduleHealth, SchedulePolicy, Scheduler
from vision.sources.breaker import Breaker, BreakerPolicy, allows, on_attempt, on_result
from vision.sources.credentials import Credential, parse_credentials
from vision.sources.errors import CredentialsError
from vision.sources.http import SnapshotClient, with_retries
from vision.sources.keyframes import KeyframeClient
from vision.sources.outcome import Fetched, FetchOutcome

log = logging.getLogger(__name__)

SOURCE = "sampler"
THUMBNAIL_QUEUE = "vision_thumbnail"
TICK_S = 0.05
HEALTH_EVERY_S = 5.0
"""How often the sampler publishes how it keeps up with its plan."""
GOODBYE_TIMEOUT_S = 1.0
STATS_KEPT = 20_000
"""Recent ages/latenesses kept for percentiles (bounded)."""


def targets_from_registry(settings: Settings, cameras: Iterable[Any], cells_of: Callable[[str], Sequence[str]]
                          ) -> dict[str, CameraTarget]:
    """Registry cameras (gis.registry.Camera) -> fetch targets, per the settings' URL templates."""
    snapshot = settings.vision_snapshot_url or \
        f"http://127.0.0.1:{settings.sim_cameras_port}/cameras/{{camera_id}}/snapshot.jpg"
    out: dict[str, CameraTarget] = {}
    for camera in cameras:
        protocol = "http" if settings.vision_simulated_fleet else camera.protocol
        if protocol == "http":
            address = snapshot.format(camera_id=camera.camera_id)
        elif protocol == "rtsp":
            address = settings.vision_rtsp_url.format(camera_id=camera.camera_id)
        else:
            address = str(Path(settings.vision_recordings_dir) / f"{camera.camera_id}.mp4")
        cells = tuple(dict.fromkeys((camera.cell_code, *cells_of(camera.camera_id))))
        out[camera.camera_id] = CameraTarget(camera.camera_id, protocol, address, cells)
    return out


def camera_credentials(settings: Settings) -> dict[str, Credential]:
    """Stored camera credentials: the file's (refused inside the repository), then the environment's."""
    path = settings.vision_camera_credentials_file
    text = ""
    if path is not None:
        if path.resolve().is_relative_to(REPO_ROOT):
            raise ConfigError(f"vision_camera_credentials_file {path}: inside the repository; keep it outside")
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"vision_camera_credentials_file {path}: {exc.strerror}") from None
    try:
        table = parse_credentials(text, str(path))
        table.update(parse_credentials(settings.vision_camera_credentials.get_secret_value().replace(";", "\n"),
                                       "AMUR_VISION_CAMERA_CREDENTIALS"))
    except CredentialsError as exc:
        raise ConfigError(str(exc)) from None
    return table


class Outputs(Protocol):
    """Where samples and findings go (Faust topics in a worker; lists in a test)."""

    async def send_frame(self, sample: FrameSample) -> None: ...

    async def send_findings(self, findings: Sequence[VisionFinding]) -> None: ...

    async def send_health(self, health: SamplingHealth) -> None: ...


@dataclass
class SamplerStats:
    """Counters and recent timings for logs and the fleet benchmark."""

    dispatched: int = 0
    published: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    frame_age_s: deque[float] = field(default_factory=lambda: deque(maxlen=STATS_KEPT))
    """From the fetch's start to the end of its analysis."""
    lateness_s: deque[float] = field(default_factory=lambda: deque(maxlen=STATS_KEPT))
    """From a camera's due time to its dispatch."""
    late_over_interval: int = 0
    """Samples dispatched more than one interval after they were due."""


@dataclass(frozen=True, eq=False)
class _Job:
    target: CameraTarget
    fetched: Fetched
    started: float
    """Wall time (POSIX s) the fetch started: the frame's capture time."""


class Sampler:
    """Samples one worker's cameras. Build with its collaborators; ``await start()``, ``await run()``.

    Without ``redis`` no thumbnail is stored and camera states stay in this worker.
    """

    def __init__(self, settings: Settings, targets: dict[str, CameraTarget], outputs: Outputs, metrics: Metrics,
                 redis: aioredis.Redis | None, *, analyser: FrameAnalyser | None,
                 clock: Callable[[], float] = time.time, worker: str | None = None) -> None:
        self.settings = settings
        self.targets = targets
        self.outputs = outputs
        self.metrics = metrics
        self.writer: BatchWriter | None = None
        self.store: StateStore | None = None
        if redis is not None:
            self.writer = BatchWriter(redis, metrics)
            self.store = StateStore(redis, self.writer, settings, metrics)
        self.analyser = analyser
        self.clock = clock
        self.worker = worker or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        """Names this sampler in its SamplingHealth events (one entry on the wall per sampler)."""
        self._next_health = 0.0
        self._short = False
        self.scheduler = Scheduler(SchedulePolicy(settings.vision_frame_budget_fps, settings.vision_max_interval_s,
                                                  settings.vision_min_interval_s))
        self.breaker_policy = BreakerPolicy()
        self.breakers: dict[str, Breaker] = {}
        self._announced: dict[str, float] = {}
        self._fetching: set[str] = set()
        self.queue: asyncio.Queue[_Job] = asyncio.Queue(maxsize=settings.vision_queue_size)
        self.stats = SamplerStats()
        self.owned: frozenset[str] = frozenset()
        self._busy: set[str] = set()
        self._inflight: set[asyncio.Task[None]] = set()
        self._workers: list[asyncio.Task[None]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._assigning = asyncio.Lock()
        self._stopped = False
        self._random = random.Random(settings.sim_seed)
        self.http: SnapshotClient | None = None
        self.keyframes: KeyframeClient | None = None
        self.pool: ThreadPoolExecutor | None = None

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        s = self.settings
        self.http = SnapshotClient(concurrency=s.vision_concurrency, timeout_s=s.vision_fetch_timeout_s,
                                   credentials=camera_credentials(s))
        self.keyframes = KeyframeClient(threads=s.vision_rtsp_threads, timeout_s=s.vision_fetch_timeout_s)
        self.pool = ThreadPoolExecutor(max_workers=s.vision_analysis_threads, thread_name_prefix="vision-analysis")
        if self.writer is not None:
            self._flusher = asyncio.create_task(self.writer.run())

    async def stop(self) -> None:
        """Stop sampling; the owned cameras' states are written for whoever samples them next."""
        self._stopped = True
        try:  # say goodbye, so the wall drops this sampler now rather than when its last report ages out
            await asyncio.wait_for(self.report(self.clock()), GOODBYE_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - the producer may be stopping too
            log.debug("sampler goodbye not sent worker=%s error=%r", self.worker, exc)
        pending = [*self._inflight, *self._workers]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await self._hand_over(self.owned)
        if self._flusher is not None:
            self._flusher.cancel()
            await asyncio.gather(self._flusher, return_exceptions=True)
        if self.writer is not None:
            await self.writer.flush()
        if self.http is not None:
            await self.http.close()
        if self.keyframes is not None:
            self.keyframes.close()
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)

    async def run(self, *, ticking: bool = True) -> None:
        """Dispatch due cameras every tick and analyse what comes back, until cancelled.

        ``ticking=False`` only analyses: the caller drives :meth:`tick` and :meth:`report` itself
        (a test on a virtual clock)."""
        self._workers = [asyncio.create_task(self._analyse_forever())
                         for _ in range(self.settings.vision_analysis_threads)]
        try:
            while not self._stopped:
                now = self.clock()
                if ticking:
                    self.tick(now)
                if ticking and now >= self._next_health:
                    self._next_health = now + HEALTH_EVERY_S
                    await self._report_safely(now)
                await asyncio.sleep(TICK_S)
        finally:
            for worker in self._workers:
                worker.cancel()
            await asyncio.gather(*self._workers, return_exceptions=True)

    # -- inputs ------------------------------------------------------------------------
    async def assign(self, camera_ids: Iterable[str], now: float) -> None:
        """Own exactly ``camera_ids`` from now on (after a rebalance). Never raises.

        Released cameras leave the schedule at once and their states are written to Redis for
        their new owner; new cameras' states are read back before the schedule includes them,
        so the first sample after a takeover continues the previous owner's baseline and k-of-n
        history. Claims on new cameras are kept meanwhile.
        """
        async with self._assigning:  # rebalances in quick succession apply in order
            owned = frozenset(c for c in camera_ids if c in self.targets)
            kept, gone, new = owned & self.owned, self.owned - owned, owned - self.owned
            for camera_id in gone:
                self.breakers.pop(camera_id, None)
                self._announced.pop(camera_id, None)
            self.owned = owned
            share = len(owned) / max(1, len(self.targets))
            self.scheduler.set_cameras(kept, now, budget_share=share)
            await self._hand_over(gone)
            restored = await self._take_over(new, now)
            self.scheduler.set_cameras(owned, now, budget_share=share)
        log.info("sampler owns cameras=%s new=%s restored_states=%s budget_fps=%.1f", len(owned), len(new), restored,
                 self.scheduler.budget_fps)

    async def _hand_over(self, camera_ids: frozenset[str]) -> None:
        """Write released cameras' states for their next owner and forget them here. A frame of one
        still being analysed is forgotten when published (:meth:`_keep_state`)."""
        if self.analyser is None:
            return
        states = self.analyser.held(camera_ids)
        for camera_id in camera_ids:
            self.analyser.forget(camera_id)
            if self.store is not None:
                self.store.unwatch(camera_id)
        if self.store is not None and states:
            await self.store.save(states)

    async def _take_over(self, camera_ids: frozenset[str], now: float) -> int:
        """Restore new cameras' states from Redis (a camera without one starts fresh); how many were found."""
        if self.analyser is None or self.store is None or not camera_ids:
            return 0
        loaded = await self.store.load(camera_ids)
        for camera_id in camera_ids:
            self.store.watch(camera_id, self.analyser.restore(camera_id, loaded.get(camera_id, CameraState())), now)
        return len(loaded)

    def claim(self, camera_id: str, reason: str, priority: float, until: float | None) -> None:
        """Apply a CameraPriority; claims are identified by :func:`claim_key` of their reason.

        Cheap: the schedule re-plans once on the next tick whatever arrived meanwhile, and a claim
        re-sent unchanged changes nothing."""
        if camera_id in self.owned:
            key = claim_key(reason)
            before = self.scheduler.claims.get(camera_id, {}).get(key)
            self.scheduler.set_claim(camera_id, key, Claim(priority, until) if priority > 0 else None)
            if self.analyser is not None and fire_risk_rose(key, before.priority if before else 0.0, priority):
                self.analyser.look_closer(camera_id)

    # -- keeping up --------------------------------------------------------------------
    def health(self, now: float) -> ScheduleHealth:
        """How sampling keeps up with the plan at ``now``; also set on the Prometheus gauges."""
        health = self.scheduler.health(now)
        self.metrics.sampling_fps.labels(rate="planned").set(health.planned_fps)
        self.metrics.sampling_fps.labels(rate="served").set(health.served_fps)
        self.metrics.cameras_late.labels(kind="claimed_behind").set(health.claimed_behind)
        self.metrics.cameras_late.labels(kind="past_max_interval").set(health.past_max_interval)
        return health

    async def report(self, now: float) -> SamplingHealth:
        """Publish :meth:`health` as a SamplingHealth event (``cameras`` 0 once stopped)."""
        health = self.health(now)
        event = SamplingHealth(
            source=SOURCE, event_time=datetime.fromtimestamp(now, timezone.utc), worker=self.worker,
            cameras=0 if self._stopped else health.cameras, claimed=health.claimed,
            planned_fps=round(health.planned_fps, 1), served_fps=round(health.served_fps, 1),
            claimed_behind=health.claimed_behind, past_max_interval=health.past_max_interval,
            worst_wait_s=round(health.worst_wait_s, 1), feasible=health.feasible)
        await self.outputs.send_health(event)
        if health.short != self._short:  # log the transitions, not every report
            self._short = health.short
            log.log(logging.WARNING if health.short else logging.INFO,
                    "sampling %s its plan worker=%s planned_fps=%.1f served_fps=%.1f claimed_behind=%s "
                    "past_max_interval=%s feasible=%s", "behind" if health.short else "back on",
                    self.worker, health.planned_fps, health.served_fps, health.claimed_behind,
                    health.past_max_interval, health.feasible)
        return event

    async def _report_safely(self, now: float) -> None:
        try:
            await self.report(now)
        except Exception:  # noqa: BLE001 - a failed report must not stop sampling
            log.exception("sampling health not published worker=%s", self.worker)

    # -- sampling ----------------------------------------------------------------------
    def tick(self, now: float) -> int:
        if self._stopped:
            return 0
        # back-pressure: fetch no more than the analysis queue can take, so a slow analysis
        # shows up as cameras sampled late (measured) rather than frames fetched and dropped
        room = self.queue.maxsize - self.queue.qsize() - len(self._inflight)
        free = min(self.settings.vision_concurrency - len(self._inflight), room)
        due = self.scheduler.take_due(now, max(0, free))
        for camera_id, due_at in due:
            if camera_id in self._fetching:  # its previous fetch still hangs: one at a time per camera
                self.metrics.dropped.labels(queue="vision_fetch_busy").inc()
                continue
            lateness = now - due_at
            self.stats.lateness_s.append(lateness)
            if lateness > self.scheduler.intervals.get(camera_id, float("inf")):
                self.stats.late_over_interval += 1
            task = asyncio.create_task(self._sample(self.targets[camera_id], now))
            self._inflight.add(task)
            self._fetching.add(camera_id)
            task.add_done_callback(self._inflight.discard)
            task.add_done_callback(lambda _, c=camera_id: self._fetching.discard(c))
            self.stats.dispatched += 1
        return len(due)

    async def _fetch(self, target: CameraTarget, started: float) -> Fetched:
        assert self.http is not None and self.keyframes is not None, "Sampler.start() was not awaited"
        if target.protocol == "http":
            http = self.http
            return await with_retries(lambda: http.fetch(target.camera_id, target.address),
                                      retries=self.settings.vision_retries, uniform=self._random.random)
        if target.protocol == "rtsp":
            return await self.keyframes.fetch_rtsp(target.camera_id, target.address)
        return await self.keyframes.fetch_recorded(target.camera_id, Path(target.address), started)

    async def _sample(self, target: CameraTarget, started: float) -> None:
        camera_id = target.camera_id
        breaker = self.breakers.get(camera_id, Breaker())
        mono = time.monotonic()
        if not allows(breaker, mono):
            if self._announced.get(camera_id) == breaker.retry_at:
                return  # one circuit_open sample per open period is enough: skip the rest quietly
            self._announced[camera_id] = breaker.retry_at
            fetched = Fetched(camera_id, FetchOutcome.CIRCUIT_OPEN, detail="circuit open")
        else:
            self.breakers[camera_id] = attempted = on_attempt(breaker, mono)
            fetched = await self._fetch(target, started)
            answered = fetched.outcome in (FetchOutcome.OK, FetchOutcome.CORRUPT)
            if camera_id in self.owned:  # a rebalance during the fetch may have released it
                self.breakers[camera_id] = on_result(self.breakers.get(camera_id, attempted), answered,
                                                     time.monotonic(), self.breaker_policy)
        job = _Job(target, fetched, started)
        if camera_id in self._busy:
            self.metrics.dropped.labels(queue="vision_camera_busy").inc()
            await self._publish(job, None)
            return
        try:
            self.queue.put_nowait(job)
            self._busy.add(camera_id)
        except asyncio.QueueFull:
            self.metrics.dropped.labels(queue="vision_analysis").inc()
            await self._publish(job, None)

    async def _analyse_forever(self) -> None:
        while True:
            job = await self.queue.get()
            try:
                await self.analyse(job.target.camera_id, job.fetched, job.started)
            finally:
                self._busy.discard(job.target.camera_id)

    async def analyse(self, camera_id: str, fetched: Fetched, started: float) -> None:
        """Analyse one fetched frame in the thread pool and publish it (what the analysis workers
        do with each queued frame; the caller makes sure no other frame of the camera is in analysis)."""
        job = _Job(self.targets[camera_id], fetched, started)
        try:
            result = None
            if self.analyser is not None:
                result = await asyncio.get_running_loop().run_in_executor(
                    self.pool, self.analyser.process, camera_id, fetched, started)
                if result.evidence_refused:  # e.g. the disk is full: the findings are published without it
                    self.metrics.dropped.labels(queue="vision_evidence_disk").inc()
                    log.error("evidence frame not kept camera_id=%s error=%s; findings published without it",
                              camera_id, result.evidence_refused)
            await self._publish(job, result)
        except Exception:  # noqa: BLE001 - one bad frame must not stop sampling
            log.exception("sampling failed camera_id=%s", camera_id)

    async def _publish(self, job: _Job, result: Analysed | None) -> None:
        fetched, at = job.fetched, datetime.fromtimestamp(job.started, timezone.utc)
        status = DecodeStatus((result.status if result else fetched.outcome).value)
        image_ref = None
        if result is not None:
            thumb_ref = f"redis:{thumbnail_key(self.settings, job.target.camera_id)}" if result.thumbnail else None
            image_ref = result.image_ref or thumb_ref
        sample = FrameSample(source=SOURCE, event_time=at, camera_id=job.target.camera_id, status=status,
                             width=result.width if result else 0, height=result.height if result else 0,
                             size_bytes=len(fetched.data or b""), image_ref=image_ref,
                             fetch_ms=round(fetched.fetch_ms, 2))
        await self.outputs.send_frame(sample)
        if result is not None and result.findings:
            await self.outputs.send_findings([
                VisionFinding(source=SOURCE, event_time=at, camera_id=job.target.camera_id, kind=f.kind,
                              score=f.score, confirmed=f.confirmed, bbox=f.region, evidence_ref=f.evidence_ref,
                              cells=list(job.target.cells))
                for f in result.findings])
        if result is not None:
            self._keep_state(job.target.camera_id, result)
        if result is not None and result.thumbnail and self.writer is not None:
            self.writer.put(thumbnail_key(self.settings, job.target.camera_id), result.thumbnail,
                            self.settings.vision_thumbnail_ttl_s, THUMBNAIL_QUEUE)
        age = self.clock() - job.started
        self.stats.frame_age_s.append(age)
        self.stats.published += 1
        self.stats.by_status[status.value] = self.stats.by_status.get(status.value, 0) + 1
        self.metrics.frames.labels(status=status.value).inc()
        self.metrics.stage_latency.labels(stage="vision_frame_age").observe(age)

    def _keep_state(self, camera_id: str, result: Analysed) -> None:
        """After an analysis: offer the state for saving, or forget it if the camera moved away meanwhile."""
        if camera_id not in self.owned:
            if self.analyser is not None:
                self.analyser.forget(camera_id)
        elif self.store is not None:
            self.store.offer(camera_id, result.state, self.clock())


def fire_risk_rose(key: str, before: float, after: float) -> bool:
    """Whether a claim is a cell's fire risk (``cell <code>/fire``) that just rose: the camera's next
    sample then goes through the network whatever the cascade says."""
    return key.startswith("cell ") and key.endswith("/fire") and after > before


def claim_key(reason: str) -> str:
    """What a priority is about: the first two words of its reason ("incident INC-7 red" and
    "incident INC-7 closed" are the same claim; "cell 2311.../fire red" is the cell's fire claim)."""
    return " ".join(reason.split()[:2])


def thumbnail_key(settings: Settings, camera_id: str) -> str:
    """Redis key of a camera's latest thumbnail (JPEG bytes, ~320 px wide, TTL vision_thumbnail_ttl_s)."""
    return f"{settings.redis_prefix}thumb:{camera_id}"


@click.command(name="sampler", help="Run a Faust worker that only samples cameras (stream.agents.vision), "
                                    "in its own consumer group {app id}-sampler.")
def command() -> int:
    from stream.errors import ConfigError
    from stream.runtime.admin import prepare_topics
    from stream.runtime.app import build_app
    from stream.settings import load_settings

    settings = load_settings()
    settings = settings.model_copy(update={"app_id": f"{settings.app_id}-sampler"})
    try:
        prepare_topics(settings, agent_modules=["stream.agents.vision"])
    except ConfigError as exc:
        print(f"amur sampler: {exc}", file=sys.stderr)
        return 2
    from faust.worker import Worker

    rt = build_app(settings, agent_modules=["stream.agents.vision"])
    Worker(rt.app, loglevel=settings.log_level.lower(), quiet=True, redirect_stdouts=False).execute_from_commandline()
    return 0
