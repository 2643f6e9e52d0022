"""`amur bench screen`: grid report -> incident change on a real screen, p50/p99.

Everything real and in one process: the embedded broker and Redis, a Faust
worker with the incident and projection agents, the gateway, and headless
Chromium showing the page. Each sample sends one grid report (a field
reading) and waits until the incident row on screen shows the new revision.
The same run measures, as the comparison, when the matching IncidentChanged
reached the ``incidents`` topic (a plain Kafka consumer): the difference is
what the projection, the gateway and the page add. The issue's limit is 2 s.
On a terminal the command shows the start-up and each sample as progress on stderr.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import click
from aiokafka import AIOKafkaConsumer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from command_ui.server import start_gateway
from command_ui.tokens import issue
from stream import schemas, topics
from stream.embedded.services import free_port, start_broker, start_redis
from stream.runtime.admin import bootstrap_servers, prepare_topics_async
from stream.runtime.app import build_app, kafka_url
from stream.settings import Settings, load_settings

AGENTS = ["stream.agents.incidents", "stream.agents.projection"]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
CELL = "231102001001002"
LIMIT_S = 2.0


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100]: the smallest value with at least q % of values at or below it."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


def report(report_id: str) -> schemas.GridEvent:
    return schemas.GridEvent(source="bench", event_time=datetime.now(timezone.utc), report_id=report_id,
                             service_code="fire_report", description="amur bench screen", lon=127.5, lat=50.2,
                             cell_code=CELL)


def _quiet(_: int) -> None:
    pass


async def run(settings: Settings, samples: int,
              sampled: Callable[[int], None] = _quiet) -> tuple[list[float], list[float]]:
    """Screen and topic latencies (s) of ``samples`` grid reports.

    ``sampled`` is told how many samples are done: 0 once the page shows the first incident, then after each.
    """
    from playwright.async_api import async_playwright

    await prepare_topics_async(settings, agent_modules=AGENTS)
    rt = build_app(settings, agent_modules=AGENTS)
    await rt.app.start()
    gateway = await start_gateway(settings)
    arrivals: dict[str, float] = {}
    consumer = AIOKafkaConsumer(topics.topic_name(topics.INCIDENTS, settings.drill_id),
                                bootstrap_servers=bootstrap_servers(kafka_url(settings)), auto_offset_reset="latest",
                                fetch_max_wait_ms=settings.fetch_max_wait_ms, group_id=None)
    await consumer.start()

    async def watch_topic() -> None:
        async for message in consumer:
            changed = schemas.decode(schemas.IncidentChanged, message.value)
            for evidence in changed.evidence:
                arrivals.setdefault(evidence.evidence_id, time.monotonic())

    watcher = asyncio.create_task(watch_topic())
    jwt = issue(settings.jwt_secret.get_secret_value(), subject="bench", role=schemas.Role.DUTY_OFFICER,
                scope="231100", now=datetime.now(timezone.utc), ttl_s=3600)
    screen, topic = [], []
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = await browser.new_page(viewport={"width": 1920, "height": 1080})
            await page.goto(f"http://127.0.0.1:{settings.http_port}/#token={jwt}")
            await page.wait_for_selector("#link.up", timeout=60000)
            send = rt.topic(topics.GRID_EVENTS).send
            await send(key=CELL.encode(), value=schemas.encode(report("warm-up")))
            await page.wait_for_selector(".incident", timeout=120000)
            sampled(0)
            for n in range(samples):
                revision = int(await page.locator(".incident").first.get_attribute("data-revision") or 0)
                report_id = f"b-{uuid.uuid4().hex[:8]}"
                sent = time.monotonic()
                await send(key=CELL.encode(), value=schemas.encode(report(report_id)))
                await page.wait_for_function(
                    f"() => Number(document.querySelector('.incident')?.dataset.revision) > {revision}",
                    polling="raf", timeout=30000)
                screen.append(time.monotonic() - sent)
                for _ in range(100):
                    if f"report:{report_id}" in arrivals:
                        break
                    await asyncio.sleep(0.01)
                topic.append(arrivals.get(f"report:{report_id}", float("nan")) - sent)
                sampled(n + 1)
                await asyncio.sleep(0.2)
            await browser.close()
    finally:
        watcher.cancel()
        await consumer.stop()
        await gateway.stop()
        await rt.app.stop()
    return screen, topic


@click.command(name="screen", help=(
    "Grid report -> incident row on a real screen (headless Chromium), p50/p99, against the 2 s limit.\n\n"
    "Starts an embedded broker, Redis, a worker, the gateway and the page in one process; also prints when "
    "the IncidentChanged reached the incidents topic in the same run, and the difference."))
@click.option("--samples", type=click.IntRange(min=1), default=40, show_default=True,
              help="grid reports sent, one at a time")
def command(samples: int) -> int:
    console = Console(stderr=True)
    work = Path(tempfile.mkdtemp(prefix="amur-bench-screen-"))
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True, redirect_stdout=False, disable=not console.is_terminal) as progress:
        task = progress.add_task("starting the broker, Redis, a worker, the gateway and Chromium", total=samples)

        def sampled(done: int) -> None:
            progress.update(task, description="grid report -> incident row on screen", completed=done)

        with start_broker(free_port()) as broker, start_redis(free_port(), work / "redis") as redis:
            settings = load_settings(broker_url=broker.url, redis_url=redis.url + "/0", http_port=free_port(),
                                     ws_port=free_port(), worker_web_port=free_port(), run_dir=work,
                                     drill_id=f"bench{uuid.uuid4().hex[:6]}", partitions=2, incident_tick_s=60.0)
            screen, topic = asyncio.run(run(settings, samples, sampled))
    topic = [t for t in topic if t == t]
    click.echo(f"grid report -> incident row on screen (headless Chromium), {len(screen)} samples:")
    click.echo(f"  screen  p50 {percentile(screen, 50) * 1000:7.1f} ms   p99 {percentile(screen, 99) * 1000:7.1f} ms   "
               f"max {max(screen) * 1000:7.1f} ms")
    if topic:
        click.echo(f"  topic   p50 {percentile(topic, 50) * 1000:7.1f} ms   "
                   f"p99 {percentile(topic, 99) * 1000:7.1f} ms   (IncidentChanged on the incidents topic, same run)")
        click.echo(f"  projection + gateway + page add p50 "
                   f"{(statistics.median(screen) - statistics.median(topic)) * 1000:.1f} ms")
    verdict = "within" if percentile(screen, 99) <= LIMIT_S else "OVER"
    click.echo(f"  limit {LIMIT_S * 1000:.0f} ms (issue 7): {verdict}")
    return 0
