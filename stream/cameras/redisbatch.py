"""Batched Redis writes from the event loop: many SETs with a TTL, one pipeline per flush.

The sampler writes a thumbnail per frame and now and then a camera's analysis
state; a round trip per write would cost the event loop more than the write at
hundreds of frames a second. :class:`BatchWriter` keeps the latest value per
key (a newer write of a waiting key replaces it) and flushes them with one
non-transactional pipeline every ``flush_s``, or at once when ``batch_size``
keys wait. At most ``max_pending`` keys wait. A write that is refused, or finds
no room, is counted in ``amur_dropped_total`` under the ``queue`` label it was
given and logged, never raised: Redis holds projections and hand-over copies,
and sampling goes on without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from dataclasses import dataclass

import redis.asyncio as aioredis

from stream.runtime.metrics import Metrics

log = logging.getLogger(__name__)

FLUSH_S = 0.1
BATCH_SIZE = 100
MAX_PENDING = 2_000
"""Keys waiting at most (~2,000 × 28 kB of camera state in the worst case)."""


@dataclass(frozen=True, eq=False)
class Write:
    value: bytes
    ttl_s: int
    queue: str
    """The ``amur_dropped_total`` label counted when this write is lost."""


class BatchWriter:
    """Queue writes with :meth:`put` (from the event loop); ``run()`` flushes them until cancelled."""

    def __init__(self, redis: aioredis.Redis, metrics: Metrics, *, flush_s: float = FLUSH_S,
                 batch_size: int = BATCH_SIZE, max_pending: int = MAX_PENDING) -> None:
        self.redis = redis
        self.metrics = metrics
        self.flush_s = flush_s
        self.batch_size = batch_size
        self.max_pending = max_pending
        self._pending: dict[str, Write] = {}
        self._full = asyncio.Event()
        self._flushing = asyncio.Lock()

    def put(self, key: str, value: bytes, ttl_s: int, queue: str) -> None:
        """SET ``key`` to ``value`` with a TTL at the next flush (dropped and counted when full)."""
        if key not in self._pending and len(self._pending) >= self.max_pending:
            self.metrics.dropped.labels(queue=queue).inc()
            return
        self._pending[key] = Write(value, ttl_s, queue)
        if len(self._pending) >= self.batch_size:
            self._full.set()

    async def run(self) -> None:
        """Flush every ``flush_s``, or as soon as a batch is full, until cancelled."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._full.wait(), self.flush_s)
            await self.flush()

    async def flush(self) -> None:
        """Write everything waiting now; returns after Redis answered (or failed and was counted)."""
        async with self._flushing:  # one flush at a time keeps writes of one key in order
            self._full.clear()
            batch, self._pending = self._pending, {}
            if batch:
                await self._write(batch)

    async def _write(self, batch: dict[str, Write]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for key, write in batch.items():
            pipe.set(key, write.value, ex=write.ttl_s)
        try:
            replies = await pipe.execute(raise_on_error=False)
            failed = {k: r for k, r in zip(batch, replies) if isinstance(r, Exception)}
        except Exception as exc:  # noqa: BLE001 - Redis down or unreachable: count, log, go on
            failed = dict.fromkeys(batch, exc)
        if not failed:
            return
        for queue, lost in Counter(batch[k].queue for k in failed).items():
            self.metrics.dropped.labels(queue=queue).inc(lost)
        log.warning("redis writes lost count=%s keys=%s error=%s", len(failed), sorted(failed)[:3],
                    next(iter(failed.values())))
