"""Downstream crest forecasts: arrival time and stage at every gauge below a crest.

For a crest seen at gauge A (stage series observed up to ``now``):

1. A's stages become flows through A's rating; the part of the wave not yet
   observed is extrapolated as the mirror image of the rise (scaled to meet the
   last observation), starting from the trough the rise started from.
2. Only the wave's *excess* flow over that trough is routed, reach by reach
   (Muskingum with sub-reaches, or a pure lag where only the travel time is
   configured), so tributaries and lateral inflow do not need to be known.
3. At each downstream gauge B the excess is added to B's own flow before the wave
   (observed, through B's rating) and, once the wave has begun to arrive at B,
   taken from B's latest reading before the wave had added a fifth of its
   peak there; as B's readings come in, that base follows B's tributaries and
   lateral inflow. The peak of that hydrograph is the forecast crest; B's
   rating turns it back into a stage.
4. The band is +-``z`` standard deviations, accumulated over the reaches
   (arrival in hours, flow as a fraction of the routed excess).

Gauges without a rating or any reading are skipped (routing goes on below
them). A forecast whose arrival is already past stays in the list: the crest
is passing there but not yet confirmed; the caller knows which gauges have
confirmed it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from gis.hydro.config import HydroConfig
from gis.hydro.crests import Crest, Point
from gis.hydro.errors import HydroError
from gis.hydro.muskingum import route_reach
from gis.hydro.network import Reach


@dataclass(frozen=True, slots=True)
class GaugeForecast:
    """When and how high an upstream crest will pass one downstream gauge."""

    gauge_id: str
    from_gauge_id: str
    issued_at: datetime
    arrival: datetime
    arrival_low: datetime
    arrival_high: datetime
    stage: float
    stage_low: float
    stage_high: float
    flow: float

    def lead_time_h(self, now: datetime) -> float:
        return (self.arrival - now).total_seconds() / 3600.0


def forecast_downstream(
    config: HydroConfig,
    from_gauge_id: str,
    crest: Crest,
    upstream: Sequence[Point],
    downstream: Mapping[str, Sequence[Point]],
    now: datetime,
    z: float = 2.0,
    horizon_h: float = 240.0,
    same_river: bool = True,
) -> tuple[GaugeForecast, ...]:
    """Forecasts at every gauge below ``from_gauge_id`` within the horizon.

    With ``same_river`` (the default) the forecasts stop where the river joins
    another: there a tributary's wave is lateral inflow, which the receiving
    river's forecasts pick up through their correction by observed flow.

    ``upstream`` are A's (smoothed) stages, ``downstream`` the stages seen so far at
    the gauges below; only points at or before ``now`` are used.
    """
    rating = config.ratings.get(from_gauge_id)
    if rating is None:
        raise HydroError(f"no rating curve for gauge {from_gauge_id!r}: cannot forecast from it")
    chain = config.network.chain(from_gauge_id)
    if same_river:
        river = config.gauges[from_gauge_id].river
        chain = tuple(_until_river_changes(chain, config, river))
    seen = sorted((p for p in upstream if p.time <= now), key=lambda p: p.time)
    if not chain or not seen:
        return ()
    dt = config.dt_h
    t0 = crest.rise_start
    span_h = 2 * _hours(crest.time - t0) + 1.5 * sum(r.travel_h for r in chain) + 24.0
    n = int(math.ceil(min(span_h, horizon_h + _hours(now - t0)) / dt)) + 1
    grid_h = np.arange(n) * dt
    base_flow = rating.flow(crest.rise_start_stage)
    excess = _upstream_flow(seen, crest, t0, grid_h, rating.flow) - base_flow

    out: list[GaugeForecast] = []
    arrival_var = flow_var = travel = 0.0
    for reach in chain:
        excess = _route(reach, excess, dt)
        travel += reach.travel_h
        arrival_var += reach.arrival_sd_h**2
        flow_var += reach.flow_sd**2
        fc = _at_gauge(config, reach, excess, grid_h, t0, downstream.get(reach.downstream, ()), now)
        if fc is None:
            continue
        peak_h, base, peak_excess = float(fc[0]), float(fc[1]), float(fc[2])
        arrival = t0 + timedelta(hours=peak_h)
        curve = config.ratings[reach.downstream]
        half_t = timedelta(hours=z * math.sqrt(arrival_var))
        rel = z * math.sqrt(flow_var)
        out.append(GaugeForecast(
            gauge_id=reach.downstream,
            from_gauge_id=from_gauge_id,
            issued_at=now,
            arrival=arrival,
            arrival_low=arrival - half_t,
            arrival_high=arrival + half_t,
            stage=curve.stage(max(0.0, base + peak_excess)),
            stage_low=curve.stage(max(0.0, base + peak_excess * (1 - rel))),
            stage_high=curve.stage(max(0.0, base + peak_excess * (1 + rel))),
            flow=base + peak_excess,
        ))
    return tuple(out)


def forecast_changed(old: GaugeForecast, new: GaugeForecast, stage_tol: float = 0.05,
                     time_tol: timedelta = timedelta(hours=1)) -> bool:
    """Whether a re-issued forecast differs enough to publish an update."""
    return (
        old.from_gauge_id != new.from_gauge_id
        or abs(old.stage - new.stage) > stage_tol
        or abs(old.arrival - new.arrival) > time_tol
    )


# --------------------------------------------------------------------------- internals

#: A downstream reading taken while the routed wave adds at most this share of its peak
#: still tells B's own flow (tributaries, lateral inflow) rather than the wave's timing.
_QUIET_SHARE = 0.2


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600.0


def _upstream_flow(
    seen: list[Point], crest: Crest, t0: datetime, grid_h: np.ndarray, flow: Callable[[float], float]
) -> np.ndarray:
    """Observed flow on the grid, then the mirrored rise scaled to meet the last observation."""
    obs_h = np.array([_hours(p.time - t0) for p in seen])
    obs_q = np.array([flow(p.stage) for p in seen])
    base_q = flow(crest.rise_start_stage)
    crest_h = _hours((crest.centre or crest.time) - t0)  # the filtered top's middle, not a noisy reading's time
    last_h = obs_h[-1]

    def mirror(h: np.ndarray) -> np.ndarray:
        back = 2 * crest_h - h
        return np.where(back >= 0, np.interp(back, obs_h, obs_q, left=base_q), base_q)

    q = np.interp(grid_h, obs_h, obs_q, left=base_q)
    future = grid_h > last_h
    if future.any():
        at_last = float(mirror(np.array([last_h]))[0])
        scale = (obs_q[-1] - base_q) / (at_last - base_q) if at_last - base_q > 1e-9 else 1.0
        scale = min(max(scale, 0.0), 2.0)
        q = np.where(future, base_q + (mirror(grid_h) - base_q) * scale, q)
    return q


def _until_river_changes(chain: tuple[Reach, ...], config: HydroConfig, river: str) -> Iterator[Reach]:
    for reach in chain:
        if config.gauges[reach.downstream].river != river:
            return
        yield reach


def _route(reach: Reach, excess: np.ndarray, dt: float) -> np.ndarray:
    if reach.k_h is not None:
        return np.asarray(route_reach(list(excess), reach.k_h, reach.x, dt))
    shift_h = reach.lag_h or 0.0
    h = np.arange(len(excess)) * dt
    return np.interp(h - shift_h, h, excess, left=excess[0])


def _at_gauge(
    config: HydroConfig,
    reach: Reach,
    excess: np.ndarray,
    grid_h: np.ndarray,
    t0: datetime,
    observed: Sequence[Point],
    now: datetime,
) -> tuple[float, float, float] | None:
    """(peak hour on the grid, base flow incl. correction, peak excess) or None if unusable."""
    curve = config.ratings.get(reach.downstream)
    seen = sorted((p for p in observed if p.time <= now), key=lambda p: p.time)
    if curve is None or not seen:
        return None
    # B's own flow without the wave: from its latest reading taken before the wave had added
    # a fifth of its peak there (less what the wave had added by then).
    obs_h = np.array([_hours(p.time - t0) for p in seen])
    added = np.interp(obs_h, grid_h, excess, left=0.0)
    quiet = np.nonzero(added <= _QUIET_SHARE * float(excess.max()))[0]
    j = int(quiet[-1]) if len(quiet) else 0
    base = curve.flow(seen[j].stage) - float(added[j])
    i = int(np.argmax(excess))
    if i == len(excess) - 1:
        return None  # still rising at the end of the horizon: no crest to forecast yet
    peak_h = float(grid_h[i])
    if 0 < i < len(excess) - 1:  # parabola through the three points around the maximum
        y0, y1, y2 = excess[i - 1], excess[i], excess[i + 1]
        denom = y0 - 2 * y1 + y2
        if denom < 0:
            offset = 0.5 * (y0 - y2) / denom
            peak_h += offset * (grid_h[1] - grid_h[0])
            return peak_h, base, float(y1 - 0.25 * (y0 - y2) * offset)
    return peak_h, base, float(excess[i])
