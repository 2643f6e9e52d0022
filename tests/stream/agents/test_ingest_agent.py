"""A real Faust worker on the embedded broker: routing, dead letters, duplicates, /metrics, source health."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from stream import topics
from stream.agents.ingest import install
from stream.embedded.services import free_port
from stream.ingest.inventory import Inventory, Site
from stream.ingest.registry import load_registry
from stream.runtime.admin import bootstrap_servers, ensure_topics
from stream.runtime.app import build_app, expected_topics, kafka_url
from stream.schemas import (
    DeadLetter,
    ReadingBatch,
    SensorKind,
    SensorReading,
    SourceHealth,
    SourceState,
    decode,
    encode,
)
from tests.helpers.ingest import write_sources

pytestmark = pytest.mark.integration

SMOKE = "forestry.smoke-sensors"
INVENTORY = Inventory.from_sites([Site(f"smoke-{i:05d}", 127.5, 50.2, SensorKind.SMOKE) for i in range(1, 21)],
                                 [], [])


def fast_registry(tmp_path: Path) -> Path:
    """The smoke feed alone, with a 1 s cadence so staleness shows within seconds."""

    def pick(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        return [{**row, "cadence_s": "1"} for row in rows if row["source_id"] == SMOKE]

    return write_sources(tmp_path, pick)


def smoke(sensor: str, at: datetime, value: float = 2.0) -> SensorReading:
    return SensorReading(source=SMOKE, event_time=at, sensor_id=sensor, kind=SensorKind.SMOKE, value=value,
                         unit="%obs/m")


async def collect(consumer: AIOKafkaConsumer, until: float, enough) -> list[bytes]:  # type: ignore[no-untyped-def]
    got: list[bytes] = []
    while time.monotonic() < until and not enough(got):
        batches = await consumer.getmany(timeout_ms=200)
        got += [m.value for msgs in batches.values() for m in msgs]
    return got


async def test_worker_routes_dead_letters_dedupes_counts_and_watches(make_settings, tmp_path: Path) -> None:
    settings = make_settings(partitions=2, ingest_health_interval_s=0.3, ingest_registry=fast_registry(tmp_path),
                             ingest_clock="wall")  # live staleness: silence on the wall clock
    rt = build_app(settings, agent_modules=[])
    install(rt, load_registry(settings.ingest_registry), INVENTORY)
    bootstrap = bootstrap_servers(kafka_url(settings))
    await ensure_topics(bootstrap, expected_topics(rt))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(rt.topic_name(topics.READINGS), rt.topic_name(topics.DEAD_LETTER),
                                rt.topic_name(topics.SOURCE_HEALTH), bootstrap_servers=bootstrap,
                                auto_offset_reset="earliest", fetch_max_wait_ms=10)
    await producer.start()
    await consumer.start()
    await rt.app.start()
    try:
        raw = rt.topic_name(topics.RAW_INGEST)
        now = datetime.now(timezone.utc)
        batch = ReadingBatch(source="test", event_time=now,
                             readings=[smoke(f"smoke-{i:05d}", now) for i in range(1, 21)])
        await producer.send_and_wait(raw, key=SMOKE.encode(), value=encode(batch))
        await producer.send_and_wait(raw, key=SMOKE.encode(), value=encode(batch))  # all 20 are duplicates
        await producer.send_and_wait(raw, key=SMOKE.encode(), value=b"{not json")
        await producer.send_and_wait(raw, key=SMOKE.encode(), value=encode(smoke("smoke-00001", now, -9999.0)))

        def split(msgs: list[bytes]) -> tuple[list, list, list]:  # type: ignore[type-arg]
            events = [decode(ReadingBatch | DeadLetter | SourceHealth, m) for m in msgs]  # type: ignore[arg-type]
            return ([e for e in events if isinstance(e, ReadingBatch)], [e for e in events if isinstance(e, DeadLetter)],
                    [e for e in events if isinstance(e, SourceHealth)])

        deadline = time.monotonic() + 60
        msgs = await collect(consumer, deadline, lambda got: any(
            h.state is SourceState.STALE for h in split(got)[2]))
        batches, letters, health = split(msgs)
        routed = [r for b in batches for r in b.readings]
        assert sorted(r.sensor_id for r in routed) == [f"smoke-{i:05d}" for i in range(1, 21)]  # once each
        assert sorted((str(d.field), d.raw) for d in letters) == sorted(
            [("None", "{not json"), ("value", encode(smoke("smoke-00001", now, -9999.0)).decode())])
        assert all(d.topic == raw and d.reason for d in letters)
        assert [h.state for h in health if h.source_id == SMOKE][-1] is SourceState.STALE

        await producer.send_and_wait(raw, key=SMOKE.encode(), value=encode(smoke("smoke-00002",
                                                                                 datetime.now(timezone.utc))))
        more = await collect(consumer, time.monotonic() + 30, lambda got: any(
            h.state is SourceState.LIVE for h in split(got)[2]))
        assert [h.state for h in split(more)[2]] == [SourceState.LIVE]

        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{settings.worker_web_port}/metrics") as response:
                text = await response.text()
        assert f'amur_events_total{{outcome="accepted",source="{SMOKE}"}} 21.0' in text
        assert f'amur_events_total{{outcome="duplicate",source="{SMOKE}"}} 20.0' in text
        assert f'amur_events_total{{outcome="dead_lettered",source="{SMOKE}"}} 1.0' in text
        assert 'amur_events_total{outcome="dead_lettered",source="unregistered"} 1.0' in text
    finally:
        await rt.app.stop()
        await consumer.stop()
        await producer.stop()


def test_gauge_level_repeated_after_a_restart_is_still_a_duplicate(make_settings) -> None:
    """Two workers one after the other (each in its own event loop, as two processes would be)."""
    from stream.ingest.outcome import Outcome
    from stream.schemas import WaterLevel

    settings = make_settings(partitions=1)
    inventory = Inventory.from_sites([], [], [Site("hlj-heihe", 127.5, 50.25)])
    level = WaterLevel(source="hydrology.river-gauges", event_time=datetime.now(timezone.utc).replace(microsecond=0),
                       gauge_id="hlj-heihe", stage_m=7.3)
    bootstrap = bootstrap_servers(kafka_url(settings))

    async def one_worker() -> tuple[float, float]:
        rt = build_app(settings.model_copy(update={"worker_web_port": free_port()}), agent_modules=[])
        install(rt, load_registry(), inventory)
        await ensure_topics(bootstrap, expected_topics(rt))
        await rt.app.start()
        try:
            async with AIOKafkaProducer(bootstrap_servers=bootstrap) as producer:
                await producer.send_and_wait(rt.topic_name(topics.RAW_INGEST), key=b"hydrology.river-gauges",
                                             value=encode([level]))
            events = rt.metrics.events
            accepted = events.labels(source="hydrology.river-gauges", outcome=Outcome.ACCEPTED.value)
            duplicate = events.labels(source="hydrology.river-gauges", outcome=Outcome.DUPLICATE.value)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and accepted._value.get() + duplicate._value.get() == 0:
                await asyncio.sleep(0.05)
            return accepted._value.get(), duplicate._value.get()
        finally:
            await rt.app.stop()

    async def routed_levels() -> list[WaterLevel]:
        tp = TopicPartition(f"drill.{settings.drill_id}.{topics.WATER_LEVELS.name}", 0)
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, fetch_max_wait_ms=10)
        await consumer.start()
        try:
            consumer.assign([tp])
            await consumer.seek_to_beginning(tp)
            end = (await consumer.end_offsets([tp]))[tp]  # everything ever routed, read to the end
            got: list[bytes] = []
            while await consumer.position(tp) < end:
                got += [m.value for m in (await consumer.getmany(tp, timeout_ms=200)).get(tp, [])]
            return [decode(WaterLevel, m) for m in got]
        finally:
            await consumer.stop()

    first = asyncio.run(one_worker())
    second = asyncio.run(one_worker())  # its in-memory window is empty: only the table can know
    assert first == (1.0, 0.0) and second[0] == 0.0 and second[1] >= 1.0
    assert asyncio.run(routed_levels()) == [level]
