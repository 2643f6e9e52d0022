"""`amur drill`: replay a scenario or a recorded day as an exercise, and report.

A drill runs in its own namespace (``AMUR_DRILL_ID``): its own topics, consumer
group, tables and Redis key prefix, so it can run beside the live system, and
every incident it raises is CAP ``status=Exercise``. The drill starts its own
worker(s), feeds the scenario (or the recording) through the same pipeline at
the chosen speed, waits until the worker has processed all of it (consumer lag 0
on every topic of the namespace, see :mod:`stream.drills.settle`), then writes a
report of the incidents it produced. A drill that runs out of ``--timeout`` first
says so in its report, with the lag per topic it left, and exits 1.

``amur drill run SOURCE`` takes an archive of ``amur record`` (see
:mod:`stream.drills.feed` for how its frames are analysed again), a recording
(``amur sim feeds --out FILE``: one ``key<TAB>payload`` line per raw-ingest
message) or a scenario name; a scenario's input is generated into the run
directory first and then replayed like a recording. After the report it saves
every incident message of the run in the run directory (:mod:`stream.drills.runs`),
where ``amur alerts … --drill RUN_ID`` reads it once the drill's broker is gone,
and prints the run id alone on its last line. ``amur drill --scenario`` and
``--replay`` (no subcommand) are the earlier form, kept.

On a terminal the drill shows where it is on stderr: the simulated time reached
(a scenario fed by ``--scenario`` runs paced, so it is wall time x speed; a
replay's is the event time of the last message sent), then the consumer lag
while it settles; otherwise it prints a plain line at each tenth of the way.
"""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
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

from stream import schemas, topics
from stream.cli.alerts import latest_revisions
from stream.cli.params import ZonedTime
from stream.drills.archive import MANIFEST, Damage, is_archive
from stream.drills.feed import Input, archive_inputs, send_inputs
from stream.drills.runs import save_incidents
from stream.drills.settle import CatchUp, hold_for, lag_note, settled_events
from stream.embedded.services import free_port
from stream.errors import AmurError, ConfigError
from stream.settings import Settings, load_settings
from stream.sim.feeds import FEED_NAMES, check_feeds


class _Stamp(msgspec.Struct):
    event_time: datetime


_stamp_decoder = msgspec.json.Decoder(_Stamp)


def parse_recording(lines: Iterable[bytes]) -> list[Input]:
    """Parse ``key<TAB>payload`` lines (raw-ingest messages); each payload must carry an ``event_time``."""
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
        messages.append(Input(topics.RAW_INGEST.name, key, payload, stamp))
    return messages


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


def _progress() -> Progress:
    """A transient display on stderr, shown only when stderr is a terminal."""
    console = Console(stderr=True)
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(bar_width=20), TaskProgressColumn(),
                    TextColumn("{task.fields[note]}"), TimeElapsedColumn(), console=console, transient=True,
                    disable=not console.is_terminal, redirect_stdout=False, redirect_stderr=False)


class _Simulated:
    """Where the feed is: on the bar on a terminal, else a plain line at each tenth of the way."""

    def __init__(self, progress: Progress, description: str, total_s: float, say: Callable[[str], None]) -> None:
        self.progress, self.total_s, self.say, self.said = progress, total_s, say, -1
        self.description = description
        self.task: TaskID = progress.add_task(description, total=total_s if math.isfinite(total_s) else None, note="")

    def __call__(self, done_s: float) -> None:
        done_s = min(done_s, self.total_s)
        note = f"{timedelta(seconds=round(done_s))} / {timedelta(seconds=round(self.total_s))} simulated"
        self.progress.update(self.task, completed=done_s, note=note)
        tenth = int(10 * done_s / self.total_s) if self.total_s > 0 else 10
        if self.progress.disable and tenth > self.said:
            self.said = tenth
            self.say(f"{self.description}: {note}")


def _feed_scenario(command: list[str], log: Path, env: dict[str, str], speed: float, duration: float,
                   progress: Progress, say: Callable[[str], None]) -> None:
    """Run ``amur sim feeds`` to its end; it runs paced, so it has reached wall time x speed."""
    simulated = _Simulated(progress, "feeding", duration, say)
    started = time.monotonic()
    with open(log, "ab") as out:
        feeds = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        while feeds.poll() is None:
            if math.isfinite(duration):
                simulated((time.monotonic() - started) * speed)
            time.sleep(0.5)
    finally:
        if feeds.poll() is None:
            feeds.kill()
            feeds.wait()
    if feeds.returncode:
        raise subprocess.CalledProcessError(feeds.returncode, command)


