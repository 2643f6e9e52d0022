"""`amur drill`: replay a scenario or a recorded day as an exercise, and report.

A drill runs in its own namespace (``AMUR_DRILL_ID``): its own topics, consumer
group, tables and Redis key prefix, so it can run beside the live system, and
every incident it raises is CAP ``status=Exercise``. The drill starts its own
worker(s), feeds the scenario (or the recording) through the same pipeline at
the chosen speed, waits until the worker has processed all of it (consumer lag 0
on every topic of the namespace, see :mod:`stream.drills.settle`), then writes a
report of the incidents it produced. A drill that runs out of ``--timeout`` first
says so in its report, with the lag per topic it left, and exits 1.

Recordings are what ``amur sim feeds --out FILE`` writes: one ``key<TAB>payload``
line per raw-ingest message.

On a terminal the drill shows where it is on stderr: the simulated time reached
(a scenario's feeds run paced, so it is wall time x speed; a replay's is the
event time of the last message sent), then the consumer lag while it settles.
"""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click
import msgspec
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from stream import schemas
from stream.cli.params import ZonedTime
from stream.drills.settle import CatchUp, hold_for, lag_note, settled_incidents
from stream.embedded.services import free_port
from stream.errors import AmurError, ConfigError
from stream.settings import Settings, load_settings
from stream.sim.feeds import FEED_NAMES, check_feeds


@dataclass(frozen=True, slots=True)
class RecordedMessage:
    key: bytes
    payload: bytes
    event_time: datetime


class _Stamp(msgspec.Struct):
    event_time: datetime


_stamp_decoder = msgspec.json.Decoder(_Stamp)


def parse_recording(lines: Iterable[bytes]) -> list[RecordedMessage]:
    """Parse ``key<TAB>payload`` lines; each payload must carry an ``event_time``."""
    messages = []
    for number, line in enumerate(lines, start=1):
        line = line.rstrip(b"\n")
        if not line:
            continue
        key, sep, payload = line.partition(b"\t")
        if not sep:
            raise AmurError(f"recording line {number}: expected key<TAB>payload")
        try:
            stamp = _stamp_decoder.decode(payload).event_time
        except msgspec.DecodeError as exc:
            raise AmurError(f"recording line {number}: no usable event_time ({exc})") from None
        messages.append(RecordedMessage(key, payload, stamp))
    return messages


def replay_offsets(times: Sequence[datetime], speed: float) -> list[float]:
    """Wall-clock seconds after the start at which each message is sent."""
    if speed <= 0:
        raise ValueError(f"speed must be positive, got {speed}")
    if not times:
        return []
    first = min(times)
    return [max(0.0, (t - first).total_seconds() / speed) for t in times]


def drill_report(run_id: str, incidents: Iterable[schemas.IncidentChanged], caught: CatchUp) -> dict:
    """What a drill officer reads afterwards: whether the pipeline processed everything, every incident worst first."""
    rows = sorted(incidents, key=lambda i: (-i.colour.rank, i.raised_at or i.event_time))
    by_colour: dict[str, int] = {}
    for incident in rows:
        by_colour[incident.colour.value] = by_colour.get(incident.colour.value, 0) + 1
    return {
        "run_id": run_id,
        "status": "Exercise",
        "stopped_early": not caught.complete,
        "settle_timeout_s": caught.timeout_s,
        "lag": dict(sorted(caught.lag.items())),
        "incidents": len(rows),
        "by_colour": by_colour,
        "all_marked_as_drill": all(i.drill for i in rows),
        "items": [
            {"id": i.incident_id, "hazard": i.hazard.value, "colour": i.colour.value, "state": i.state.value,
             "title": i.title, "raised_at": (i.raised_at or i.event_time).isoformat(), "evidence": len(i.evidence),
             "cells": len(i.cells), "cameras": len(i.cameras), "escalation_level": i.escalation_level}
            for i in rows
        ],
    }


def report_markdown(report: dict) -> str:
    lines = [f"# Drill {report['run_id']} (EXERCISE)", "", *_pipeline_lines(report),
             f"Incidents: {report['incidents']} — " + ", ".join(f"{c}: {n}" for c, n in report["by_colour"].items()),
             "", "| colour | hazard | raised (event time) | state | evidence | cells | title |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {i['colour']} | {i['hazard']} | {i['raised_at']} | {i['state']} | {i['evidence']} | {i['cells']} "
              f"| {i['title']} |" for i in report["items"]]
    return "\n".join(lines) + "\n"


