"""``amur bench risk``: one whole-grid rescoring of the risk scorer, from a full input snapshot.

The snapshot is what the scorer's tables hold at Heihe scale: every gauge above
or near its warning stage with a forecast, 72 h of rain on every rain sensor,
a noon observation at every weather station and fire findings from 200
cameras. Prints the time of :func:`stream.risk.score.score_grid` and of the
change detection, each next to its limit measured or set in the same run: the
1 s whole-grid budget and the rescoring interval (the scorer must finish well
within it).
"""

from __future__ import annotations

import os
import platform
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import click
import numpy as np

from gis import registry as R
from gis.bench import WHOLE_GRID_BUDGET_S
from stream import schemas
from stream.bench.terminal import Steps
from stream.bench.timing import Stopwatch, best_time
from stream.risk.score import FireWeatherMemo, RiskGrid, RiskInputs, changes, score_grid
from stream.risk.state import RainBuckets, StationFwi, add_rain, observe_weather
from stream.settings import load_settings

TZ = ZoneInfo("Asia/Shanghai")


def snapshot(grid: RiskGrid, now: datetime, rng: np.random.Generator) -> RiskInputs:
    """Heihe-scale scorer inputs (seeded)."""
    gauges, forecasts = {}, []
    for k, g in enumerate(R.load_gauges()):
        stage = g.warning_m + float(rng.uniform(-1.0, 1.5))
        gauges[g.gauge_id] = schemas.GaugeState(source="bench", event_time=now, gauge_id=g.gauge_id, stage_m=stage,
                                                trend=schemas.TrendState.RISING, rate_m_per_h=0.05,
                                                colour=schemas.Colour.BLUE)
        arrival = now + timedelta(hours=float(rng.uniform(6, 60)))
        forecasts.append(schemas.CrestForecast(
            source="bench", event_time=now, forecast_id=f"bench-{k}", gauge_id=g.gauge_id, river=g.river, crest_no=1,
            from_gauge_id=g.gauge_id, issued_at=now, arrival_time=arrival, arrival_low=arrival, arrival_high=arrival,
            stage_m=stage + 0.6, stage_low_m=stage + 0.3, stage_high_m=stage + 0.9, colour=schemas.Colour.YELLOW))
    rain = {}
    for sensor_id in grid.rain_sensor_cell:
        state = RainBuckets()
        for h in range(72):
            at = now - timedelta(hours=h, minutes=float(rng.uniform(0, 59)))
            state = add_rain(state, at, float(rng.gamma(1.0, 0.5)))
        rain[sensor_id] = state
    stations = {}
    for sid in grid.station_lonlat:
        at = datetime(now.year, now.month, now.day, 12, 5, tzinfo=TZ)
        stations[sid] = observe_weather(StationFwi(sid), at, float(rng.uniform(20, 32)), float(rng.uniform(20, 60)),
                                        float(rng.uniform(5, 30)), 0.0, TZ)
    cameras = list(grid.coverage.by_camera)[:200]
    findings = [schemas.VisionFinding(source="bench", event_time=now - timedelta(minutes=1), camera_id=c,
                                      kind=schemas.FindingKind.FIRE, score=0.9, confirmed=True) for c in cameras]
    return RiskInputs(gauges, forecasts, rain, stations, findings)


@click.command(name="risk", help=__doc__.splitlines()[0])
@click.option("--repeat", type=click.IntRange(min=1), default=5, show_default=True,
              help="timed calls per figure; the fastest is printed")
@click.option("--seed", type=int, default=1, show_default=True, help="seed of the input snapshot")
def command(repeat: int, seed: int) -> int:
    interval = load_settings().gis_rescore_interval_s
    print(f"machine: {platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}", flush=True)
    with Steps(6) as steps:
        steps.start("loading the grid model and registries")
        watch = Stopwatch()
        grid = RiskGrid.load()
        print(f"grid and registries loaded in {watch.elapsed().wall_s:.2f} s ({grid.model.size} cells)", flush=True)
        steps.start("building the input snapshot")
        now = datetime(2024, 8, 5, 14, tzinfo=TZ)
        inputs = snapshot(grid, now, np.random.default_rng(seed))
        print(f"inputs: {len(inputs.gauges)} gauges, {len(inputs.forecasts)} forecasts, {len(inputs.rain)} rain "
              f"sensors (72 h), {len(inputs.stations)} stations, {len(inputs.findings)} fire findings", flush=True)
        steps.start(f"rescoring with a new FWI day, best of {repeat}")
        whole = best_time(lambda: score_grid(grid, inputs, now=now, tz=TZ), repeat)
        steps.start(f"rescoring with per-cell FWI reused, best of {repeat}")
        memo = FireWeatherMemo()
        score_grid(grid, inputs, now=now, tz=TZ, memo=memo)
        warm = best_time(lambda: score_grid(grid, inputs, now=now, tz=TZ, memo=memo), repeat)
        steps.start(f"changes, nothing published yet, best of {repeat}")
        scores = score_grid(grid, inputs, now=now, tz=TZ)
        first = best_time(lambda: (changes(grid, None, scores.flood), changes(grid, None, scores.fire)), repeat)
        published = (changes(grid, None, scores.flood)[1], changes(grid, None, scores.fire)[1])
        n_first = len(changes(grid, None, scores.flood)[0]) + len(changes(grid, None, scores.fire)[0])
        steps.start(f"changes, nothing changed, best of {repeat}")
        steady = best_time(lambda: (changes(grid, published[0], scores.flood),
                                    changes(grid, published[1], scores.fire)), repeat)
    print(f"rescoring (flood + fire, whole grid): {whole * 1000:.0f} ms with a new FWI day at some station, "
          f"{warm * 1000:.0f} ms otherwise (per-cell FWI reused)")
    print(f"  limit: {WHOLE_GRID_BUDGET_S:.1f} s budget -> {'ok' if whole < WHOLE_GRID_BUDGET_S else 'TOO SLOW'}; "
          f"rescoring interval {interval:.1f} s -> {warm / interval:.1%} (at worst {whole / interval:.1%}) "
          f"of one worker")
    print(f"changes: nothing published yet {first * 1000:.0f} ms ({n_first} cell risks to publish); "
          f"nothing changed {steady * 1000:.1f} ms (0 to publish)")
    return 0
