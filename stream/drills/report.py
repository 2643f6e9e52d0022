"""`amur drill report RUN_ID`: one self-contained HTML page (and its JSON) a drill officer hands to the chief.

It reads what the drill left in its namespace on the broker (``AMUR_BROKER_URL``:
every revision of every incident, operator commands, gauge states, crest
forecasts and detections, cell risks), checks the incidents against the
scenario's ground truth (``--scenario``/``--start``/``--seed``, or the run
directory's ``run.json`` with those keys), and writes ``drill-report.html`` and
``drill-report.json`` in the drill's run directory (or ``--out``). The figures
are :mod:`stream.drills.report_data`, the page :mod:`stream.drills.report_html`.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
from datetime import datetime
from pathlib import Path

import click

from stream import schemas, topics
from stream.cli.params import ZonedTime
from stream.drills.report_data import DrillRecord, GaugeStages, build
from stream.drills.report_html import render
from stream.errors import AmurError
from stream.settings import Settings, load_settings
from stream.sim.scenarios.truth import GroundTruth

ECHARTS = Path(__file__).resolve().parents[2] / "command_ui" / "web" / "node_modules" / "echarts" / "dist" / \
    "echarts.min.js"
"""The page's chart library, installed by ``make web``; inlined into the report."""
RUN_FILE = "run.json"
"""Optional in the run directory: ``{"scenario": ..., "start": ISO 8601, "seed": ...}`` of the drill."""


def ground_truth(scenario: str, start: datetime, seed: int) -> GroundTruth:
    """The named scenario's ground truth from ``start``; AmurError if it has none."""
    from stream.sim.scenarios import SCENARIOS

    module_name = SCENARIOS.get(scenario)
    if module_name is None:
        raise AmurError(f"scenario {scenario!r} is not a scripted scenario; known: {', '.join(sorted(SCENARIOS))}")
    truth = getattr(importlib.import_module(module_name), "ground_truth", None)
    if truth is None:
        raise AmurError(f"scenario {scenario!r} has no ground truth to compare the drill with")
    return truth(start, seed)


async def read_record(settings: Settings, run_id: str, stopped_early: bool) -> DrillRecord:
    """Everything the report needs from the drill's topics."""
    from stream.cli.alerts import read_topic

    async def read(spec: topics.TopicSpec, kind: type) -> list:  # type: ignore[type-arg]
        return await read_topic(settings, spec, kind, run_id)

    incidents = await read(topics.INCIDENTS, schemas.IncidentChanged)
    return DrillRecord(run_id=run_id, incidents=incidents, stopped_early=stopped_early,
                       commands=await read(topics.COMMANDS, schemas.OperatorCommand),
                       gauges=await read(topics.GAUGE_STATE, schemas.GaugeState),
                       forecasts=await read(topics.FORECASTS, schemas.CrestForecast),
                       crests=await read(topics.CRESTS, schemas.CrestDetected),
                       risks=await read(topics.CELL_RISK, schemas.CellRisk))


def _read(settings: Settings, run_id: str, stopped_early: bool) -> DrillRecord:
    """:func:`read_record`, its failures as AmurError naming the broker."""
    from aiokafka.errors import KafkaError

    try:
        return asyncio.run(read_record(settings, run_id, stopped_early))
    except (KafkaError, OSError, asyncio.TimeoutError) as exc:
        raise AmurError(f"cannot read drill {run_id}'s topics at {settings.broker_url} ({exc!r}); a drill's own "
                        "embedded broker is memory-only and stopped with it; `amur drill run` wrote the report in the "
                       "run directory before it stopped, or run the drill on a broker that outlives it") from None


def gauge_stages(settings: Settings) -> dict[str, GaugeStages]:
    from gis.registry import data_dir_for, load_gauges

    return {g.gauge_id: GaugeStages(f"{g.name_zh} {g.name}", g.warning_m, g.guaranteed_m)
            for g in load_gauges(data_dir_for(settings.gis_manifest))}


def county_names(settings: Settings) -> dict[str, str]:
    from gis.layers import DEFAULT_MANIFEST, read_layer, read_manifest

    spec = next(s for s in read_manifest(settings.gis_manifest or DEFAULT_MANIFEST).layers if s.role == "county")
    return {str(r[spec.id_field]): str(r.get("name_zh", "")) for _, r in read_layer(spec).iterrows()}


def _run_facts(run_dir: Path) -> dict:
    """``run.json`` and the drill's own ``report.json`` (whichever exist)."""
    facts: dict = {}
    for name in ("report.json", RUN_FILE):
        try:
            facts.update(json.loads((run_dir / name).read_text()))
        except FileNotFoundError:
            continue
        except json.JSONDecodeError as exc:
            raise AmurError(f"{run_dir / name} is not JSON ({exc})") from None
    return facts


def write(report: dict, out: Path, echarts: Path = ECHARTS) -> tuple[Path, Path]:
    try:
        library = echarts.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AmurError(f"the chart library {echarts} is missing: run `make web`") from None
    out.mkdir(parents=True, exist_ok=True)
    page, data = out / "drill-report.html", out / "drill-report.json"
    data.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    page.write_text(render(report, library), encoding="utf-8")
    return page, data


@click.command(name="report", help="Write a drill's report: one self-contained HTML page and its JSON.")
@click.argument("run_id")
@click.option("--scenario", default=None, help="the drill's scenario (default: from the run's run.json)")
@click.option("--start", type=ZonedTime(), default=None, help="the scenario's virtual start, ISO 8601 with zone")
@click.option("--seed", type=int, default=None, help="the scenario's seed (default: run.json, else 7)")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="directory to write to (default: the drill's run directory)")
def command(run_id: str, scenario: str | None, start: datetime | None, seed: int | None, out: Path | None) -> int:
    settings = load_settings()
    try:
        report, page, data = report_run(settings, run_id, scenario=scenario, start=start, seed=seed, out=out)
    except AmurError as exc:
        raise click.ClickException(str(exc)) from None  # exit 1, one line
    h = report["headline"]
    print(f"drill {run_id}: {h['incidents']} incidents, recall {h['recall']}, precision {h['precision']}")
    print(page)
    print(data)
    return 0


def report_run(settings: Settings, run_id: str, *, scenario: str | None = None, start: datetime | None = None,
               seed: int | None = None, out: Path | None = None) -> tuple[dict, Path, Path]:
    """Build and write a drill's report from its topics (``amur drill run`` calls it before its broker stops);
    the options override the run directory's ``run.json``. AmurError when it cannot."""
    run_dir = settings.run_dir / f"drill-{run_id}"
    facts = _run_facts(run_dir)
    scenario = scenario or facts.get("scenario")
    start = start or (datetime.fromisoformat(facts["start"]) if facts.get("start") else None)
    seed = seed if seed is not None else int(facts.get("seed", 7))
    if scenario and start is None:
        raise click.UsageError(f"scenario {scenario!r} needs --start (its virtual start)")
    truth = ground_truth(scenario, start, seed) if scenario and start else None
    record = _read(settings, run_id, bool(facts.get("stopped_early", False)))
    report = build(record, truth, gauge_stages(settings), county_names(settings))
    page, data = write(report, out or run_dir)
    return report, page, data


if __name__ == "__main__":  # until `amur drill` is a group: python -m stream.drills.report RUN_ID
    try:
        sys.exit(command.main(prog_name="amur drill report", standalone_mode=False) or 0)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
