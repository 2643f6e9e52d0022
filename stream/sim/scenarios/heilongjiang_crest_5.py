"""Scenario ``heilongjiang-crest-5``: the season's fifth flood crest of the Heilongjiang.

A storm between Kaikukang and Oupu sends a flood wave into the main stem at
Oupu, the upstream gauge where it enters (already rising when the scenario
starts; its crest 1.5 days in, above the record stage there); it passes Huma (above the guaranteed
stage), Sandaoka and Dawujiazi, reaches Heihe about 4.5 days later (above the
warning stage) and goes on towards Xunke. The Fabiela carries a modest wave of
its own that joins the main stem at Heihe on the rising limb there; the gauges
above Oupu and every other tributary stay at their base level. All 40 sample
gauges report every 15 minutes.

The truth is routed with the configured reaches' X but a K 8 % longer, plus
the unannounced Fabiela wave, so that forecasts made with the configuration
are not handed the answer. Reading faults, all seeded:

- Gaussian noise (1 cm) on every reading;
- one +2 m single-reading spike at hlj-huma on the rising limb;
- a 4-hour outage at hlj-heihe on the rising limb;
- 3 % of readings arrive 20-50 minutes late (out of order).

``readings(start, seed)`` yields :class:`~stream.schemas.WaterLevel` sorted by
arrival time (``arrival_times`` gives those times); ``true_stages`` and
``true_crest`` give the noise-free truth the tests compare forecasts with;
``ground_truth`` the flood alerts a drill should raise: one for every gauge
whose true stage passes its warning stage and that controls grid cells,
touching those cells, raised before the true crest arrives there.
Stages are SAMPLE values on the sample gauges' datums.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from gis.hydro.config import HydroConfig, load_config
from gis.hydro.crests import Point
from gis.hydro.muskingum import route_reach
from stream.schemas import Hazard, WaterLevel
from stream.sim.scenarios.truth import Expected, GroundTruth

NAME = "heilongjiang-crest-5"
SOURCE = f"sim:{NAME}"
RIVER = "heilongjiang"
PRIOR_CRESTS = 4
"""Crests already numbered on the Heilongjiang this season: this wave is No. 5."""
DURATION = timedelta(hours=216)
CADENCE = timedelta(minutes=15)
ENTRY_GAUGE = "hlj-oupu"
K_FACTOR = 1.08
"""True reach K relative to the configured one."""
BASE_FRACTION = 0.45
"""Base flow as a fraction of the flow at the warning stage."""
SPIKE = ("hlj-huma", timedelta(hours=62), 2.0)
OUTAGE = ("hlj-heihe", timedelta(hours=110), timedelta(hours=4))
LATE_SHARE = 0.03
NOISE_M = 0.01


@dataclass(frozen=True, slots=True)
class _Wave:
    peak_h: float
    rise_h: float
    fall_h: float
    peak_m3s: float

    def at(self, hours: np.ndarray) -> np.ndarray:
        width = np.where(hours < self.peak_h, self.rise_h, self.fall_h)
        return self.peak_m3s * np.exp(-(((hours - self.peak_h) / width) ** 2))


ENTRY_WAVE = _Wave(peak_h=36.0, rise_h=28.0, fall_h=48.0, peak_m3s=11000.0)
FABIELA_WAVE = _Wave(peak_h=120.0, rise_h=10.0, fall_h=16.0, peak_m3s=500.0)


def true_stages(config: HydroConfig | None = None) -> dict[str, np.ndarray]:
    """Noise-free stage of every gauge on the hourly grid ``0 .. DURATION`` (hours from start)."""
    config = config or load_config()
    n = int(DURATION / timedelta(hours=config.dt_h)) + 1
    hours = np.arange(n) * config.dt_h
    excess: dict[str, np.ndarray] = {g: np.zeros(n) for g in config.gauges}
    excess["fbl-xinsheng"] = FABIELA_WAVE.at(hours + 14.3)  # upstream of Kalunshan by its reach's K
    excess["fbl-kalun"] = FABIELA_WAVE.at(hours)
    excess[ENTRY_GAUGE] = ENTRY_WAVE.at(hours)
    # Route the entry wave down the main stem, adding the Fabiela where it joins (at Heihe).
    flow = excess[ENTRY_GAUGE]
    for reach in config.network.chain(ENTRY_GAUGE):
        assert reach.k_h is not None, reach
        flow = np.asarray(route_reach(list(flow), reach.k_h * K_FACTOR, reach.x, config.dt_h))
        if reach.downstream == "hlj-heihe":
            lag = config.network.reaches["fbl-kalun"].travel_h
            flow = flow + np.interp(hours - lag, hours, excess["fbl-kalun"], left=0.0)
        excess[reach.downstream] = flow
    stages: dict[str, np.ndarray] = {}
    for gauge_id, gauge in config.gauges.items():
        curve = config.ratings[gauge_id]
        base = BASE_FRACTION * curve.flow(gauge.warning_m)
        stages[gauge_id] = np.array([curve.stage(base + q) for q in excess[gauge_id]])
    return stages


def true_crest(gauge_id: str, start: datetime, config: HydroConfig | None = None) -> Point:
    """The noise-free crest of the wave at a gauge (parabolic peak of the hourly truth)."""
    config = config or load_config()
    s = true_stages(config)[gauge_id]
    i = int(np.argmax(s))
    y0, y1, y2 = s[i - 1], s[i], s[i + 1]
    offset = 0.5 * (y0 - y2) / (y0 - 2 * y1 + y2)
    return Point(start + timedelta(hours=(i + offset) * config.dt_h), float(y1 - 0.25 * (y0 - y2) * offset))


def ground_truth(start: datetime, seed: int = 7, config: HydroConfig | None = None) -> GroundTruth:
    """A flood alert for each gauge the wave takes over its warning stage, on the cells it controls, raised by the
    true crest there (the report measures each alert's lead time to it)."""
    from gis.registry import load_cells

    config = config or load_config()
    stages = true_stages(config)
    controlled: dict[str, list[str]] = {}
    for cell in load_cells():
        if cell.gauge_id:
            controlled.setdefault(cell.gauge_id, []).append(cell.cell_code)
    expected = []
    for gauge_id, gauge in sorted(config.gauges.items()):
        cells = sorted(controlled.get(gauge_id, ()))
        if stages[gauge_id].max() < gauge.warning_m or not cells:
            continue
        crest = true_crest(gauge_id, start, config)
        what = f"Flood in the cells of gauge {gauge.name} (crest {crest.stage:.2f} m, warning {gauge.warning_m} m)"
        expected.append(Expected(f"flood-{gauge_id}", Hazard.FLOOD, cells[0][:6], crest.time, what,
                                 cells=tuple(cells), crest_at=crest.time))
    return GroundTruth(NAME, start, seed, tuple(expected), frozenset({Hazard.FLOOD}))


def readings(start: datetime, seed: int = 7, config: HydroConfig | None = None) -> Iterator[WaterLevel]:
    """Every gauge's readings over the scenario, in arrival order (deterministic for a seed)."""
    for _, level in _timeline(start, seed, config):
        yield level


def arrival_times(start: datetime, seed: int = 7, config: HydroConfig | None = None) -> Iterator[tuple[datetime, WaterLevel]]:
    """(arrival time, reading) pairs in arrival order; drills replay at these times."""
    return iter(_timeline(start, seed, config))


def _timeline(start: datetime, seed: int, config: HydroConfig | None) -> list[tuple[datetime, WaterLevel]]:
    if start.tzinfo is None:
        raise ValueError(f"start must be time-zone aware, got {start!r}")
    config = config or load_config()
    rng = random.Random(seed)
    truth = true_stages(config)
    grid_h = np.arange(len(next(iter(truth.values())))) * config.dt_h
    steps = int(DURATION / CADENCE)
    out: list[tuple[datetime, WaterLevel]] = []
    for gauge_id in sorted(truth):
        times_h = np.arange(steps + 1) * (CADENCE / timedelta(hours=1))
        stages = np.interp(times_h, grid_h, truth[gauge_id])
        for h, stage in zip(times_h, stages):
            offset = timedelta(hours=float(h))
            if gauge_id == OUTAGE[0] and OUTAGE[1] <= offset < OUTAGE[1] + OUTAGE[2]:
                continue
            value = float(stage) + rng.gauss(0.0, NOISE_M)
            if gauge_id == SPIKE[0] and offset == SPIKE[1]:
                value += SPIKE[2]
            event_time = start + offset
            delay = rng.uniform(20, 50) if rng.random() < LATE_SHARE else rng.uniform(0, 2)
            level = WaterLevel(source=SOURCE, event_time=event_time, gauge_id=gauge_id, stage_m=round(value, 3))
            out.append((event_time + timedelta(minutes=delay), level))
    out.sort(key=lambda pair: (pair[0], pair[1].gauge_id))
    return out