def _feed_inputs(settings: Settings, inputs: list[Input], speed: float, run_dir: Path, progress: Progress,
                 say: Callable[[str], None]) -> str:
    """Replay recorded inputs; the feed has reached the event time of the last one sent."""
    times = [i.event_time for i in inputs]
    span = (max(times) - min(times)).total_seconds() if times else 0.0
    counts = asyncio.run(send_inputs(settings, inputs, speed, run_dir / "evidence",
                                     _Simulated(progress, "replaying", span, say)))
    return f"replayed {sum(counts.values())} messages (" + ", ".join(f"{t} {n}" for t, n in sorted(counts.items())) + ")"


class _Every:
    """Says a line at most once per ``interval_s`` of wall time (plain progress off a terminal)."""

    def __init__(self, interval_s: float, say: Callable[[str], None]) -> None:
        self.interval_s, self.say, self.last = interval_s, say, -math.inf

    def __call__(self, line: str) -> None:
        now = time.monotonic()
        if now - self.last >= self.interval_s:
            self.last = now
            self.say(line)


Feed = Callable[[Settings, dict[str, str], Path, Progress, Callable[[str], None]], str | None]
"""Sends a drill's input: (drill settings, worker environment, run directory, progress, say) -> a line to print."""


def run_drill(run_id: str, feed: Feed, *, workers: int, settle: float, timeout: float,
              scenario: ScenarioFacts | None = None) -> int:
    """Start the drill's stack and workers, feed it, wait until it is quiet, report; the exit code."""
    base = load_settings()
    run_dir = base.run_dir / f"drill-{run_id}"
    run_dir.mkdir(parents=True, exist_ok=True)
    if scenario is not None:  # what `amur drill report` checks the incidents against (its ground truth)
        (run_dir / "run.json").write_text(json.dumps(scenario.as_json()))

    def say(message: str) -> None:
        print(f"[drill {run_id}] {message}", flush=True)

    from stream.embedded.supervisor import start_embedded_services

    try:
        services, env = start_embedded_services(base, run_dir, say)
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
            line = feed(settings, env, run_dir, progress, say)
        if line:
            say(line)
        say("input sent; waiting until the pipeline is quiet")
        with _progress() as progress:
            task = progress.add_task("settling", total=None, note="")
            plain = _Every(30.0, say) if progress.disable else None

            def on_lag(lag: dict[str, int] | None) -> None:
                progress.update(task, note=lag_note(lag))
                if plain is not None:
                    plain(f"settling: {lag_note(lag)}")

            caught, events = asyncio.run(settled_events(
                settings, hold_s=hold_for(settle, settings), timeout_s=timeout, on_lag=on_lag))
        save_incidents(run_dir, events)
        report = drill_report(run_id, latest_revisions(events).values(), caught)
        write_report(run_dir, report)
        print(report_markdown(report), end="")
        say(f"report: {run_dir / 'report.md'}")
        _chief_report(settings, run_id, say)  # while the drill's broker still holds its topics
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


@dataclass(frozen=True)
class ScenarioFacts:
    """The scripted scenario a drill played, when it has a ground truth to be checked against."""

    name: str
    start: datetime
    seed: int

    def as_json(self) -> dict[str, object]:
        return {"scenario": self.name, "start": self.start.isoformat(), "seed": self.seed}


def scenario_facts(name: str, start: datetime | None, seed: int) -> tuple[ScenarioFacts | None, datetime]:
    """The facts of a scenario with a ground truth (else None), and the virtual start made explicit (now, to
    the second, when not given: what ``amur sim feeds`` would take), so the report knows when the drill began."""
    import importlib

    from stream.sim.scenarios import SCENARIOS

    start = start or datetime.now(timezone.utc).replace(microsecond=0)
    module = SCENARIOS.get(name)
    has_truth = module is not None and hasattr(importlib.import_module(module), "ground_truth")
    return (ScenarioFacts(name, start, seed) if has_truth else None), start


def _chief_report(settings: Settings, run_id: str, say: Callable[[str], None]) -> None:
    """The drill report (`amur drill report`): one HTML page and its JSON in the run directory."""
    from stream.drills.report import report_run

    try:
        _, page, _ = report_run(settings, run_id)
    except (AmurError, click.ClickException) as exc:
        say(f"drill report not written: {exc}")
        return
    say(f"drill report: {page}")


