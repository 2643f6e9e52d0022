"""The adapter with its own embedded broker, stopped mid-run: every write path answers 503 (not a 500, not a hang)
while the broker is down, and takes writes again once it is back, with no restart of the adapter."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import aiohttp
import orjson
import pytest
from aiohttp import web
from aiokafka import AIOKafkaProducer

from stream.embedded.services import free_port, start_broker
from stream.ingest.http.server import build_ingest_app
from stream.ingest.inventory import load_inventory
from stream.ingest.registry import load_registry
from stream.runtime.admin import bootstrap_servers, prepare_topics_async
from stream.runtime.app import kafka_url
from stream.runtime.metrics import Metrics

pytestmark = pytest.mark.integration


async def test_broker_down_mid_run_is_a_503_then_writes_resume(make_settings) -> None:
    port = free_port()
    broker = await asyncio.to_thread(start_broker, port)  # it waits with asyncio.run of its own
    settings = make_settings(partitions=1, broker_url=f"kafka://127.0.0.1:{port}", ingest_api_keys="k",
                             feed110_api_keys="k", ingest_http_write_timeout_s=3.0)
    await prepare_topics_async(settings, agent_modules=[])
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers(kafka_url(settings)), request_timeout_ms=5000)
    await producer.start()
    runner = web.AppRunner(build_ingest_app(settings, load_registry(), load_inventory(), producer, Metrics()))
    await runner.setup()
    http_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", http_port).start()
    reading = {"type": "water_level", "source": "hydrology.river-gauges", "gauge_id": "hlj-heihe", "stage_m": 7.1}
    call = {"call_id": "c1", "text": "路面积水", "category": "积水"}

    async def post(http: aiohttp.ClientSession, path: str, doc: object) -> tuple[int, dict]:
        if path == "/ingest":
            doc = [{**reading, "event_time": datetime.now(timezone.utc).isoformat()}]
        async with http.post(f"http://127.0.0.1:{http_port}{path}", data=orjson.dumps(doc),
                             headers={"X-Api-Key": "k"}, timeout=aiohttp.ClientTimeout(total=60)) as response:
            return response.status, await response.json()

    try:
        async with aiohttp.ClientSession() as http:
            assert (await post(http, "/ingest", None))[0] == 200
            broker.stop()
            for path, doc in (("/ingest", None), ("/110/v1/calls", {**call, "received_at": datetime.now(
                    timezone.utc).isoformat()})):
                status, body = await post(http, path, doc)  # bounded: the client gives up only after 60 s
                assert status == 503, (path, status, body)
                assert "broker did not take a write" in body["errors"][0]["reason"]
            broker = await asyncio.to_thread(start_broker, port)  # memory-only: topics made again
            await prepare_topics_async(settings, agent_modules=[])

            async def accepted() -> None:
                while (await post(http, "/ingest", None))[0] != 200:
                    await asyncio.sleep(0.5)

            await asyncio.wait_for(accepted(), 120)
    finally:
        await runner.cleanup()
        await producer.stop()
        broker.stop()


@pytest.mark.timeout(300)
async def test_broker_unreachable_at_start_up_then_writes_accepted_with_no_manual_step(make_settings) -> None:
    """`amur ingest` started before its broker: it listens, answers writes with 503, logs its retries, and accepts
    writes once the broker is up."""
    import signal
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT, settings_env

    port, http_port = free_port(), free_port()
    settings = make_settings(partitions=1, broker_url=f"kafka://127.0.0.1:{port}", ingest_api_keys="k",
                             ingest_http_port=http_port)
    adapter = subprocess.Popen([sys.executable, "-m", "stream.cli.main", "ingest"], env=settings_env(settings),
                               cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    broker = None
    reading = {"type": "water_level", "source": "hydrology.river-gauges", "gauge_id": "hlj-heihe", "stage_m": 7.1}

    async def post(http: aiohttp.ClientSession) -> int:
        doc = [{**reading, "event_time": datetime.now(timezone.utc).isoformat()}]
        try:
            async with http.post(f"http://127.0.0.1:{http_port}/ingest", data=orjson.dumps(doc),
                                 headers={"X-Api-Key": "k"}, timeout=aiohttp.ClientTimeout(total=60)) as response:
                return response.status
        except aiohttp.ClientConnectionError:
            return 0  # not listening yet

    async def until_status(http: aiohttp.ClientSession, wanted: int) -> None:
        while await post(http) != wanted:
            await asyncio.sleep(0.5)

    try:
        async with aiohttp.ClientSession() as http:
            await asyncio.wait_for(until_status(http, 503), 120)  # listening, refusing, not hanging
            broker = await asyncio.to_thread(start_broker, port)
            await prepare_topics_async(settings, agent_modules=[])
            await asyncio.wait_for(until_status(http, 200), 120)
    finally:
        adapter.send_signal(signal.SIGTERM)
        output, _ = await asyncio.to_thread(adapter.communicate, timeout=60)
        if broker is not None:
            broker.stop()
    assert adapter.returncode == 0, output
    assert "broker unreachable at start-up" in output and "broker reached; writes accepted" in output
