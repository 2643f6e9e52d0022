"""``amur hydro crests|route|calibrate``: the hydrology library on CSV files."""

from __future__ import annotations

import csv
import json
import sys
from datetime import timedelta
from pathlib import Path

import click

from gis.hydro.calibrate import calibrate
from gis.hydro.crests import CrestParams, Point, crest_events, detect_crests
from gis.hydro.errors import HydroError
from gis.hydro.muskingum import route
from gis.hydro.offline import offline_crests
from gis.hydro.quality import require_clean
from gis.hydro.series import Row, read_series, uniform_step_h

CSV = click.Path(exists=True, dir_okay=False, path_type=Path)
POSITIVE = click.FloatRange(min=0.0, min_open=True)


@click.command(name="crests", help="Print one JSON object per crest of a time,<stage> CSV.\n\n"
                                   "INPUT: CSV with columns time,<stage> (any unit; a flow record works too). "
                                   "A record with gaps, duplicated times, a unit change or a stuck sensor is "
                                   "refused, naming the rows.")
@click.argument("input_", metavar="INPUT", type=CSV)
@click.option("--prominence", type=POSITIVE, default=0.30, show_default=True,
              help="fall that separates two crests, and rise a crest needs (stage unit)")
@click.option("--hysteresis", type=POSITIVE, default=None,
              help="fall below a top that announces it online (default prominence/3)")
@click.option("--spike", type=POSITIVE, default=None,
              help="a reading this far above the filtered top is a spike, not the crest (default prominence)")
@click.option("--lateness-h", type=click.FloatRange(min=0.0), default=1.0, show_default=True,
              help="how late (hours) a reading may arrive")
@click.option("--offline", is_flag=True,
              help="the whole record at once: peaks by topographic prominence (as scipy.signal.find_peaks)")
@click.option("--events", is_flag=True, help="print every online event (detected, revised, confirmed)")
def crests_command(input_: Path, prominence: float, hysteresis: float | None, spike: float | None,
                   lateness_h: float, offline: bool, events: bool) -> int:
    try:
        params = CrestParams(
            prominence=prominence,
            hysteresis=prominence / 3 if hysteresis is None else hysteresis,
            spike=spike,
            lateness=timedelta(hours=lateness_h),
        )
        rows = read_series(input_)
        require_clean(rows, str(input_))
        lines = _offline(rows, params) if offline else _events(rows, params) if events else _online(rows, params)
    except HydroError as exc:
        print(f"amur hydro crests: {exc}", file=sys.stderr)
        return 2
    for line in lines:
        print(json.dumps(line))
    return 0


def _online(rows: list[Row], params: CrestParams) -> list[dict[str, object]]:
    """Each crest in its last version; ``final`` once the recession confirmed it."""
    return [{
        "time": crest.time.isoformat(),
        "stage": round(crest.stage, 6),
        "prominence": round(crest.prominence, 6),
        "rise_start": crest.rise_start.isoformat(),
        "revisions": crest.revision,
        "final": crest.final,
    } for crest in detect_crests((Point(r.time, r.value) for r in rows), params)]


def _events(rows: list[Row], params: CrestParams) -> list[dict[str, object]]:
    return [{
        "event": event.kind.value,
        "at": event.crest.confirmed_at.isoformat(),
        "time": event.crest.time.isoformat(),
        "stage": round(event.crest.stage, 6),
        "revision": event.crest.revision,
    } for event in crest_events((Point(r.time, r.value) for r in rows), params)]


def _offline(rows: list[Row], params: CrestParams) -> list[dict[str, object]]:
    """Crests of the whole record; ``peak_time`` is find_peaks' sample (a flat top's middle)."""
    return [{
        "time": crest.reading.time.isoformat(),
        "stage": round(crest.reading.stage, 6),
        "prominence": round(crest.prominence, 6),
        "peak_time": crest.peak_time.time.isoformat(),
    } for crest in offline_crests([Point(r.time, r.value) for r in rows], params)]


@click.command(name="route", help="Muskingum-route a time,inflow CSV; print CSV time,inflow,outflow.\n\n"
                                  "INPUT: CSV with columns time,inflow (equal steps of DT hours).")
@click.argument("input_", metavar="INPUT", type=CSV)
@click.option("--k", type=POSITIVE, required=True, help="storage constant K (hours)")
@click.option("--x", type=click.FloatRange(0.0, 0.5), required=True, help="weighting factor X (0..0.5)")
@click.option("--dt", type=POSITIVE, required=True, help="time step (hours)")
@click.option("--o0", type=float, default=None, help="initial outflow (default: first inflow)")
@click.option("--decimals", type=click.IntRange(min=0), default=4, show_default=True,
              help="decimals printed for outflow")
def route_command(input_: Path, k: float, x: float, dt: float, o0: float | None, decimals: int) -> int:
    try:
        rows = read_series(input_, "inflow")
        step = uniform_step_h(rows, str(input_))
        if abs(step - dt) > 1e-6:
            raise HydroError(f"--dt {dt:g} h does not match the input's time step of {step:g} h")
        outflow = route([r.value for r in rows], k, x, dt, o0)
    except HydroError as exc:
        print(f"amur hydro route: {exc}", file=sys.stderr)
        return 2
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["time", "inflow", "outflow"])
    for row, o in zip(rows, outflow):
        out.writerow([row.label, f"{row.value:g}", f"{o:.{decimals}f}"])
    return 0


@click.command(name="calibrate", help="Least-squares Muskingum K and X of a reach from a past flood; prints JSON.")
@click.option("--upstream", type=CSV, required=True, multiple=True,
              help="CSV time,<flow> at the upstream end (repeat for several gauged inflows: they are summed)")
@click.option("--downstream", type=CSV, required=True, help="CSV time,<flow> at the downstream end")
@click.option("--lateral", is_flag=True,
              help="the reach gains water on the way: scale the inflow by the flood's volume ratio")
def calibrate_command(upstream: tuple[Path, ...], downstream: Path, lateral: bool) -> int:
    try:
        ups, down = [read_series(path) for path in upstream], read_series(downstream)
        for path, up in zip(upstream, ups):
            if [r.time for r in up] != [r.time for r in down]:
                raise HydroError(f"{path} and {downstream} must have the same times, row for row")
        dt = uniform_step_h(down, str(downstream))
        inflow = [sum(values) for values in zip(*([r.value for r in up] for up in ups))]
        result = calibrate(inflow, [r.value for r in down], dt, lateral=lateral)
    except HydroError as exc:
        print(f"amur hydro calibrate: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({
        "k_h": round(result.k_h, 4),
        "x": round(result.x, 4),
        "dt_h": result.dt_h,
        "inflow_scale": round(result.inflow_scale, 6),
        "rmse": round(result.fit.rmse, 4),
        "nse": round(result.fit.nse, 6),
        "peak_error": round(result.fit.peak_error, 4),
        "peak_time_error_steps": result.fit.peak_time_error_steps,
        "steps": len(down),
    }))
    return 0
