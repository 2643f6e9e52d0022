"""`amur bench record`: ingest throughput with and without the recorder running, in one run.

On one broker (the embedded Tansu unless ``AMUR_BROKER_URL`` is set): N readings,
1,000 per message, on the raw-ingest topic (as `amur bench ingest`); then, in
interleaved rounds, the ingest worker's readings/s (a real Faust app with the
ingest agents, measured as in `amur bench ingest`) alone, and with `amur record`'s
Recorder archiving the same topic from its start at the same time, in a consumer
group of its own. The recorder runs in the worker's own process and event loop
here — the worst case: started by `amur run` it is a process of its own. Printed:
both rates (median of the rounds), their ratio, and what the recorder wrote.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click

from stream import topics
from stream.bench.ingest import SENSORS_PER_KIND, Rate, bench_inventory, bench_payloads, produce, worker_rate
from stream.bench.terminal import Steps
from stream.drills.archive import load_manifest
from stream.drills.recorder import Recorder
from stream.embedded.services import RunningService, free_port, start_broker
from stream.runtime.admin import bootstrap_servers, ensure_topics
from stream.settings import Settings, load_settings


@dataclass(frozen=True)
class Round:
    alone: Rate
    recording: Rate
    recorded: int
    archive_bytes: int
    record_s: float


async def _with_recorder(settings: Settings, inventory, total: int, messages: int, root: Path  # type: ignore[no-untyped-def]
                         ) -> tuple[Rate, int, int, float]:
    """The worker's rate while a recorder archives the raw topic from its start; then the recorder's work."""
    stop = asyncio.Event()
    recorder = Recorder(settings, root, from_beginning=True)
    started = time.monotonic()
    task = asyncio.create_task(recorder.run(stop))
    rate, _ = await worker_rate(settings, inventory, total)
    deadline = time.monotonic() + 300
    while recorder.stats.recorded < messages and time.monotonic() < deadline and not task.done():
        await asyncio.sleep(0.05)
    record_s = time.monotonic() - started
    stop.set()
    await task
    size = sum(s.bytes for s in load_manifest(root).segments)
    return rate, recorder.stats.recorded, size, record_s


async def run(settings: Settings, readings: int, rounds: int, steps: Steps) -> tuple[list[Round], int, int]:
    bootstrap = bootstrap_servers(settings.broker_url or "")
    inventory = bench_inventory()
    steps.start(f"producing {readings:,} readings (1,000 per message)")
    start = datetime.now(timezone.utc) - timedelta(seconds=10 * (readings // (4 * SENSORS_PER_KIND) + 2))
    messages, total = bench_payloads(inventory, readings, start)
    await ensure_topics(bootstrap, {topics.topic_name(spec, settings.drill_id): settings.partitions
                                    for spec in topics.ALL})
    await produce(bootstrap, topics.topic_name(topics.RAW_INGEST, settings.drill_id), messages)
    out: list[Round] = []
    with tempfile.TemporaryDirectory(prefix="amur-bench-record-") as tmp:
        for n in range(rounds):  # interleaved, so a busy moment of the machine hits both alike
            steps.start(f"round {n + 1}/{rounds}: ingest worker alone")
            alone, _ = await worker_rate(_fresh(settings, f"a{n}"), inventory, total)
            steps.start(f"round {n + 1}/{rounds}: ingest worker while the recorder archives the same topic")
            rate, recorded, size, record_s = await _with_recorder(_fresh(settings, f"r{n}"), inventory, total,
                                                                  len(messages), Path(tmp) / f"r{n}")
            out.append(Round(alone, rate, recorded, size, record_s))
    return out, total, len(messages)


def _fresh(settings: Settings, suffix: str) -> Settings:
    return settings.model_copy(update={"app_id": f"{settings.app_id}-{suffix}", "worker_web_port": free_port()})


def print_figures(results: list[Round], readings: int, messages: int, partitions: int, external: bool) -> None:
    """Wall rates, and per CPU second of this process (which, with the recorder in it, pays for the recorder too)."""
    def median(values: list[float]) -> float:
        return statistics.median(values)

    alone = Rate(median([r.alone.wall for r in results]), median([r.alone.cpu for r in results]))
    recording = Rate(median([r.recording.wall for r in results]), median([r.recording.cpu for r in results]))
    size = median([r.archive_bytes for r in results])
    print(f"amur bench record: {readings:,} readings in {messages:,} messages, {partitions} partitions, "
          f"broker={'external' if external else 'embedded Tansu'}, median of {len(results)} rounds")
    print(f"  {'':42s} {'per wall s':>12s} {'per CPU s':>12s}")
    print(f"  {'ingest worker alone':42s} {alone.wall:>12,.0f} {alone.cpu:>12,.0f}  readings/s")
    print(f"  {'ingest worker with the recorder running':42s} {recording.wall:>12,.0f} {recording.cpu:>12,.0f}"
          f"  readings/s")
    print(f"  {'ratio with / alone':42s} {recording.wall / alone.wall:>12.3f} {recording.cpu / alone.cpu:>12.3f}")
    print("  per round, wall (alone/with): " + ", ".join(f"{r.alone.wall:,.0f}/{r.recording.wall:,.0f}"
                                                         for r in results))
    print(f"  recorder: {results[-1].recorded:,} messages archived per round, {size / 1e6:,.1f} MB of gzip "
          f"segments; all archived {median([r.record_s for r in results]):.1f} s after its start "
          f"(checked once the worker's measurement had ended)")


@click.command(name="record", help=__doc__.splitlines()[0])
@click.option("--readings", type=click.IntRange(min=1), default=200_000, show_default=True, help="readings to push")
@click.option("--partitions", type=click.IntRange(min=1), default=4, show_default=True,
              help="partitions of the bench topics")
@click.option("--rounds", type=click.IntRange(min=1), default=3, show_default=True,
              help="measurements per figure; the median is printed")
def command(readings: int, partitions: int, rounds: int) -> int:
    base = load_settings()
    run_id = uuid.uuid4().hex[:8]
    with Steps(1 + 2 * rounds) as steps:
        broker: RunningService | None = None if base.broker_url else start_broker(free_port())
        try:
            settings = load_settings(broker_url=base.broker_url or broker.url,  # type: ignore[union-attr]
                                     app_id=f"bench-{run_id}", drill_id=f"bench{run_id}", partitions=partitions,
                                     worker_web_port=free_port(), log_level="WARNING", redis_url=None)
            results, total, messages = asyncio.run(run(settings, readings, rounds, steps))
        finally:
            if broker is not None:
                broker.stop()
    print_figures(results, total, messages, partitions, external=bool(base.broker_url))
    return 0
