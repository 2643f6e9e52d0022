"""`amur bench dispatch`: Open311 intake latency and requests/s over HTTP, beside the raw produce rate.

On one broker and Redis (the embedded ones unless ``AMUR_BROKER_URL`` /
``AMUR_REDIS_URL`` are set), in one run, interleaved per round:

1. raw produce: N acknowledged ``send_and_wait`` of a GridEvent-sized message
   with C in flight — the ceiling of "on the topic before the answer";
2. Open311 intake: N ``POST /open311/v2/requests.json`` over loopback HTTP with
   C in flight, to a real `amur ingest` process (API key, parsing, cell
   placing, routing, the acknowledged produce, the stored request in Redis) —
   each timed from send to its 201. The adapter runs in its own process so the
   load generator does not share its event loop.

It prints p50/p99 per request and requests/s for both (median of the rounds),
their ratio, and how many of the 201s are on the topic (expected: all).
"""

from __future__ import annotations

import asyncio
import math
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from stream import topics
from stream.bench.terminal import Rows, Steps
from stream.embedded.services import (
    RunningService,
    free_port,
    start_broker,
    start_redis,
)
from stream.settings import Settings, load_settings

CONCURRENCY = 50


@dataclass(frozen=True)
class Timed:
    """One phase: per-item latencies (ms) and the rate over the phase's wall time."""

    latencies_ms: tuple[float, ...]
    per_s: float
    per_cpu_s: float | None = None
    """Items per CPU second of the serving process (the adapter), when it could be read."""

    @property
    def p50(self) -> float:
        return percentile(self.latencies_ms, 50)

    @property
    def p99(self) -> float:
        return percentile(self.latencies_ms, 99)


def percentile(values: tuple[float, ...] | list[float], q: float) -> float:
    """The nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered), math.ceil(q / 100 * len(ordered))) - 1)]


async def timed(n: int, concurrency: int, one: Callable[[int], Awaitable[None]]) -> Timed:
    """Run ``one(i)`` for i < n with ``concurrency`` in flight; each call timed."""
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []

    async def run(i: int) -> None:
        async with gate:
            start = time.perf_counter()
            await one(i)
            latencies.append((time.perf_counter() - start) * 1000)

    began = time.perf_counter()
    await asyncio.gather(*(run(i) for i in range(n)))
    return Timed(tuple(latencies), n / max(time.perf_counter() - began, 1e-9))


@dataclass(frozen=True)
class Figures:
    requests: int
    concurrency: int
    produce: Timed
    intake: Timed
    created: int
    on_topic: int


async def run(settings: Settings, n: int, concurrency: int, rounds: int, steps: Steps) -> Figures:
    import aiohttp
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    from gis.registry import load_cells
    from stream.runtime.admin import bootstrap_servers, prepare_topics_async
    from stream.runtime.app import kafka_url
    from stream.schemas import GridEvent, encode

    await prepare_topics_async(settings, agent_modules=[])
    bootstrap = bootstrap_servers(kafka_url(settings))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    port = free_port()
    adapter = subprocess.Popen([sys.executable, "-m", "stream.cli.main", "ingest", "--port", str(port)],
                               env=child_env(settings), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/open311/v2/requests.json"
    cells = load_cells()[::61][:100]
    grid_topic = topics.topic_name(topics.GRID_EVENTS, settings.drill_id)
    raw_topic = f"bench.{settings.drill_id}.produce"
    sample = encode(GridEvent(source="open311", event_time=datetime.now(timezone.utc), report_id="311-1000000",
                              service_code="street_light_out", description="路灯不亮 bench", lon=cells[0].lon,
                              lat=cells[0].lat, cell_code=cells[0].cell_code, department="urban-management",
                              item_code="MUN-005"))
    produced: list[Timed] = []
    intakes: list[Timed] = []
    created = 0
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:
            await wait_until_up(http, f"http://127.0.0.1:{port}/healthz", adapter)

            async def post(i: int) -> None:
                nonlocal created
                cell = cells[i % len(cells)]
                form = {"api_key": "bench", "service_code": "street_light_out", "lat": str(cell.lat),
                        "long": str(cell.lon), "description": f"路灯不亮 bench {i}"}
                async with http.post(url, data=form) as response:
                    if response.status != 201:
                        raise RuntimeError(f"POST answered {response.status}: {await response.text()}")
                    created += 1

            async def produce(i: int) -> None:
                cell = cells[i % len(cells)]
                await producer.send_and_wait(raw_topic, key=cell.cell_code.encode(), value=sample)

            steps.start("warming up (cell index, connections)")
            await post(-1)
            await produce(-1)
            for round_no in range(rounds):
                steps.start(f"round {round_no + 1}/{rounds}: raw produce")
                produced.append(await timed(n, concurrency, produce))
                steps.start(f"round {round_no + 1}/{rounds}: Open311 intake")
                cpu_before = process_cpu_s(adapter.pid)
                intake = await timed(n, concurrency, post)
                cpu_after = process_cpu_s(adapter.pid)
                if cpu_before is not None and cpu_after is not None and cpu_after > cpu_before:
                    intake = Timed(intake.latencies_ms, intake.per_s, n / (cpu_after - cpu_before))
                intakes.append(intake)
        steps.start("counting the requests on the topic")
        consumer = AIOKafkaConsumer(grid_topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                    fetch_max_wait_ms=10, enable_auto_commit=False)
        await consumer.start()
        on_topic, deadline = 0, time.monotonic() + 60
        try:
            while on_topic < created and time.monotonic() < deadline:
                on_topic += sum(len(r) for r in (await consumer.getmany(timeout_ms=1000)).values())
        finally:
            await consumer.stop()
    finally:
        adapter.terminate()
        adapter.wait(timeout=30)
        await producer.stop()
    return Figures(n, concurrency, median_timed(produced), median_timed(intakes), created, on_topic)


def process_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a process so far (Linux ``/proc``; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime (fields 14, 15)


def child_env(settings: Settings) -> dict[str, str]:
    """The ``AMUR_*`` variables that give a child process these settings (secrets included)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMUR_")}
    for name, value in settings.model_dump().items():
        if value is not None:
            env[f"AMUR_{name.upper()}"] = str(value.get_secret_value() if hasattr(value, "get_secret_value")
                                              else value)
    return env


