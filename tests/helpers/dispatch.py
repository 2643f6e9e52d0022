"""The ingest adapter (Open311, the 110 feed, actions) on a loopback port over the session's broker and Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord

from stream.embedded.services import free_port
from stream.ingest.http.server import build_ingest_app
from stream.ingest.inventory import Inventory
from stream.ingest.registry import load_registry
from stream.runtime.admin import bootstrap_servers, prepare_topics_async
from stream.runtime.app import kafka_url
from stream.runtime.metrics import Metrics
from stream.settings import Settings

KEYS = {"open311_api_keys": "key-a,key-b", "feed110_api_keys": "key-110",
        "dispatch_api_keys": "grid-office:key-dispatch,heating:key-heating,water-supply:key-water,"
                             "housing:key-housing"}


@dataclass
class FrontDoor:
    url: str
    producer: AIOKafkaProducer
    metrics: Metrics


@asynccontextmanager
async def front_door(settings: Settings, agent_modules: Iterable[str] = ()) -> AsyncIterator[FrontDoor]:
    """`amur ingest`'s app on a free loopback port (topics created first)."""
    await prepare_topics_async(settings, agent_modules=list(agent_modules))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers(kafka_url(settings)), linger_ms=5)
    await producer.start()
    metrics = Metrics()
    runner = web.AppRunner(build_ingest_app(settings, load_registry(), Inventory.from_sites([], [], []), producer,
                                            metrics))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield FrontDoor(f"http://127.0.0.1:{port}", producer, metrics)
    finally:
        await runner.cleanup()
        await producer.stop()


async def read_topics(settings: Settings, names: list[str], until: int, timeout_s: float = 60.0
                      ) -> dict[str, list[ConsumerRecord]]:
    """Records of ``names`` from the start, until ``until`` have been read in all (or the time is up)."""
    import asyncio

    consumer = AIOKafkaConsumer(*names, bootstrap_servers=bootstrap_servers(kafka_url(settings)),
                                auto_offset_reset="earliest", fetch_max_wait_ms=10)
    await consumer.start()
    seen: dict[str, list[ConsumerRecord]] = {name: [] for name in names}
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while sum(map(len, seen.values())) < until and loop.time() < deadline:
            for tp, records in (await consumer.getmany(timeout_ms=1000)).items():
                seen[tp.topic].extend(records)
    finally:
        await consumer.stop()
    return seen
