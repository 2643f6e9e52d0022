"""`amur bench hydro`: readings/s through the hydrology pipeline on scenario heilongjiang-crest-5.

Prints, measured in the same run: the crest detector alone, the whole pure
pipeline (detection, numbering, forecasts, alerts), and the design-point load
it must carry (60 gauges, one reading every 5 minutes).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import click

from gis.hydro.alerts import load_exposures
from gis.hydro.config import load_config
from gis.hydro.crests import CrestParams, CrestState, Point, step
from gis.hydro.pipeline import HydroContext, HydroState, process
from stream.bench.terminal import Steps
from stream.bench.timing import Stopwatch
from stream.sim.scenarios import heilongjiang_crest_5 as scenario

DESIGN_GAUGES = 60
DESIGN_INTERVAL_S = 300.0

Levels = list[tuple[str, Point]]


def detect_all(levels: Levels, params: CrestParams) -> None:
    """The crest detector alone over every reading."""
    states: dict[str, CrestState] = {}
    for gauge_id, point in levels:
        states[gauge_id], _ = step(states.get(gauge_id, CrestState()), point, params)


def process_all(levels: Levels, ctx: HydroContext) -> int:
    """The whole pipeline over every reading; the number of forecasts it published."""
    state, forecasts = HydroState(), 0
    for gauge_id, point in levels:
        state, out = process(state, gauge_id, point, ctx)
        forecasts += len(out.forecasts)
    return forecasts


@click.command(name="hydro", help=__doc__)
@click.option("--seed", type=int, default=7, show_default=True, help="seed of the scenario's readings")
def command(seed: int) -> int:
    with Steps(3) as steps:
        steps.start("replaying the scenario")
        config = load_config()
        ctx = HydroContext.build(config, load_exposures())
        start = datetime(2024, 8, 1, tzinfo=timezone(timedelta(hours=8)))
        levels = [(lv.gauge_id, Point(lv.event_time, lv.stage_m)) for lv in scenario.readings(start, seed, config)]
        steps.start(f"crest detector, {len(levels):,} readings")
        watch = Stopwatch()
        detect_all(levels, ctx.params.crest)
        detector_s = watch.elapsed().wall_s
        steps.start(f"whole pipeline, {len(levels):,} readings")
        watch = Stopwatch()
        forecasts = process_all(levels, ctx)
        pipeline_s = watch.elapsed().wall_s

    print(json.dumps({
        "readings": len(levels),
        "detector_readings_per_s": round(len(levels) / detector_s),
        "pipeline_readings_per_s": round(len(levels) / pipeline_s),
        "forecasts_published": forecasts,
        "design_point_readings_per_s": DESIGN_GAUGES / DESIGN_INTERVAL_S,
        "pipeline_headroom_x": round(len(levels) / pipeline_s / (DESIGN_GAUGES / DESIGN_INTERVAL_S)),
    }))
    return 0