def _scenario_feed(scenario: str, speed: float, duration: float, start: datetime | None, seed: int,
                   feeds: str) -> Feed:
    """Feed a scenario paced by ``amur sim feeds`` itself (the ``--scenario`` form)."""
    def feed(settings: Settings, env: dict[str, str], run_dir: Path, progress: Progress,
             say: Callable[[str], None]) -> None:
        _feed_scenario(_sim_feeds(scenario, speed, duration, start, seed, feeds), run_dir / "feeds.log", env, speed,
                       duration, progress, say)
    return feed


def _sim_feeds(scenario: str, speed: float, duration: float, start: datetime | None, seed: int,
               feeds: str) -> list[str]:
    argv = [sys.executable, "-m", "stream.cli.main", "sim", "feeds", "--scenario", scenario, "--speed", str(speed),
            "--duration", str(duration), "--seed", str(seed), "--feeds", feeds]
    return argv + (["--start", start.isoformat()] if start else [])


def _generated_feed(scenario: str, speed: float, duration: float, start: datetime | None, seed: int,
                    feeds: str) -> Feed:
    """Generate the scenario's input into the run directory first (unpaced), then replay it like a recording:
    the same seed and start give the same input, and ``--speed max`` sends it as fast as the pipeline takes it."""
    def feed(settings: Settings, env: dict[str, str], run_dir: Path, progress: Progress,
             say: Callable[[str], None]) -> str:
        path = run_dir / "input.tsv"
        argv = _sim_feeds(scenario, 1.0, duration, start, seed, feeds) + ["--out", str(path)]
        task = progress.add_task("generating", total=None, note=scenario)
        with open(run_dir / "feeds.log", "ab") as log:
            subprocess.run(argv, env=env, stdout=log, stderr=subprocess.STDOUT, check=True)
        progress.remove_task(task)
        with path.open("rb") as lines:
            return _feed_inputs(settings, parse_recording(lines), speed, run_dir, progress, say)
    return feed


def _recorded_feed(source: Path, speed: float) -> Feed:
    """Replay an archive of `amur record` (damaged segments skipped, each said) or a .tsv recording."""
    def feed(settings: Settings, env: dict[str, str], run_dir: Path, progress: Progress,
             say: Callable[[str], None]) -> str:
        if source.is_dir():
            skipped: list[Damage] = []
            inputs = archive_inputs(source, skipped)
            for damage in skipped:
                say(f"skipped {damage.name}: {damage.reason}")
        else:
            with source.open("rb") as lines:
                inputs = parse_recording(lines)
        return _feed_inputs(settings, inputs, speed, run_dir, progress, say)
    return feed


class Speed(click.ParamType):
    """Simulated seconds per wall second, or ``max``: as fast as the pipeline goes (on the event clock)."""

    name = "speed"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, float):
            return value
        if str(value).strip().lower() == "max":
            return math.inf
        try:
            speed = float(str(value))
        except ValueError:
            self.fail(f"{value!r} is neither a number nor 'max'", param, ctx)
        if not (speed > 0 and math.isfinite(speed)):
            self.fail(f"{value!r} is not a positive number", param, ctx)
        return speed


UNPACED = 1e6
"""The simulator's speed for ``--speed max``: it never waits (its steps take longer than a millionth)."""


def sends_grid_events(name: str, start: datetime, seed: int) -> bool:
    from stream.sim.hooks import load_scenario

    if name == "fire":
        return False
    return load_scenario(name, start, seed).sends_grid_events


def scenario_names() -> list[str]:
    from stream.sim.scenarios import SCENARIOS

    return ["fire", *SCENARIOS]


def _subcommands() -> dict[str, str]:
    """Subcommands beyond ``run`` that are present in this build (``report`` comes with stream.drills.report)."""
    from importlib.util import find_spec

    return {"report": "stream.drills.report:command"} if find_spec("stream.drills.report") else {}