async def wait_until_up(http: Any, url: str, adapter: subprocess.Popen[bytes], timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if adapter.poll() is not None:
            raise RuntimeError(f"amur ingest exited: {adapter.stderr.read().decode() if adapter.stderr else ''}")
        try:
            async with http.get(url) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError(f"amur ingest did not answer {url} within {timeout_s:.0f} s")


def median_timed(runs: list[Timed]) -> Timed:
    """The round with the median rate (its latencies kept whole)."""
    ordered = sorted(runs, key=lambda t: t.per_s)
    return ordered[len(ordered) // 2]


def print_figures(figures: Figures, partitions: int, rounds: int, external: bool) -> None:
    print(f"amur bench dispatch: {figures.requests:,} Open311 requests, {figures.concurrency} in flight, "
          f"{partitions} partitions, broker={'external' if external else 'embedded Tansu'}, "
          f"median of {rounds} rounds")
    rows = Rows("", "p50 ms", "p99 ms", "per s", header=f"  {'':42s} {'p50 ms':>8s} {'p99 ms':>8s} {'per s':>10s}")
    for name, t, unit in [("raw produce (acknowledged, one message)", figures.produce, "msgs/s"),
                          ("Open311 intake (201 after acknowledged)", figures.intake, "requests/s")]:
        rows.add([name, f"{t.p50:.1f}", f"{t.p99:.1f}", f"{t.per_s:,.0f} {unit}"],
                 f"  {name:42s} {t.p50:8.1f} {t.p99:8.1f} {t.per_s:10,.0f}  {unit}")
    ratio = figures.intake.per_s / max(figures.produce.per_s, 1e-9)
    rows.add(["ratio intake / raw produce", "", "", f"{ratio:.2f}"], f"  {'ratio intake / raw produce':42s} "
             f"{'':8s} {'':8s} {ratio:10.2f}")
    rows.show()
    if figures.intake.per_cpu_s:
        print(f"  adapter CPU: {1000 / figures.intake.per_cpu_s:.2f} ms per request "
              f"({figures.intake.per_cpu_s:,.0f} requests per CPU s of the `amur ingest` process)")
    lost = figures.created - figures.on_topic
    print(f"  201s: {figures.created:,}, on the grid-events topic: {figures.on_topic:,}, lost: {max(lost, 0)} "
          f"(expected 0)")
    print(f"  goal: a burst of 1,000 requests in a minute (17/s): "
          f"{'met' if figures.intake.per_s >= 1000 / 60 and lost <= 0 else 'NOT met'} (wall clock on this machine now)")


@click.command(name="dispatch", help=__doc__.splitlines()[0])
@click.option("--requests", "n", type=click.IntRange(min=1), default=2000, show_default=True,
              help="requests per round (and raw produces)")
@click.option("--concurrency", type=click.IntRange(min=1, max=1000), default=CONCURRENCY, show_default=True,
              help="requests in flight")
@click.option("--partitions", type=click.IntRange(min=1), default=4, show_default=True,
              help="partitions of the bench topics")
@click.option("--rounds", type=click.IntRange(min=1), default=3, show_default=True,
              help="measurements per figure; the median round is printed")
def command(n: int, concurrency: int, partitions: int, rounds: int) -> int:
    base = load_settings()
    run_id = uuid.uuid4().hex[:8]
    with Steps(3 + 2 * rounds) as steps, tempfile.TemporaryDirectory(prefix="amur-bench-dispatch-") as tmp:
        steps.start("starting the broker and Redis" if not base.broker_url else "connecting to the broker")
        services: list[RunningService] = []
        try:
            if not base.broker_url:
                services.append(start_broker(free_port()))
            if not base.redis_url:
                services.append(start_redis(free_port(), Path(tmp) / "redis"))
            broker_url = base.broker_url or services[0].url
            redis_url = base.redis_url or services[-1].url + "/0"
            settings = load_settings(broker_url=broker_url, redis_url=redis_url, app_id=f"bench-{run_id}",
                                     drill_id=f"bench{run_id}", partitions=partitions, open311_api_keys="bench",
                                     log_level="WARNING")
            figures = asyncio.run(run(settings, n, concurrency, rounds, steps))
        finally:
            for service in reversed(services):
                service.stop()
    print_figures(figures, partitions, rounds, external=bool(base.broker_url))
    return 0 if figures.on_topic >= figures.created else 1
