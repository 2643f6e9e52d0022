"""`amur drill`: replay a scenario or a recorded day as an exercise, and report.

A drill runs in its own namespace (``AMUR_DRILL_ID``): its own topics, consumer
group, tables and Redis key prefix, so it can run beside the live system, and
every incident it raises is CAP ``status=Exercise``. The drill starts its own
worker(s), feeds the scenario (or the recording) through the same pipeline at
the chosen speed, waits for the pipeline to settle, then writes a report of the
incidents it produced.

Recordings are what ``amur sim feeds --out FILE`` writes: one ``key<TAB>payload``
line per raw-ingest message.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import msgspec

from stream import schemas
from stream.embedded.services import free_port
from stream.errors import AmurError, ConfigError
from stream.settings import Settings, load_settings


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


def drill_report(run_id: str, incidents: Iterable[schemas.IncidentChanged]) -> dict:
    """What a drill officer reads afterwards: every incident, worst first."""
    rows = sorted(incidents, key=lambda i: (-i.colour.rank, i.raised_at or i.event_time))
    by_colour: dict[str, int] = {}
    for incident in rows:
        by_colour[incident.colour.value] = by_colour.get(incident.colour.value, 0) + 1
    return {
        "run_id": run_id,
        "status": "Exercise",
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
    lines = [f"# Drill {report['run_id']} (EXERCISE)", "",
             f"Incidents: {report['incidents']} — " + ", ".join(f"{c}: {n}" for c, n in report["by_colour"].items()),
             "", "| colour | hazard | raised (event time) | state | evidence | cells | title |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {i['colour']} | {i['hazard']} | {i['raised_at']} | {i['state']} | {i['evidence']} | {i['cells']} "
              f"| {i['title']} |" for i in report["items"]]
    return "\n".join(lines) + "\n"


async def _replay(settings: Settings, messages: list[RecordedMessage], speed: float) -> int:
    from aiokafka import AIOKafkaProducer

    from stream import topics
    from stream.runtime.admin import bootstrap_servers
    from stream.runtime.app import kafka_url

    topic = topics.topic_name(topics.RAW_INGEST, settings.drill_id)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers(kafka_url(settings)), linger_ms=10,
                                max_request_size=8 * 1024 * 1024)
    await producer.start()
    try:
        started = time.monotonic()
        ordered = sorted(messages, key=lambda m: m.event_time)
        for message, offset in zip(ordered, replay_offsets([m.event_time for m in ordered], speed)):
            delay = offset - (time.monotonic() - started)
            if delay > 0:
                await asyncio.sleep(delay)
            await producer.send(topic, key=message.key, value=message.payload)
        await producer.flush()
    finally:
        await producer.stop()
    return len(messages)


async def _settle(settings: Settings, quiet_s: float, limit_s: float) -> list[schemas.IncidentChanged]:
    """Wait until the incidents topic has been quiet for ``quiet_s``; return the latest revisions."""
    from stream.cli.alerts import latest_revisions, read_incidents

    deadline = time.monotonic() + limit_s
    seen, quiet_since = -1, time.monotonic()
    events: list[schemas.IncidentChanged] = []
    while time.monotonic() < deadline:
        try:
            events = await read_incidents(settings, settings.drill_id)
        except AmurError:
            events = []
        if len(events) != seen:
            seen, quiet_since = len(events), time.monotonic()
        elif time.monotonic() - quiet_since >= quiet_s:
            break
        await asyncio.sleep(1.0)
    return list(latest_revisions(events).values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="amur drill", description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--scenario", help="a scripted scenario, e.g. heilongjiang-crest-5 or fire")
    source.add_argument("--replay", type=Path, help="a recording made by `amur sim feeds --out FILE`")
    parser.add_argument("--speed", type=float, default=60.0, help="simulated seconds per wall second")
    parser.add_argument("--duration", type=float, default=6 * 3600.0, help="simulated seconds (scenario only)")
    parser.add_argument("--start", help="virtual start time, ISO 8601 with zone (scenario only)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--feeds", default="sensors,stations,gauges",
                        help="feeds to simulate (scenario only); a flood-crest drill at high speed needs only gauges")
    parser.add_argument("--run-id", default=None, help="drill run id (default: from the clock)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--settle", type=float, default=10.0, help="seconds of quiet before the report")
    args = parser.parse_args(argv)
    run_id = args.run_id or datetime.now(timezone.utc).strftime("d%Y%m%d%H%M%S")
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
    workers: list[subprocess.Popen] = []
    try:
        from stream.runtime.admin import prepare_topics

        prepare_topics(settings)
        for i in range(args.workers):
            worker_env = dict(env, AMUR_WORKER_WEB_PORT=str(free_port()))
            workers.append(subprocess.Popen([sys.executable, "-m", "stream.cli.main", "worker"], env=worker_env,
                                            stdout=open(run_dir / f"worker-{i + 1}.log", "ab"),
                                            stderr=subprocess.STDOUT, start_new_session=True))
        time.sleep(settings.session_timeout_s)  # let the workers join the group before input arrives
        if args.replay:
            sent = asyncio.run(_replay(settings, parse_recording(args.replay.open("rb")), args.speed))
            print(f"[drill {run_id}] replayed {sent} messages", flush=True)
        else:
            feed = [sys.executable, "-m", "stream.cli.main", "sim", "feeds", "--scenario", args.scenario,
                    "--speed", str(args.speed), "--duration", str(args.duration), "--seed", str(args.seed),
                    "--feeds", args.feeds]
            if args.start:
                feed += ["--start", args.start]
            subprocess.run(feed, env=env, check=True, stdout=open(run_dir / "feeds.log", "ab"),
                           stderr=subprocess.STDOUT)
        incidents = asyncio.run(_settle(settings, args.settle, limit_s=max(60.0, args.settle * 6)))
        report = drill_report(run_id, incidents)
        (run_dir / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
        (run_dir / "report.md").write_text(report_markdown(report))
        print(report_markdown(report), end="")
        print(f"[drill {run_id}] report: {run_dir / 'report.md'}", flush=True)
        return 0
    except (AmurError, subprocess.CalledProcessError) as exc:
        print(f"amur drill: {exc} (logs in {run_dir})", file=sys.stderr)
        return 1
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(15)
            except subprocess.TimeoutExpired:
                worker.kill()
        for service in reversed(services):
            service.stop()
