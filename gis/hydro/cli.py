"""``amur hydro crests|route|calibrate``: the hydrology library on CSV files."""

from __future__ import annotations

import csv
import json
import sys
from datetime import timedelta
from pathlib import Path

import click

from gis.hydro.calibrate import calibrate
from gis.hydro.crests import CrestParams, Point, detect_crests
from gis.hydro.errors import HydroError
from gis.hydro.muskingum import route
from gis.hydro.series import read_series, uniform_step_h

CSV = click.Path(exists=True, dir_okay=False, path_type=Path)
POSITIVE = click.FloatRange(min=0.0, min_open=True)


@click.command(name="crests", help="Print one JSON object per crest of a time,stage CSV.\n\n"
                                   "INPUT: CSV with columns time,stage.")
@click.argument("input_", metavar="INPUT", type=CSV)
@click.option("--prominence", type=POSITIVE, default=0.30, show_default=True,
              help="minimum rise above the trough (stage unit)")
@click.option("--hysteresis", type=POSITIVE, default=None, help="fall that confirms a crest (default prominence/3)")
@click.option("--lateness-h", type=click.FloatRange(min=0.0), default=1.0, show_default=True,
              help="how late (hours) a reading may arrive")
def crests_command(input_: Path, prominence: float, hysteresis: float | None, lateness_h: float) -> int:
    try:
        params = CrestParams(
            prominence=prominence,
            hysteresis=prominence / 3 if hysteresis is None else hysteresis,
            lateness=timedelta(hours=lateness_h),
        )
        rows = read_series(input_, "stage")
        crests = detect_crests((Point(r.time, r.value) for r in rows), params)
    except HydroError as exc:
        print(f"amur hydro crests: {exc}", file=sys.stderr)
        return 2
    for crest in crests:
        print(json.dumps({
            "time": crest.time.isoformat(),
            "stage": round(crest.stage, 6),
            "prominence": round(crest.prominence, 6),
            "rise_start": crest.rise_start.isoformat(),
        }))
    return 0


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
@click.option("--upstream", type=CSV, required=True, help="CSV time,<flow> at the upstream end")
@click.option("--downstream", type=CSV, required=True, help="CSV time,<flow> at the downstream end")
def calibrate_command(upstream: Path, downstream: Path) -> int:
    try:
        up, down = read_series(upstream), read_series(downstream)
        if [r.time for r in up] != [r.time for r in down]:
            raise HydroError(f"{upstream} and {downstream} must have the same times, row for row")
        dt = uniform_step_h(up, str(upstream))
        result = calibrate([r.value for r in up], [r.value for r in down], dt)
    except HydroError as exc:
        print(f"amur hydro calibrate: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({
        "k_h": round(result.k_h, 4),
        "x": round(result.x, 4),
        "dt_h": result.dt_h,
        "rmse": round(result.fit.rmse, 4),
        "nse": round(result.fit.nse, 6),
        "peak_error": round(result.fit.peak_error, 4),
        "peak_time_error_steps": result.fit.peak_time_error_steps,
        "steps": len(up),
    }))
    return 0