def _pipeline_lines(report: dict) -> list[str]:
    if not report["stopped_early"]:
        return ["Pipeline: every input processed (consumer lag 0 on every topic of the drill).", ""]
    behind = {topic: n for topic, n in report["lag"].items() if n}
    if not report["lag"]:
        left = "the lag could not be measured"
    else:
        left = f"{sum(behind.values()):,} messages were left unprocessed"
    lines = [f"**STOPPED EARLY**: the pipeline had not processed all of the drill's input when the "
             f"{report['settle_timeout_s']:g} s timeout ran out; {left}. Incidents those messages would have "
             "raised or changed are missing from this report.", ""]
    if behind:
        lines += ["| topic | unprocessed messages |", "| --- | --- |"]
        lines += [f"| {topic} | {n:,} |" for topic, n in behind.items()] + [""]
    return lines


def write_report(run_dir: Path, report: dict) -> None:
    (run_dir / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    (run_dir / "report.md").write_text(report_markdown(report))


async def _replay(settings: Settings, messages: list[RecordedMessage], speed: float,
                  on_time: Callable[[float], None] | None = None) -> int:
    """Send the recording, paced on its event times; ``on_time`` is told the simulated seconds reached per step."""
    from aiokafka import AIOKafkaProducer

    from stream import topics
    from stream.runtime.admin import bootstrap_servers
    from stream.runtime.app import kafka_url
    from stream.runtime.kafkaauth import client_options

    topic = topics.topic_name(topics.RAW_INGEST, settings.drill_id)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers(kafka_url(settings)), linger_ms=10,
                                max_request_size=8 * 1024 * 1024, **client_options(settings))
    await producer.start()
    try:
        started = time.monotonic()
        ordered = sorted(messages, key=lambda m: m.event_time)
        last = None
        for message, offset in zip(ordered, replay_offsets([m.event_time for m in ordered], speed)):
            if on_time is not None and message.event_time != last:  # once per recorded step, not per message
                last = message.event_time
                on_time((message.event_time - ordered[0].event_time).total_seconds())
            delay = offset - (time.monotonic() - started)
            if delay > 0:
                await asyncio.sleep(delay)
            await producer.send(topic, key=message.key, value=message.payload)
        await producer.flush()
    finally:
        await producer.stop()
    return len(messages)


def _progress() -> Progress:
    """A transient display on stderr, shown only when stderr is a terminal."""
    console = Console(stderr=True)
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(bar_width=20), TaskProgressColumn(),
                    TextColumn("{task.fields[note]}"), TimeElapsedColumn(), console=console, transient=True,
                    disable=not console.is_terminal, redirect_stdout=False, redirect_stderr=False)


def _simulated(progress: Progress, task: TaskID, done_s: float, total_s: float) -> None:
    done_s = min(done_s, total_s)
    progress.update(task, completed=done_s, note=f"{timedelta(seconds=round(done_s))} / "
                                                 f"{timedelta(seconds=round(total_s))} simulated")


def _feed_scenario(command: list[str], log: Path, env: dict[str, str], speed: float, duration: float,
                   progress: Progress) -> None:
    """Run ``amur sim feeds`` to its end; it runs paced, so it has reached wall time x speed."""
    task = progress.add_task("feeding", total=duration if math.isfinite(duration) else None, note="")
    started = time.monotonic()
    with open(log, "ab") as out:
        feeds = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        while feeds.poll() is None:
            if math.isfinite(duration):
                _simulated(progress, task, (time.monotonic() - started) * speed, duration)
            time.sleep(0.5)
    finally:
        if feeds.poll() is None:
            feeds.kill()
            feeds.wait()
    if feeds.returncode:
        raise subprocess.CalledProcessError(feeds.returncode, command)


def _feed_recording(settings: Settings, path: Path, speed: float, progress: Progress) -> int:
    """Replay a recording; it has reached the event time of the last message sent."""
    with path.open("rb") as lines:
        recording = parse_recording(lines)
    times = [m.event_time for m in recording]
    span = (max(times) - min(times)).total_seconds() if times else 0.0
    task = progress.add_task("replaying", total=span, note="")
    return asyncio.run(_replay(settings, recording, speed, lambda done: _simulated(progress, task, done, span)))


@click.command(name="drill", help="Replay a scenario or a recorded day as an exercise, and report.")
@click.option("--scenario", help="a scripted scenario, e.g. heilongjiang-crest-5 or fire")
@click.option("--replay", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="a recording made by `amur sim feeds --out FILE`")
@click.option("--speed", type=click.FloatRange(min=0, min_open=True), default=60.0, show_default=True,
              help="simulated seconds per wall second")
