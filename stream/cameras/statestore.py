"""Camera analysis state in Redis, so a baseline and a half-confirmed finding survive a takeover.

A worker keeps each owned camera's :class:`~vision.analysis.state.CameraState`
in memory (:class:`vision.sampling.FrameAnalyser`). :class:`StateStore` copies
it to Redis (``{prefix}vision:state:{camera_id}``, ``state_to_json``, TTL
``vision_state_ttl_s`` so a decommissioned camera's state expires) and reads
it back for the cameras a worker takes over.

When (:func:`save_due`): after every sample while a finding is being confirmed
(k-of-n bits set, and once more when they clear), otherwise once per
``vision_state_save_interval_s`` per camera. Writes are therefore about owned
cameras / interval (5,000 / 60 s ≈ 83/s, ~28 kB each) plus the samples of
cameras with findings, and batched (:class:`stream.cameras.redisbatch.BatchWriter`).
Released cameras and, on a clean stop, every owned camera are written at once.
A worker that dies loses at most an interval of baseline learning, never a
confirmation in progress. A stored value that does not decode is counted
(``amur_dropped_total{queue="vision_state_corrupt"}``), logged, and the camera
starts fresh.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import redis.asyncio as aioredis

from stream.cameras.redisbatch import BatchWriter
from stream.runtime.metrics import Metrics
from stream.schemas import FindingKind
from stream.settings import Settings
from vision.analysis.errors import AnalysisError
from vision.analysis.state import CameraState, state_from_json, state_to_json

log = logging.getLogger(__name__)
T = TypeVar("T")

SAVE_QUEUE = "vision_state"
CORRUPT_QUEUE = "vision_state_corrupt"
LOAD_QUEUE = "vision_state_load"
BATCH = 200
"""Cameras per MGET or per hand-over flush (~5.6 MB of state)."""
LOAD_TIMEOUT_S = 10.0
"""A rebalance waits this long at most for states; the rest start fresh."""


def state_key(settings: Settings, camera_id: str) -> str:
    """Redis key of a camera's analysis state (JSON, TTL vision_state_ttl_s)."""
    return f"{settings.redis_prefix}vision:state:{camera_id}"


@dataclass(frozen=True)
class Saved:
    """What was last written of one camera's state, and when (sampler clock)."""

    at: float
    history: tuple[tuple[FindingKind, int], ...]


def save_due(state: CameraState, saved: Saved, now: float, interval_s: float) -> bool:
    """Whether to write a camera's state after its sample at ``now``.

    Always while its k-of-n history has a bit set (a finding is being confirmed) and on the
    sample that clears the last one (so the stored copy keeps no stale bits); otherwise once
    ``interval_s`` has passed since the last write (the baseline learns slowly).
    """
    return bool(state.history or saved.history) or now - saved.at >= interval_s


class StateStore:
    """Reads and writes the camera states of one worker; never raises for Redis or a bad value."""

    def __init__(self, redis: aioredis.Redis, writer: BatchWriter, settings: Settings, metrics: Metrics) -> None:
        self.redis = redis
        self.writer = writer
        self.settings = settings
        self.metrics = metrics
        self.saved: dict[str, Saved] = {}
        """Owned cameras only: a camera not here is never written by :meth:`offer`."""

    def watch(self, camera_id: str, state: CameraState, now: float) -> None:
        """Track a camera just taken over (``state`` as restored): its periodic write is an interval on."""
        self.saved[camera_id] = Saved(now, state.history)

    def unwatch(self, camera_id: str) -> None:
        self.saved.pop(camera_id, None)

    def offer(self, camera_id: str, state: CameraState, now: float) -> None:
        """After a sample of an owned camera: queue its state for the next batch when :func:`save_due`."""
        saved = self.saved.get(camera_id)
        if saved is None or not save_due(state, saved, now, self.settings.vision_state_save_interval_s):
            return
        self._put(camera_id, state)
        self.saved[camera_id] = Saved(now, state.history)

    async def save(self, states: Mapping[str, CameraState]) -> None:
        """Write ``states`` now (a hand-over or a clean stop), after anything already queued for them."""
        for chunk in _chunks(list(states.items()), BATCH):
            for camera_id, state in chunk:
                self._put(camera_id, state)
            await self.writer.flush()

    async def load(self, camera_ids: Iterable[str]) -> dict[str, CameraState]:
        """The stored states of ``camera_ids``; a camera with none (or none readable) is left out."""
        wanted = sorted(camera_ids)
        states: dict[str, CameraState] = {}
        try:
            async with asyncio.timeout(LOAD_TIMEOUT_S):
                for chunk in _chunks(wanted, BATCH):
                    values = await self.redis.mget([state_key(self.settings, c) for c in chunk])
                    states.update(self._decode(chunk, values))
        except Exception as exc:  # noqa: BLE001 - Redis down or slow: these cameras start fresh
            missed = len(wanted) - len(states)
            self.metrics.dropped.labels(queue=LOAD_QUEUE).inc(missed)
            log.warning("camera states not loaded cameras=%s error=%r", missed, exc)
        return states

    def _put(self, camera_id: str, state: CameraState) -> None:
        self.writer.put(state_key(self.settings, camera_id), state_to_json(state),
                        self.settings.vision_state_ttl_s, SAVE_QUEUE)

    def _decode(self, camera_ids: Iterable[str], values: Iterable[bytes | None]) -> dict[str, CameraState]:
        states = {}
        for camera_id, value in zip(camera_ids, values):
            if value is None:
                continue
            try:
                states[camera_id] = state_from_json(value)
            except AnalysisError as exc:
                self.metrics.dropped.labels(queue=CORRUPT_QUEUE).inc()
                log.warning("camera state unreadable, starting fresh camera_id=%s error=%s", camera_id, exc)
        return states


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
