"""``amur hydro crests|route|calibrate``: the hydrology library on CSV files."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import timedelta
from pathlib import Path

from gis.hydro.calibrate import calibrate
from gis.hydro.crests import CrestParams, Point, detect_crests
from gis.hydro.errors import HydroError
from gis.hydro.muskingum import route
from gis.hydro.series import read_series, uniform_step_h


def crests_main(argv: list[str]) -> int:
    """Print one JSON object per crest of a ``time,stage`` CSV."""
    parser = argparse.ArgumentParser(prog="amur hydro crests", description=crests_main.__doc__)
    parser.add_argument("input", type=Path, help="CSV with columns time,stage")
    parser.add_argument("--prominence", type=float, default=0.30, help="minimum rise above the trough (stage unit)")
    parser.add_argument("--hysteresis", type=float, default=None, help="fall that confirms a crest (default prominence/3)")
    parser.add_argument("--lateness-h", type=float, default=1.0, help="how late (hours) a reading may arrive")
    args = parser.parse_args(argv)
    try:
        params = CrestParams(
            prominence=args.prominence,
            hysteresis=args.prominence / 3 if args.hysteresis is None else args.hysteresis,
            lateness=timedelta(hours=args.lateness_h),
        )
        rows = read_series(args.input, "stage")
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


def route_main(argv: list[str]) -> int:
    """Muskingum-route a ``time,inflow`` CSV; print CSV ``time,inflow,outflow``."""
    parser = argparse.ArgumentParser(prog="amur hydro route", description=route_main.__doc__)
    parser.add_argument("input", type=Path, help="CSV with columns time,inflow (equal steps of DT hours)")
    parser.add_argument("--k", type=float, required=True, help="storage constant K (hours)")
    parser.add_argument("--x", type=float, required=True, help="weighting factor X (0..0.5)")
    parser.add_argument("--dt", type=float, required=True, help="time step (hours)")
    parser.add_argument("--o0", type=float, default=None, help="initial outflow (default: first inflow)")
    parser.add_argument("--decimals", type=int, default=4, help="decimals printed for outflow")
    args = parser.parse_args(argv)
    try:
        rows = read_series(args.input, "inflow")
        step = uniform_step_h(rows, str(args.input))
        if abs(step - args.dt) > 1e-6:
            raise HydroError(f"--dt {args.dt:g} h does not match the input's time step of {step:g} h")
        outflow = route([r.value for r in rows], args.k, args.x, args.dt, args.o0)
    except HydroError as exc:
        print(f"amur hydro route: {exc}", file=sys.stderr)
        return 2
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["time", "inflow", "outflow"])
    for row, o in zip(rows, outflow):
        out.writerow([row.label, f"{row.value:g}", f"{o:.{args.decimals}f}"])
    return 0


def calibrate_main(argv: list[str]) -> int:
    """Least-squares Muskingum K and X of a reach from a past flood; prints JSON."""
    parser = argparse.ArgumentParser(prog="amur hydro calibrate", description=calibrate_main.__doc__)
    parser.add_argument("--upstream", type=Path, required=True, help="CSV time,<flow> at the upstream end")
    parser.add_argument("--downstream", type=Path, required=True, help="CSV time,<flow> at the downstream end")
    args = parser.parse_args(argv)
    try:
        up, down = read_series(args.upstream), read_series(args.downstream)
        if [r.time for r in up] != [r.time for r in down]:
            raise HydroError(f"{args.upstream} and {args.downstream} must have the same times, row for row")
        dt = uniform_step_h(up, str(args.upstream))
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
