"""Writes to the broker with a bound: while the broker cannot take them, the adapter answers 503, never a 500 or a hang.

:class:`BoundedProducer` wraps the adapter's producer: every send (enqueue, metadata wait and acknowledgement)
must finish within ``timeout_s`` or raises :class:`BrokerUnavailable`; :func:`broker_unavailable` turns that
into ``503`` with ``Retry-After``, for every route of the adapter. A call answered 503 may have been written in
part; the client sends it again, and the workers drop exact repeats (docs/ingest.md, dedupe).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from stream.errors import AmurError

log = logging.getLogger(__name__)
RETRY_AFTER_S = 5


class BrokerUnavailable(AmurError):
    """The broker did not take a write within the bound."""


class BoundedProducer:
    """The calls of :class:`AIOKafkaProducer` the adapter uses, each bounded in time."""

    def __init__(self, producer: AIOKafkaProducer, timeout_s: float, *, started: bool = True) -> None:
        self.producer = producer
        self.timeout_s = timeout_s
        self.started = started
        """False until the producer has reached the broker (:func:`start_until_reached`)."""

    async def _bounded(self, pending: Awaitable[Any], topic: str) -> Any:
        if not self.started:
            if asyncio.iscoroutine(pending):
                pending.close()
            raise BrokerUnavailable(f"the adapter has not reached the broker yet (writing to {topic})")
        try:
            return await asyncio.wait_for(pending, self.timeout_s)
        except (KafkaError, TimeoutError) as exc:
            raise BrokerUnavailable(f"the broker did not take a write to {topic} within {self.timeout_s:.0f} s "
                                    f"({type(exc).__name__})") from None

    async def send(self, topic: str, value: bytes | None = None, key: bytes | None = None) -> Awaitable[Any]:
        """Enqueue (bounded); the returned awaitable is the bounded acknowledgement."""
        future = await self._bounded(self.producer.send(topic, value=value, key=key), topic)
        return self._bounded(future, topic)

    async def send_and_wait(self, topic: str, value: bytes | None = None, key: bytes | None = None) -> Any:
        return await self._bounded(self.producer.send_and_wait(topic, value=value, key=key), topic)


async def start_until_reached(bounded: BoundedProducer, stop: asyncio.Event, *, first_s: float = 1.0,
                              cap_s: float = 30.0) -> bool:
    """Start the producer, retrying with back-off while the broker is unreachable; False if stopped first.

    The adapter listens meanwhile and answers writes with 503, so a broker that is down at start-up
    needs no manual step: the first write after it comes up is accepted.
    """
    delay = first_s
    while not stop.is_set():
        try:
            await bounded.producer.start()
        except KafkaError as exc:
            log.warning("broker unreachable at start-up error=%s retry_in_s=%.0f", exc, delay)
            try:
                await asyncio.wait_for(stop.wait(), delay)
            except TimeoutError:
                pass
            delay = min(cap_s, delay * 2)
            continue
        bounded.started = True
        log.info("broker reached; writes accepted")
        return True
    return False


@web.middleware
async def broker_unavailable(request: web.Request,
                             handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    """503 (with Retry-After) for a call whose writes the broker did not take in time."""
    try:
        return await handler(request)
    except BrokerUnavailable as exc:
        log.warning("write refused: broker unavailable path=%s reason=%s", request.path, exc)
        return web.json_response({"accepted": 0, "errors": [{"index": None, "field": None, "value": None,
                                                             "reason": f"{exc}; nothing is promised, send it again"}]},
                                 status=503, headers={"Retry-After": str(RETRY_AFTER_S)})
