"""`amur bench ingest`: readings/s through validation and routing by a real worker, vs raw consume.

On one broker (the embedded Tansu unless ``AMUR_BROKER_URL`` is set), in one run:

1. raw aiokafka consume rate of N one-reading messages (msgs/s): what a consumer
   alone can pull, the ceiling one-message-per-reading designs live under;
2. raw aiokafka consume rate of the same N readings packed 1,000 per message;
3. the ingest worker (a real Faust app with the ingest agents, in this process)
   taking the N packed readings from the raw-ingest topic through decoding,
   validation, dedupe and per-partition routing onto the readings topic;
4. the same work without Kafka (``Intake.process`` alone) for reference.

It prints readings/s for each and the worker's ratio to the raw consume rates.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import click
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from rich.table import Column

from stream import topics
from stream.bench.terminal import Rows, Steps
from stream.bench.timing import Span, Stopwatch
from stream.embedded.services import RunningService, free_port, start_broker
from stream.ingest.inventory import Inventory, Site
from stream.ingest.outcome import Outcome
from stream.runtime.admin import bootstrap_servers, ensure_topics
from stream.schemas import SensorKind, SensorReading, encode
from stream.settings import Settings, load_settings
from stream.sim.feeds import FaultRates, FeedSimulator

SENSORS_PER_KIND = 2500


def bench_inventory() -> Inventory:
    kinds = (SensorKind.SMOKE, SensorKind.TEMPERATURE, SensorKind.RAIN, SensorKind.WATER_LEVEL)
    return Inventory.from_sites([Site(f"{k.value}-{i:05d}", 127.0 + i * 1e-4, 50.0, k)
                                 for k in kinds for i in range(SENSORS_PER_KIND)], [], [])


def bench_payloads(inventory: Inventory, readings: int, start: datetime) -> tuple[list[tuple[str, bytes]], int]:
    """ReadingBatch messages (1,000 readings each) from the feed simulator, without faults."""
    sim = FeedSimulator(inventory, seed=1, start=start, faults=FaultRates(gap=0.0, spike=0.0, bad=0.0))
    messages: list[tuple[str, bytes]] = []
    total, k = 0, 0
    while total < readings:
        step = sim.step(k)
        messages += step.messages
        total += step.readings
        k += 1
    return messages, total


async def produce(bootstrap: str, topic: str, messages: list[tuple[str, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=1 << 20,
                                max_request_size=8 << 20)
    await producer.start()
    try:
        futures = [await producer.send(topic, key=k.encode(), value=v) for k, v in messages]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


@dataclass(frozen=True)
class Rate:
    """Items per wall second and per CPU second of this process (robust on a shared machine)."""

    wall: float
    cpu: float

    @classmethod
    def of(cls, items: float, spent: Span) -> Rate:
        return cls(items / max(spent.wall_s, 1e-9), items / max(spent.cpu_s, 1e-9))

    def scaled(self, factor: float) -> Rate:
        return Rate(self.wall * factor, self.cpu * factor)


async def raw_consume_rate(bootstrap: str, topic: str, partitions: int, expected: int) -> Rate:
    """Messages/s for a bare aiokafka consumer reading ``expected`` messages from the start."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=10,
                                max_partition_fetch_bytes=8 << 20, fetch_max_bytes=64 << 20)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        got, watch = 0, Stopwatch()
        while got < expected:
            batches = await consumer.getmany(timeout_ms=1000, max_records=100_000)
            got += sum(len(m) for m in batches.values())
        return Rate.of(got, watch.elapsed())
    finally:
        await consumer.stop()


