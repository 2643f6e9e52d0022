"""`amur bench hydro`: readings/s through the hydrology pipeline on scenario heilongjiang-crest-5.

Prints, measured in the same run: the crest detector alone, the whole pure
pipeline (detection, numbering, forecasts, alerts), and the design-point load
it must carry (60 gauges, one reading every 5 minutes).
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import datetime, timedelta, timezone

from gis.hydro.alerts import load_exposures
from gis.hydro.config import load_config
from gis.hydro.crests import CrestState, Point, step
from gis.hydro.pipeline import HydroContext, HydroState, process
from stream.sim.scenarios import heilongjiang_crest_5 as scenario

DESIGN_GAUGES = 60
DESIGN_INTERVAL_S = 300.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="amur bench hydro", description=__doc__)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    config = load_config()
    ctx = HydroContext.build(config, load_exposures())
    start = datetime(2024, 8, 1, tzinfo=timezone(timedelta(hours=8)))
    levels = [(lv.gauge_id, Point(lv.event_time, lv.stage_m)) for lv in scenario.readings(start, args.seed, config)]

    t0 = time.perf_counter()
    states: dict[str, CrestState] = {}
    for gauge_id, point in levels:
        states[gauge_id], _ = step(states.get(gauge_id, CrestState()), point, ctx.params.crest)
    detector_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    state, forecasts = HydroState(), 0
    for gauge_id, point in levels:
        state, out = process(state, gauge_id, point, ctx)
        forecasts += len(out.forecasts)
    pipeline_s = time.perf_counter() - t0

    print(json.dumps({
        "readings": len(levels),
        "detector_readings_per_s": round(len(levels) / detector_s),
        "pipeline_readings_per_s": round(len(levels) / pipeline_s),
        "forecasts_published": forecasts,
        "design_point_readings_per_s": DESIGN_GAUGES / DESIGN_INTERVAL_S,
        "pipeline_headroom_x": round(len(levels) / pipeline_s / (DESIGN_GAUGES / DESIGN_INTERVAL_S)),
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