class DrillGroup(click.Group):
    """``amur drill``: ``run`` here, other subcommands when their module is in the build; with ``--scenario``
    or ``--replay`` and no subcommand, the earlier form of ``run``."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *_subcommands()]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        found = super().get_command(ctx, name)
        if found is None and name in _subcommands():
            from stream.cli.main import load

            found = load(_subcommands()[name])
        return found


_common = [
    click.option("--run-id", default=None, help="drill run id (default: from the clock)"),
    click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True),
    click.option("--settle", type=click.FloatRange(min=0), default=10.0, show_default=True,
                 help="seconds the consumer lag must stay 0 before the report (at least two incident ticks)"),
    click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=1800.0, show_default=True,
                 help="seconds to wait, once the input is sent, for the pipeline to process it; "
                      "then the report says it stopped early"),
    click.option("--duration", type=float, default=6 * 3600.0, show_default=True,
                 help="simulated seconds (scenario only)"),
    click.option("--start", type=ZonedTime(), default=None,
                 help="virtual start time, ISO 8601 with zone (scenario only; fix it for a repeatable drill)"),
    click.option("--seed", type=int, default=7, show_default=True, help="seed of the simulated feeds (scenario only)"),
    click.option("--feeds", default=",".join(FEED_NAMES), show_default=True, callback=check_feeds,
                 help="feeds to simulate (scenario only); a flood-crest drill at high speed needs only gauges"),
]


def _with_common(f: Callable) -> Callable:
    for option in reversed(_common):
        f = option(f)
    return f


def _run_id(run_id: str | None) -> str:
    return run_id or datetime.now(timezone.utc).strftime("d%Y%m%d%H%M%S")


@click.group(name="drill", cls=DrillGroup, invoke_without_command=True,
             help="Replay a scenario or a recorded day as an exercise, and report: `amur drill run SCENARIO_OR_ARCHIVE`"
                  ". The options here are the earlier form (`amur drill --scenario NAME`, `--replay FILE.tsv`).")
@click.option("--scenario", help="a scripted scenario, e.g. heilongjiang-crest-5 or fire")
@click.option("--replay", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="a recording made by `amur sim feeds --out FILE`")
@click.option("--speed", type=click.FloatRange(min=0, min_open=True), default=60.0, show_default=True,
              help="simulated seconds per wall second")
@_with_common
@click.pass_context
def command(ctx: click.Context, scenario: str | None, replay: Path | None, speed: float, duration: float,
            start: datetime | None, seed: int, feeds: str, run_id: str | None, workers: int, settle: float,
            timeout: float) -> int:
    if ctx.invoked_subcommand is not None:
        return 0
    if (scenario is None) == (replay is None):
        raise click.UsageError("give one of --scenario or --replay (or use `amur drill run`)", ctx)
    facts = None
    if replay is None:
        facts, start = scenario_facts(str(scenario), start, seed)
    feed = _recorded_feed(replay, speed) if replay is not None else \
        _scenario_feed(str(scenario), speed, duration, start, seed, feeds)
    return run_drill(_run_id(run_id), feed, workers=workers, settle=settle, timeout=timeout, scenario=facts)


@command.command(name="run", help="Replay SCENARIO_OR_ARCHIVE — a scenario name, an archive of `amur record`, or a "
                                  ".tsv recording — through the full pipeline on the event clock; print the run id "
                                  "alone on the last line.")
@click.argument("source", metavar="SCENARIO_OR_ARCHIVE")
@click.option("--speed", type=Speed(), default="60", show_default=True,
              help="simulated seconds per wall second, or max (as fast as the pipeline goes)")
@_with_common
def run_command(source: str, speed: float, duration: float, start: datetime | None, seed: int, feeds: str,
                run_id: str | None, workers: int, settle: float, timeout: float) -> int:
    path = Path(source)
    facts = None
    if path.exists():
        if path.is_dir() and not is_archive(path):
            raise click.BadParameter(f"{source!r} is a directory without {MANIFEST} (not an archive)",
                                     param_hint="SCENARIO_OR_ARCHIVE")
        feed = _recorded_feed(path, speed)
    elif source in scenario_names():
        facts, start = scenario_facts(source, start, seed)
        if sends_grid_events(source, start, seed):  # a recording cannot hold them: the simulator plays it live
            feed = _scenario_feed(source, min(speed, UNPACED), duration, start, seed, feeds)
        else:
            feed = _generated_feed(source, speed, duration, start, seed, feeds)
    else:
        raise click.BadParameter(f"{source!r} is neither an archive, a recording nor a scenario "
                                 f"({', '.join(scenario_names())})", param_hint="SCENARIO_OR_ARCHIVE")
    run_id = _run_id(run_id)
    code = run_drill(run_id, feed, workers=workers, settle=settle, timeout=timeout, scenario=facts)
    print(run_id, flush=True)
    return code
