"""``amur bench grid``: point->cell assignment rate and grid rescoring times.

Prints each figure next to the limit it is compared with, measured in the same
run: assignment against a bounding-box-only STRtree pass over the same points
(the floor of any tree lookup), whole-grid rescoring against the 1 s budget.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import numpy as np
import pyogrio
import shapely

from gis import registry as R
from gis.assign import CellIndex, assign_points
from gis.fire import CellCodes, cell_fwi
from gis.grid import GridModel
from gis.risk import StageForecast, score_fire, score_flood

WHOLE_GRID_BUDGET_S = 1.0


def best_time(fn: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` timed calls, in seconds (the least disturbed by other jobs)."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="amur bench grid", description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print(f"machine: {platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}, shapely {shapely.__version__}")

    cells = pyogrio.read_dataframe(R.DEFAULT_DATA_DIR / "cells_sample.geojson", columns=["code"])
    t = time.perf_counter()
    index = CellIndex.build(cells["code"].to_numpy(), cells.geometry.to_numpy())
    print(f"cell index: {len(cells)} cells, built in {time.perf_counter() - t:.2f} s")

    rng = np.random.default_rng(args.seed)
    minx, miny, maxx, maxy = shapely.total_bounds(index.geoms)
    x, y = rng.uniform(minx, maxx, args.points), rng.uniform(miny, maxy, args.points)
    result = assign_points(index, x, y)
    assign_s = best_time(lambda: assign_points(index, x, y), args.repeat)
    pts = shapely.points(x, y)
    bbox_s = best_time(lambda: index.tree.query(pts), args.repeat)
    print(f"assign: {args.points / assign_s:,.0f} points/s ({args.points:,} points in {assign_s:.2f} s; "
          f"{result.outside.mean():.1%} outside the city, reported)")
    print(f"  limit: bounding-box-only tree pass {args.points / bbox_s:,.0f} points/s ({bbox_s:.2f} s)")

    model = GridModel.from_registry()
    gauges = R.load_gauges()
    now = datetime(2013, 8, 16, 8, tzinfo=timezone(timedelta(hours=8)))
    stage = {g.gauge_id: g.warning_m + float(rng.uniform(-1, 2)) for g in gauges}
    forecast = {g.gauge_id: StageForecast(stage[g.gauge_id] + 0.5, now + timedelta(hours=24)) for g in gauges}
    rain = rng.uniform(0, 50, model.size)
    whole = best_time(lambda: score_flood(model, stage, forecast, rain / 10, rain, rain * 2, now=now), max(args.repeat, 5))
    one_idx = np.array([model.size // 2])
    one = best_time(lambda: score_flood(model, stage, forecast, rain / 10, rain, rain * 2, now=now, cells=one_idx), 50)
    print(f"flood rescoring: whole grid ({model.size} cells) {whole * 1000:.1f} ms, one cell {one * 1e6:.0f} us")
    print(f"  limit: whole grid under {WHOLE_GRID_BUDGET_S:.1f} s -> {'ok' if whole < WHOLE_GRID_BUDGET_S else 'TOO SLOW'}")

    stations = R.load_stations()
    n = len(stations)
    lon, lat = [s.lon for s in stations], [s.lat for s in stations]
    weather = (rng.uniform(15, 30, n), rng.uniform(20, 60, n), rng.uniform(5, 30, n), rng.uniform(0, 5, n))
    codes = CellCodes.start(model.size)
    day_s = best_time(lambda: cell_fwi(model, lon, lat, *weather, 5, codes), args.repeat)
    day = cell_fwi(model, lon, lat, *weather, 5, codes)
    fire = best_time(lambda: score_fire(model, day.fwi, {}, now=now), max(args.repeat, 5))
    fire_one = best_time(lambda: score_fire(model, day.fwi, {}, now=now, cells=one_idx), 50)
    print(f"fire: daily FWI for every cell from {n} stations (IDW) {day_s * 1000:.0f} ms; "
          f"rescoring whole grid {fire * 1000:.1f} ms, one cell {fire_one * 1e6:.0f} us")
    print(f"  limit: whole grid under {WHOLE_GRID_BUDGET_S:.1f} s -> {'ok' if fire < WHOLE_GRID_BUDGET_S else 'TOO SLOW'}")
    return 0
