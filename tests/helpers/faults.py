"""Fault tests on ingest-only workers run as child processes: start and kill them, feed gauge levels into
the raw-ingest topic and read back what the workers routed (the water-levels topic) and dead-lettered.

Gauge levels are used because each is one output message with its own identity (gauge, event time), so
lost and duplicated ones can be counted exactly.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from stream import schemas, topics
from stream.embedded.services import free_port
from stream.runtime.admin import bootstrap_servers
from stream.runtime.app import kafka_url
from stream.runtime.offsets import true_end_offsets
from stream.schemas import WaterLevel
from stream.settings import Settings
from tests.conftest import REPO_ROOT, settings_env

GAUGE_SOURCE = "hydrology.river-gauges"
GAUGE = "hlj-heihe"
T0 = datetime(2026, 7, 20, 0, 0, tzinfo=timezone.utc)
WORKER = REPO_ROOT / "tests" / "helpers" / "ingest_worker.py"


def level(n: int, gauge: str = GAUGE) -> WaterLevel:
    """The n-th level of the test: one a minute of event time, so each is its own (gauge, time)."""
    return WaterLevel(source=GAUGE_SOURCE, event_time=T0 + timedelta(minutes=n), gauge_id=gauge,
                      stage_m=7.0 + (n % 100) / 100)


def number_of(event_time: datetime) -> int:
    return int((event_time - T0).total_seconds() // 60)


def start_worker(settings: Settings, log_path: Path, web_port: int | None = None) -> subprocess.Popen[bytes]:
    """An ingest-only worker (``tests/helpers/ingest_worker.py``) in its own process group."""
    env = settings_env(settings)
    env["AMUR_WORKER_WEB_PORT"] = str(web_port or free_port())
    env["AMUR_INGEST_CLOCK"] = "event"  # the levels are in 2026-07: judged on their own clock, never "too old"
    env["PYTHONPATH"] = str(REPO_ROOT)
    return subprocess.Popen([sys.executable, str(WORKER)], env=env, stdout=open(log_path, "wb"),
                            stderr=subprocess.STDOUT, start_new_session=True, cwd=REPO_ROOT)


def stop(process: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM) -> None:
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, sig)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else f"(no {path.name})"


class Feed:
    """A producer onto the raw-ingest topic and a reader of the routed levels and dead letters."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.bootstrap = bootstrap_servers(kafka_url(settings))
        self.raw = topics.topic_name(topics.RAW_INGEST, settings.drill_id)
        self.levels = topics.topic_name(topics.WATER_LEVELS, settings.drill_id)
        self.dead = topics.topic_name(topics.DEAD_LETTER, settings.drill_id)
        self.producer: AIOKafkaProducer | None = None

    async def send(self, payload: bytes, partition: int | None = None) -> None:
        """Send and wait for the broker's acknowledgement (a fresh producer after a failure)."""
        if self.producer is None:
            self.producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, linger_ms=0, request_timeout_ms=10000)
            await self.producer.start()
        try:
            await self.producer.send_and_wait(self.raw, value=payload, key=GAUGE_SOURCE.encode(), partition=partition)
        except Exception:
            await self.close()
            raise

    async def send_level(self, n: int, partition: int | None = None, gauge: str = GAUGE) -> None:
        await self.send(schemas.encode([level(n, gauge)]), partition)

    async def close(self) -> None:
        if self.producer is not None:
            producer, self.producer = self.producer, None
            await producer.stop()

    async def read_all(self, topic: str) -> list[tuple[int, int, bytes]]:
        """Every message of ``topic`` from its beginning to its end now, as (partition, timestamp ms, value)."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, fetch_max_wait_ms=10)
        await consumer.start()
        try:
            parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
            if not parts:
                await consumer._client.force_metadata_update()
                parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
            if not parts:
                return []
            consumer.assign(parts)
            await consumer.seek_to_beginning(*parts)
            ends = await true_end_offsets(self.bootstrap, await consumer.end_offsets(parts))  # Tansu under-reports
            got: list[tuple[int, int, bytes]] = []
            while [tp for tp in parts if await consumer.position(tp) < ends[tp]]:
                for tp, msgs in (await consumer.getmany(*parts, timeout_ms=200)).items():
                    got += [(tp.partition, m.timestamp, m.value) for m in msgs]
            return got
        finally:
            await consumer.stop()

    async def routed(self) -> list[WaterLevel]:
        return [schemas.decode(WaterLevel, value) for _, _, value in await self.read_all(self.levels)]

    async def dead_letters(self) -> list[schemas.DeadLetter]:
        return [schemas.decode(schemas.DeadLetter, value) for _, _, value in await self.read_all(self.dead)]


async def poll(check: Callable[[], object], what: str, timeout_s: float, every_s: float = 0.5,
               explain: Callable[[], str] = lambda: "") -> None:
    """Wait until ``await check()`` (or ``check()``) is truthy; the bound is for a busy machine."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}\n{explain()}")
        await asyncio.sleep(every_s)