async def worker_rate(settings: Settings, inventory: Inventory, expected: int) -> tuple[Rate, int]:
    """Readings/s the ingest agent accepts and routes, measured from its first to its last batch."""
    from stream.agents.ingest import install
    from stream.ingest.registry import load_registry
    from stream.runtime.app import build_app, expected_topics

    rt = build_app(settings, agent_modules=[])
    install(rt, load_registry(settings.ingest_registry), inventory)
    await ensure_topics(bootstrap_servers(settings.broker_url or ""), expected_topics(rt))
    counter = rt.metrics.events

    def accepted() -> int:
        return int(sum(s.value for m in counter.collect() for s in m.samples
                       if s.name.endswith("_total") and s.labels.get("outcome") == Outcome.ACCEPTED.value))

    await rt.app.start()
    try:
        first_n, watch = 0, Stopwatch()
        deadline = time.monotonic() + 300
        while accepted() < expected and time.monotonic() < deadline:
            await asyncio.sleep(0.002)
            n = accepted()
            if n and not first_n:
                first_n, watch = n, Stopwatch()
        await rt.app.producer.flush()  # the routed batches are on the broker before the clock stops
        done_n, spent = accepted(), watch.elapsed()
        rejected = int(sum(s.value for m in counter.collect() for s in m.samples
                           if s.labels.get("outcome") == Outcome.REJECTED.value))
        if done_n < expected:
            raise RuntimeError(f"worker accepted {done_n} of {expected} readings within 300 s")
        return Rate.of(done_n - first_n, spent), rejected
    finally:
        await rt.app.stop()


def intake_rate(inventory: Inventory, messages: list[tuple[str, bytes]], settings: Settings, now: float) -> Rate:
    from stream.ingest.intake import Intake
    from stream.ingest.registry import load_registry
    from stream.ingest.validation import TimeLimits

    intake = Intake(load_registry(settings.ingest_registry), inventory,
                    TimeLimits(settings.ingest_max_future_s, settings.ingest_max_past_s),
                    readings_partitions=settings.partitions, dedupe_window_s=settings.ingest_dedupe_window_s,
                    dedupe_max_keys=settings.ingest_dedupe_max_keys)
    watch, n = Stopwatch(), 0
    for _, payload in messages:
        routed = intake.process(payload, 0, now)
        n += sum(len(b) for b in routed.readings.values())
    return Rate.of(n, watch.elapsed())


@dataclass(frozen=True)
class Figures:
    """The medians of one run, and what was measured."""

    readings: int
    messages: int
    rejected: int
    raw_single: Rate
    raw_batched: Rate
    worker: Rate
    intake: Rate


