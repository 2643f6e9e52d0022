"""The demonstration's calls, on the real simulated fleet and the real Open311 front door (broker and Redis real)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import aiohttp
import pytest
from aiohttp import web
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from stream import topics
from stream.embedded.services import free_port
from stream.ingest.http.server import build_ingest_app
from stream.ingest.inventory import Inventory
from stream.ingest.registry import load_registry
from stream.runtime.admin import bootstrap_servers, prepare_topics_async
from stream.runtime.app import kafka_url
from stream.runtime.metrics import Metrics
from stream.dispatch.calls import UNMAPPED_SERVICE
from stream.schemas import GridEvent, decode
from stream.sim.demo import Endpoints, play
from stream.sim.scenarios.demonstration import plan
from vision.fleet.server import build_web_app, load_fleet

pytestmark = pytest.mark.integration


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


async def test_the_fleet_gets_the_smoke_and_the_report_goes_through_open311_at_its_time(make_settings) -> None:
    settings = make_settings(partitions=1, open311_api_keys="demo-key", feed110_api_keys="key-110")
    await prepare_topics_async(settings, agent_modules=[])
    start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(seconds=89)  # the report is due in 1 s
    # (the 110 calls, due 45 s and 75 s in, were due before it: they go at once, in their order)
    demo = plan(start, 7)
    bootstrap = bootstrap_servers(kafka_url(settings))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    fleet, fleet_url = await serve(build_web_app(load_fleet(7, 1.0, start)))
    ingest, ingest_url = await serve(build_ingest_app(settings, load_registry(), Inventory.from_sites([], [], []),
                                                      producer, Metrics()))
    grid = topics.topic_name(topics.GRID_EVENTS, settings.drill_id)
    consumer = AIOKafkaConsumer(grid, bootstrap_servers=bootstrap, auto_offset_reset="earliest", fetch_max_wait_ms=10)
    await consumer.start()
    loop = asyncio.get_running_loop()
    t0 = loop.time() - (datetime.now(timezone.utc) - start).total_seconds()
    try:
        await asyncio.wait_for(play(demo, Endpoints(fleet_url, ingest_url, "demo-key", "key-110"),
                                    lambda at: t0 + (at - start).total_seconds(), asyncio.Event()), 60)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{fleet_url}/control/events") as response:
                [event] = await response.json()
        assert event["kind"] == "smoke" and event["camera_ids"] == [demo.smoke.camera_id]
        assert datetime.fromisoformat(event["start"]) == demo.smoke.start
        records = []
        for _ in range(20):
            records += [r for batch in (await consumer.getmany(timeout_ms=2000)).values() for r in batch]
            if len(records) >= 3:
                break
        cold_flat, unmapped, report = sorted((decode(GridEvent, r.value) for r in records), key=lambda e: e.event_time)
        assert report.service_code == "smoke_report" and report.source == "open311"
        assert report.event_time >= demo.report.at
        # the 110 calls at their own times: a cold flat in the city for the heating item, then one no keyword maps
        assert (cold_flat.source, cold_flat.event_time) == ("110", demo.calls[0].at)
        assert cold_flat.cell_code is not None and cold_flat.cell_code.startswith("231102")
        assert (cold_flat.item_code, cold_flat.department) == ("HEA-001", "heating")  # Aihui's heating company
        assert unmapped.service_code == UNMAPPED_SERVICE and unmapped.department is None
        assert unmapped.event_time == demo.calls[1].at
        # restarted: nothing is sent twice (the smoke is there, the report's time has passed)
        await asyncio.wait_for(play(demo, Endpoints(fleet_url, ingest_url, "demo-key", "key-110"),
                                    lambda at: t0 + (at - start).total_seconds(), asyncio.Event(), resumed=True), 10)
        assert [r for batch in (await consumer.getmany(timeout_ms=2000)).values() for r in batch] == []
    finally:
        await consumer.stop()
        await ingest.cleanup()
        await fleet.cleanup()
        await producer.stop()
