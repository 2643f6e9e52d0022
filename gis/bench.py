"""``amur bench grid``: point->cell assignment rate and grid rescoring times.

Prints each figure next to the limit it is compared with, measured in the same
run: assignment against a bounding-box-only STRtree pass over the same points
(the floor of any tree lookup), whole-grid rescoring against the 1 s budget.
On a terminal a transient progress bar on stderr names the measurement running.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone

import click
import numpy as np
import pyogrio
import shapely
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from gis import registry as R
from gis.assign import CellIndex, assign_points
from gis.fire import CellCodes, cell_fwi
from gis.grid import GridModel
from gis.risk import StageForecast, score_fire, score_flood

WHOLE_GRID_BUDGET_S = 1.0
#: the measurements of ``figures``, in order
STEPS = ("cell index", "assignment", "flood rescoring", "fire")


def best_time(fn: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` timed calls, in seconds (the least disturbed by other jobs)."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def budget_line(whole_grid_s: float) -> str:
    verdict = "ok" if whole_grid_s < WHOLE_GRID_BUDGET_S else "TOO SLOW"
    return f"  limit: whole grid under {WHOLE_GRID_BUDGET_S:.1f} s -> {verdict}"


def figures(points: int, repeat: int, seed: int, step: Callable[[str], None]) -> Iterator[str]:
    """Run every measurement, yielding its lines as it ends; ``step`` hears each of ``STEPS`` as it starts."""
    yield (f"machine: {platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}, "
           f"shapely {shapely.__version__}")
    step("cell index")
    cells = pyogrio.read_dataframe(R.DEFAULT_DATA_DIR / "cells_sample.geojson", columns=["code"])
    t = time.perf_counter()
    index = CellIndex.build(cells["code"].to_numpy(), cells.geometry.to_numpy())
    yield f"cell index: {len(cells)} cells, built in {time.perf_counter() - t:.2f} s"

    step("assignment")
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = shapely.total_bounds(index.geoms)
    x, y = rng.uniform(minx, maxx, points), rng.uniform(miny, maxy, points)
    result = assign_points(index, x, y)
    assign_s = best_time(lambda: assign_points(index, x, y), repeat)
    pts = shapely.points(x, y)
    bbox_s = best_time(lambda: index.tree.query(pts), repeat)
    yield (f"assign: {points / assign_s:,.0f} points/s ({points:,} points in {assign_s:.2f} s; "
           f"{result.outside.mean():.1%} outside the city, reported)")
    yield f"  limit: bounding-box-only tree pass {points / bbox_s:,.0f} points/s ({bbox_s:.2f} s)"

    step("flood rescoring")
    model = GridModel.from_registry()
    gauges = R.load_gauges()
    now = datetime(2013, 8, 16, 8, tzinfo=timezone(timedelta(hours=8)))
    stage = {g.gauge_id: g.warning_m + float(rng.uniform(-1, 2)) for g in gauges}
    forecast = {g.gauge_id: StageForecast(stage[g.gauge_id] + 0.5, now + timedelta(hours=24)) for g in gauges}
    rain = rng.uniform(0, 50, model.size)
    whole = best_time(lambda: score_flood(model, stage, forecast, rain / 10, rain, rain * 2, now=now), max(repeat, 5))
    one_idx = np.array([model.size // 2])
    one = best_time(lambda: score_flood(model, stage, forecast, rain / 10, rain, rain * 2, now=now, cells=one_idx), 50)
    yield f"flood rescoring: whole grid ({model.size} cells) {whole * 1000:.1f} ms, one cell {one * 1e6:.0f} us"
    yield budget_line(whole)

    step("fire")
    stations = R.load_stations()
    n = len(stations)
    lon, lat = [s.lon for s in stations], [s.lat for s in stations]
    weather = (rng.uniform(15, 30, n), rng.uniform(20, 60, n), rng.uniform(5, 30, n), rng.uniform(0, 5, n))
    codes = CellCodes.start(model.size)
    day_s = best_time(lambda: cell_fwi(model, lon, lat, *weather, 5, codes), repeat)
    day = cell_fwi(model, lon, lat, *weather, 5, codes)
    fire = best_time(lambda: score_fire(model, day.fwi, {}, now=now), max(repeat, 5))
    fire_one = best_time(lambda: score_fire(model, day.fwi, {}, now=now, cells=one_idx), 50)
    yield (f"fire: daily FWI for every cell from {n} stations (IDW) {day_s * 1000:.0f} ms; "
           f"rescoring whole grid {fire * 1000:.1f} ms, one cell {fire_one * 1e6:.0f} us")
    yield budget_line(fire)


@click.command(name="grid", help="Point->cell assignment rate and grid rescoring times, each printed next to "
                                 "the limit it is compared with.")
@click.option("--points", type=click.IntRange(min=1), default=1_000_000, show_default=True,
              help="random points assigned to cells")
@click.option("--repeat", type=click.IntRange(min=1), default=3, show_default=True,
              help="timed runs of each measurement (the fastest is reported)")
@click.option("--seed", type=int, default=1, show_default=True, help="seed of the random points and inputs")
def command(points: int, repeat: int, seed: int) -> int:
    # Progress on a terminal only (stderr, gone when done). Figures printed to a terminal go above the bar,
    # unwrapped; printed to a pipe or file they go straight there, plain.
    console = Console(stderr=True, soft_wrap=True)
    with Progress(TextColumn("{task.description:<16}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True, redirect_stdout=sys.stdout.isatty(),
                  disable=not console.is_terminal) as progress:
        task = progress.add_task(STEPS[0], total=len(STEPS))
        for line in figures(points, repeat, seed,
                            step=lambda name: progress.update(task, description=name, completed=STEPS.index(name))):
            print(line)
    return 0