@click.option("--duration", type=float, default=6 * 3600.0, show_default=True, help="simulated seconds (scenario only)")
@click.option("--start", type=ZonedTime(), default=None, help="virtual start time, ISO 8601 with zone (scenario only)")
@click.option("--seed", type=int, default=7, show_default=True, help="seed of the simulated feeds (scenario only)")
@click.option("--feeds", default=",".join(FEED_NAMES), show_default=True, callback=check_feeds,
              help="feeds to simulate (scenario only); a flood-crest drill at high speed needs only gauges")
@click.option("--run-id", default=None, help="drill run id (default: from the clock)")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--settle", type=click.FloatRange(min=0), default=10.0, show_default=True,
              help="seconds the consumer lag must stay 0 before the report (at least two incident ticks)")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=1800.0, show_default=True,
              help="seconds to wait, once the input is sent, for the pipeline to process it; "
                   "then the report says it stopped early")
def command(scenario: str | None, replay: Path | None, speed: float, duration: float, start: datetime | None,
            seed: int, feeds: str, run_id: str | None, workers: int, settle: float, timeout: float) -> int:
    if (scenario is None) == (replay is None):
        raise click.UsageError("give one of --scenario or --replay", click.get_current_context())
    run_id = run_id or datetime.now(timezone.utc).strftime("d%Y%m%d%H%M%S")
    base = load_settings()
    run_dir = base.run_dir / f"drill-{run_id}"
    run_dir.mkdir(parents=True, exist_ok=True)
    from stream.embedded.supervisor import start_embedded_services

    try:
        services, env = start_embedded_services(base, run_dir, lambda m: print(f"[drill {run_id}] {m}", flush=True))
    except ConfigError as exc:
        print(f"amur drill: {exc}", file=sys.stderr)
        return 2
    settings = load_settings(broker_url=env["AMUR_BROKER_URL"], redis_url=env["AMUR_REDIS_URL"], drill_id=run_id)
    env["AMUR_DRILL_ID"] = run_id
    env.setdefault("AMUR_VISION_SAMPLING", "false")  # a drill does not sample the live cameras
    running: list[subprocess.Popen] = []
    try:
        from stream.runtime.admin import prepare_topics

        prepare_topics(settings)
        for i in range(workers):
            worker_env = dict(env, AMUR_WORKER_WEB_PORT=str(free_port()))
            running.append(subprocess.Popen([sys.executable, "-m", "stream.cli.main", "worker"], env=worker_env,
                                            stdout=open(run_dir / f"worker-{i + 1}.log", "ab"),
                                            stderr=subprocess.STDOUT, start_new_session=True))
        with _progress() as progress:
            joining = progress.add_task("workers joining", total=None, note="")
            time.sleep(settings.session_timeout_s)  # let the workers join the group before input arrives
            progress.remove_task(joining)
            if replay is not None:
                sent = _feed_recording(settings, replay, speed, progress)
            else:
                feed = [sys.executable, "-m", "stream.cli.main", "sim", "feeds", "--scenario", str(scenario),
                        "--speed", str(speed), "--duration", str(duration), "--seed", str(seed), "--feeds", feeds]
                if start:
                    feed += ["--start", start.isoformat()]
                _feed_scenario(feed, run_dir / "feeds.log", env, speed, duration, progress)
        if replay is not None:
            print(f"[drill {run_id}] replayed {sent} messages", flush=True)
        with _progress() as progress:
            task = progress.add_task("settling", total=None, note="")
            caught, incidents = asyncio.run(settled_incidents(
                settings, hold_s=hold_for(settle, settings), timeout_s=timeout,
                on_lag=lambda lag: progress.update(task, note=lag_note(lag))))
        report = drill_report(run_id, incidents, caught)
        write_report(run_dir, report)
        print(report_markdown(report), end="")
        print(f"[drill {run_id}] report: {run_dir / 'report.md'}", flush=True)
        if not caught.complete:
            print(f"amur drill: stopped early, {lag_note(caught.lag or None)} after {timeout:g} s "
                  f"(see {run_dir / 'report.md'})", file=sys.stderr)
            return 1
        return 0
    except (AmurError, subprocess.CalledProcessError) as exc:
        print(f"amur drill: {exc} (logs in {run_dir})", file=sys.stderr)
        return 1
    finally:
        for worker in running:
            worker.terminate()
        for worker in running:
            try:
                worker.wait(15)
            except subprocess.TimeoutExpired:
                worker.kill()
        for service in reversed(services):
            service.stop()
