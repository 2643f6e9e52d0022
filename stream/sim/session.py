"""One run of `amur sim feeds`: the history it sends first, the demonstration it plays, where it all goes.

:func:`run` sends the backfill (:func:`send_history`, logged as such), then the
live steps on the virtual clock (:func:`stream.sim.feeds.run_feeds`), to the
raw-ingest topic or to a recording; with ``--demo`` it also makes the
demonstration's calls (:mod:`stream.sim.demo`). ``--resume`` (as `amur run`
asks) records the first start in the run directory, so that a restarted
simulator sends no second backfill and the demonstration goes on where it was.
"""

from __future__ import annotations

import asyncio
import logging
import math
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from stream.sim.feeds import FeedSimulator, Step, VirtualClock, run_feeds

if TYPE_CHECKING:
    from stream.settings import Settings
    from stream.sim.demo import Endpoints
    from stream.sim.scenarios.demonstration import Demonstration, DemonstrationScenario

log = logging.getLogger(__name__)

RESUME_FILE = "sim-feeds.start"
"""Where ``--resume`` records the first start, in the run directory."""


async def send_history(sim: FeedSimulator, hours: float, send, stop: asyncio.Event) -> Step:  # type: ignore[no-untyped-def]
    """Send the ``hours`` before the simulator's start, as fast as the producer takes them; logged as a backfill."""
    started = time.monotonic()
    since = sim.start - timedelta(hours=hours)
    log.info("backfill start since=%s until=%s hours=%g", since.isoformat(), sim.start.isoformat(), hours)
    totals, messages = Step(since), 0
    for step in sim.history(hours):
        if stop.is_set():
            break
        for key, payload in step.messages:
            await send(key, payload)
        messages += len(step.messages)
        totals.add(step)
    log.info("backfill done readings=%s weather=%s levels=%s messages=%s wall_s=%.1f", totals.readings,
             totals.weather, totals.levels, messages, time.monotonic() - started)
    return totals


def backfill_hours(asked: float | None, setting_h: float, *, live: bool) -> float:
    """Hours of history to send first: as asked, else the setting for a live run (started now, producing to
    Kafka, outside a drill), else none (a recording or a virtual start begins where it says)."""
    if asked is not None:
        return asked
    return setting_h if live else 0.0


def recorded_start(path: Path, start: datetime) -> datetime | None:
    """The start an earlier run recorded at ``path`` (this is a restart), or None once ``start`` is recorded."""
    try:
        return datetime.fromisoformat(path.read_text().strip())
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(start.isoformat())
        return None


def demonstration_parts(settings: Settings, scenario: str, start: datetime, seed: int, since: datetime
                        ) -> tuple[Demonstration, DemonstrationScenario, Endpoints]:
    """The demonstration's plan from ``start``, the scenario that plays its gauge from ``since``, and where its
    calls go; ValueError if it cannot run."""
    from gis.registry import data_dir_for
    from stream.sim.demo import Endpoints
    from stream.sim.scenarios.demonstration import DemonstrationScenario, plan

    if scenario != "none":
        raise ValueError(f"--demo plays its own scenario; leave out --scenario {scenario}")
    keys = [k.strip() for k in settings.open311_api_keys.get_secret_value().split(",") if k.strip()]
    if not keys:
        raise ValueError("--demo sends a citizen report through Open311 and needs a key in AMUR_OPEN311_API_KEYS")
    host = "127.0.0.1" if settings.http_host in ("0.0.0.0", "::") else settings.http_host
    demonstration = plan(start, seed, data_dir_for(settings.gis_manifest))
    feed110 = [k.strip() for k in settings.feed110_api_keys.get_secret_value().split(",") if k.strip()]
    endpoints = Endpoints(fleet=f"http://127.0.0.1:{settings.sim_cameras_port}",
                          open311=f"http://{host}:{settings.ingest_http_port}", api_key=keys[0],
                          feed110_key=feed110[0] if feed110 else None)
    return demonstration, DemonstrationScenario(demonstration, since), endpoints


async def run(settings: Settings, sim: FeedSimulator, clock: VirtualClock, duration_s: float, out: Path | None,
              backfill_h: float = 0.0, demonstration: Demonstration | None = None, endpoints: Endpoints | None = None,
              resumed: bool = False) -> Step:
    """Send ``backfill_h`` hours of history, then the live steps until ``duration_s`` or a signal, to ``out``
    (unpaced) or the raw-ingest topic; play the demonstration's calls beside them. Totals returned."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    started_at = loop.time()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with progress(clock.start, duration_s) as on_step:
        if out is not None:
            with out.open("wb") as fh:
                async def write(key: str, payload: bytes) -> None:
                    fh.write(key.encode() + b"\t" + payload + b"\n")
                totals = await send_history(sim, backfill_h, write, stop) if backfill_h else Step(clock.start)
                totals.add(await run_feeds(sim, clock, duration_s, write, stop, paced=False, on_step=on_step))
                return totals
        from aiokafka import AIOKafkaProducer

        from stream import topics
        from stream.runtime.admin import bootstrap_servers
        from stream.runtime.app import kafka_url
        from stream.runtime.kafkaauth import client_options

        topic = topics.topic_name(topics.RAW_INGEST, settings.drill_id)
        grid_topic = topics.topic_name(topics.GRID_EVENTS, settings.drill_id)
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers(kafka_url(settings)), linger_ms=20,
                                    max_request_size=8 * 1024 * 1024, compression_type=None,
                                    **client_options(settings))
        await producer.start()
        acting = None
        try:
            async def send(key: str, payload: bytes) -> None:
                await producer.send(topic, key=key.encode(), value=payload)

            async def send_grid(key: str, payload: bytes) -> None:
                await producer.send(grid_topic, key=key.encode(), value=payload)
            totals = await send_history(sim, backfill_h, send, stop) if backfill_h else Step(clock.start)
            if demonstration is not None and endpoints is not None:
                from stream.sim.demo import play

                acting = asyncio.create_task(play(demonstration, endpoints,
                                                  lambda at: started_at + clock.wall_elapsed(at), stop, resumed))
            totals.add(await run_feeds(sim, clock, duration_s, send, stop, on_step=on_step, started_at=started_at,
                                       send_grid=send_grid))
            return totals
        finally:
            if acting is not None:
                stop.set()
                await acting
            await producer.stop()


@contextmanager
def progress(start: datetime, duration_s: float) -> Iterator[Callable[[Step], None] | None]:
    """Simulated seconds done of a finite run, on a terminal's stderr, updated per step; None elsewhere."""
    console = Console(stderr=True)
    if not console.is_terminal or not math.isfinite(duration_s):
        yield None
        return
    columns = (TextColumn("sim feeds"), BarColumn(), TextColumn("{task.completed:,.0f}/{task.total:,.0f} simulated s"),
               TextColumn("{task.fields[readings]:,} readings"), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True, redirect_stdout=False, redirect_stderr=False) as bar:
        task = bar.add_task("feeds", total=duration_s, readings=0)
        readings = 0

        def on_step(step: Step) -> None:
            nonlocal readings
            readings += step.readings
            bar.update(task, completed=(step.at - start).total_seconds(), readings=readings)

        yield on_step