async def run(settings: Settings, readings: int, rounds: int, steps: Steps) -> Figures:
    bootstrap = bootstrap_servers(settings.broker_url or "")
    inventory = bench_inventory()
    steps.start(f"producing {readings:,} readings twice (1 and 1,000 per message)")
    start = datetime.now(timezone.utc) - timedelta(seconds=10 * (readings // (4 * SENSORS_PER_KIND) + 2))
    messages, total = bench_payloads(inventory, readings, start)
    single_topic = f"bench.{settings.drill_id}.single"
    await ensure_topics(bootstrap, {single_topic: settings.partitions})
    one = encode(SensorReading(source="forestry.smoke-sensors", event_time=start, sensor_id="smoke-00001",
                               kind=SensorKind.SMOKE, value=0.1, unit="%obs/m"))
    await produce(bootstrap, single_topic, [(f"smoke-{i % SENSORS_PER_KIND:05d}", one) for i in range(total)])
    raw_topic = topics.topic_name(topics.RAW_INGEST, settings.drill_id)
    await ensure_topics(bootstrap, {raw_topic: settings.partitions})
    await produce(bootstrap, raw_topic, messages)
    single: list[Rate] = []
    batched: list[Rate] = []
    worker: list[Rate] = []
    intake: list[Rate] = []
    rejected = 0
    for round_no in range(rounds):  # interleaved, so a busy moment of the machine hits all alike
        steps.start(f"round {round_no + 1}/{rounds}: raw consume, 1 reading per message")
        single.append(await raw_consume_rate(bootstrap, single_topic, settings.partitions, total))
        steps.start(f"round {round_no + 1}/{rounds}: raw consume, 1,000 per message")
        rate = await raw_consume_rate(bootstrap, raw_topic, settings.partitions, len(messages))
        batched.append(rate.scaled(total / len(messages)))
        steps.start(f"round {round_no + 1}/{rounds}: ingest worker")
        own = settings.model_copy(update={"app_id": f"{settings.app_id}-r{round_no}",
                                          "worker_web_port": free_port()})
        rate, rejected = await worker_rate(own, inventory, total)
        worker.append(rate)
        steps.start(f"round {round_no + 1}/{rounds}: intake alone")
        intake.append(intake_rate(inventory, messages, settings, now=time.time()))
    return Figures(total, len(messages), rejected, median_rate(single), median_rate(batched), median_rate(worker),
                   median_rate(intake))


def median_rate(rates: list[Rate]) -> Rate:
    return Rate(statistics.median(r.wall for r in rates), statistics.median(r.cpu for r in rates))


def print_figures(figures: Figures, partitions: int, rounds: int, external: bool) -> None:
    """The figures: a table on a terminal, aligned plain lines otherwise, then the goal."""
    single, batched, worker = figures.raw_single, figures.raw_batched, figures.worker
    print(f"amur bench ingest: {figures.readings:,} readings in {figures.messages:,} messages, "
          f"{partitions} partitions, broker={'external' if external else 'embedded Tansu'}, "
          f"median of {rounds} rounds")
    rows = Rows("", "per wall s", "per CPU s", Column("unit"),
                header=f"  {'':40s} {'per wall s':>14s} {'per CPU s':>14s}")
    for name, rate, unit in [("raw aiokafka consume, 1 reading/msg", single, "msgs"),
                             ("raw aiokafka consume, 1,000 per msg", batched, "readings"),
                             ("ingest worker (validate+dedupe+route)", worker, "readings"),
                             ("intake alone, no Kafka", figures.intake, "readings")]:
        rows.add([name, f"{rate.wall:,.0f}", f"{rate.cpu:,.0f}", f"{unit}/s"],
                 f"  {name:40s} {rate.wall:>14,.0f} {rate.cpu:>14,.0f}  {unit}/s")
    for name, over, digits in [("ratio worker / raw 1-reading consume", single, 2),
                               ("ratio worker / raw batched consume", batched, 3)]:
        wall, cpu = f"{worker.wall / over.wall:.{digits}f}", f"{worker.cpu / over.cpu:.{digits}f}"
        rows.add([name, wall, cpu, ""], f"  {name:40s} {wall:>14s} {cpu:>14s}")
    rows.show()
    print(f"  rejected in the worker: {figures.rejected} (expected 0)")
    print(f"  goal >= 100,000 readings/s per worker: {'met' if worker.wall >= 100_000 else 'NOT met'} "
          f"(wall clock on this machine now)")


@click.command(name="ingest", help=__doc__.splitlines()[0])
@click.option("--readings", type=click.IntRange(min=1), default=200_000, help="readings to push (default 200,000)")
@click.option("--partitions", type=click.IntRange(min=1), default=4, show_default=True,
              help="partitions of the bench topics")
@click.option("--rounds", type=click.IntRange(min=1, clamp=True), default=3, show_default=True,
              help="measurements per figure; the median is printed")
def command(readings: int, partitions: int, rounds: int) -> int:
    base = load_settings()
    run_id = uuid.uuid4().hex[:8]
    with Steps(1 + 1 + 4 * rounds) as steps:
        steps.start("starting the broker" if not base.broker_url else "connecting to the broker")
        broker: RunningService | None = None if base.broker_url else start_broker(free_port())
        try:
            settings = load_settings(broker_url=base.broker_url or broker.url,  # type: ignore[union-attr]
                                     app_id=f"bench-{run_id}", drill_id=f"bench{run_id}", partitions=partitions,
                                     worker_web_port=free_port(), log_level="WARNING")
            figures = asyncio.run(run(settings, readings, rounds, steps))
        finally:
            if broker is not None:
                broker.stop()
    print_figures(figures, partitions, rounds, external=bool(base.broker_url))
    return 0
