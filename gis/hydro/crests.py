"""Crest detection at one gauge: an incremental, pure state machine in event time.

``step(state, reading, params) -> (state, crests)`` is all the stream needs: the
state is a frozen dataclass (msgspec can encode it into a Faust table) and the
same function drives the batch :func:`detect_crests` used by ``amur hydro crests``.

How a reading travels through it:

1. **Reorder buffer.** Readings wait in ``pending`` until the newest event time
   seen is ``lateness`` past them; then they are final, in time order. A reading
   at or before the last final time is too late: it is dropped and counted.
   A second reading at a pending time replaces the first (a correction).
2. **Spike filter.** Final readings pass a running median of ``median_window``
   (3 by default), which removes any single-reading spike.
3. **Turning points with hysteresis** (a zig-zag over the smoothed stage). While
   rising, the highest point since the trough is the candidate crest; it is
   reported once the stage has fallen ``hysteresis`` below it, if it stands at
   least ``prominence`` above the trough the rise started from. A new rise only
   begins when the stage climbs ``hysteresis`` above the lowest point after a
   crest, so noise around a crest never reports it twice.

``prominence`` of a reported crest is its height above that trough (the rise of
the wave); ``rise_start`` is the trough's time. The median clips a sharp
maximum to its higher neighbour, over three equal points: the crest's time is
the middle of such a flat top, its stage the clipped value. Units are whatever
the stage is in (metres on the wire). Gaps need no special case: comparisons
only use stage order, and the rate of rise divides by the real time between
points.
"""

from __future__ import annotations

import enum
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from gis.hydro.errors import HydroError
from stream.schemas import TrendState


@dataclass(frozen=True, slots=True)
class Point:
    """One stage at one event time."""

    time: datetime
    stage: float


@dataclass(frozen=True, slots=True)
class CrestParams:
    """Tuning of the detector (units of the stage, hours for rates)."""

    prominence: float = 0.30
    """Minimum rise above the trough before it for a maximum to count as a crest."""
    hysteresis: float = 0.10
    """Fall below a crest that confirms it, and rise above a trough that starts a new wave."""
    lateness: timedelta = timedelta(hours=1)
    """How long a reading may arrive after a later one and still be used."""
    median_window: int = 3
    """Odd number of readings in the running median (3 removes single-reading spikes)."""
    rate_window: timedelta = timedelta(hours=3)
    """Span of the least-squares slope that gives the rate of rise."""
    steady_rate: float = 0.01
    """|rate| below this per hour is STEADY."""

    def __post_init__(self) -> None:
        if self.prominence <= 0:
            raise HydroError(f"prominence must be > 0, got {self.prominence!r}")
        if not 0 < self.hysteresis <= self.prominence:
            raise HydroError(f"hysteresis must be in (0, prominence={self.prominence}], got {self.hysteresis!r}")
        if self.median_window < 1 or self.median_window % 2 == 0:
            raise HydroError(f"median_window must be a positive odd number, got {self.median_window!r}")
        if self.lateness < timedelta(0):
            raise HydroError(f"lateness must be >= 0, got {self.lateness!r}")


class Phase(enum.StrEnum):
    RISING = "rising"
    """Looking for a crest: ``extreme`` is the highest point since ``base``."""
    FALLING = "falling"
    """After a crest: ``extreme`` is the lowest point since it."""


@dataclass(frozen=True, slots=True)
class Crest:
    """A confirmed crest."""

    time: datetime
    stage: float
    prominence: float
    rise_start: datetime
    rise_start_stage: float
    confirmed_at: datetime
    """Event time of the reading that confirmed it (its detection delay is this - time)."""


@dataclass(frozen=True, slots=True)
class CrestState:
    """Everything the detector remembers about one gauge."""

    pending: tuple[Point, ...] = ()
    raw_tail: tuple[Point, ...] = ()
    """The last final readings (median_window - 1 of them)."""
    smooth: tuple[Point, ...] = ()
    """Smoothed points within rate_window of the newest one."""
    phase: Phase = Phase.RISING
    base: Point | None = None
    extreme: Point | None = None
    extreme_until: datetime | None = None
    """End of a flat top at ``extreme`` (the median turns a sharp maximum into three equal points)."""
    final_time: datetime | None = None
    newest_time: datetime | None = None
    late_dropped: int = 0


@dataclass(frozen=True, slots=True)
class Trend:
    """The gauge's latest smoothed stage and how fast it moves."""

    time: datetime
    stage: float
    rate_per_h: float
    state: TrendState


def step(state: CrestState, reading: Point, params: CrestParams) -> tuple[CrestState, tuple[Crest, ...]]:
    """Take one reading (in any arrival order); return the new state and crests confirmed by it."""
    if state.final_time is not None and reading.time <= state.final_time:
        return replace(state, late_dropped=state.late_dropped + 1), ()
    pending = tuple(p for p in state.pending if p.time != reading.time) + (reading,)
    pending = tuple(sorted(pending, key=lambda p: p.time))
    newest = reading.time if state.newest_time is None else max(state.newest_time, reading.time)
    cutoff = newest - params.lateness
    ready = tuple(p for p in pending if p.time <= cutoff)
    state = replace(state, pending=pending[len(ready):], newest_time=newest)
    return _finalize(state, ready, params)


def flush(state: CrestState, params: CrestParams) -> tuple[CrestState, tuple[Crest, ...]]:
    """Make every pending reading final (end of a batch or of a drill)."""
    return _finalize(replace(state, pending=()), state.pending, params)


def detect_crests(points: Iterable[Point], params: CrestParams) -> list[Crest]:
    """All crests of a whole series (any order), as the stream would report them."""
    state = CrestState()
    found: list[Crest] = []
    for point in points:
        state, crests = step(state, point, params)
        found.extend(crests)
    state, crests = flush(state, params)
    found.extend(crests)
    return found


def trend(state: CrestState, params: CrestParams) -> Trend | None:
    """Latest smoothed stage, least-squares rate of rise (per hour) and its direction."""
    if not state.smooth:
        return None
    return _trend_of(state.smooth, params)


def provisional_trend(state: CrestState, params: CrestParams) -> Trend | None:
    """The trend including readings still waiting out the lateness allowance.

    Threshold colours must not wait an hour for late readings that rarely come,
    so the newest point is the running median of the newest ``median_window``
    readings (a single spike still cannot move it); crest detection keeps using
    final readings only. Falls back to :func:`trend` until enough readings exist.
    """
    readings = state.raw_tail + state.pending
    w = params.median_window
    if len(readings) < w or not state.pending:
        return trend(state, params)
    provisional = tuple(Point(readings[i + w // 2].time, statistics.median(p.stage for p in readings[i:i + w]))
                        for i in range(len(readings) - w + 1))
    newest = provisional[-1].time
    settled = tuple(p for p in state.smooth if p.time < provisional[0].time)
    return _trend_of(tuple(p for p in settled + provisional if p.time >= newest - params.rate_window), params)


def _trend_of(points: tuple[Point, ...], params: CrestParams) -> Trend:
    last = points[-1]
    rate = _slope_per_h(points)
    if rate > params.steady_rate:
        direction = TrendState.RISING
    elif rate < -params.steady_rate:
        direction = TrendState.FALLING
    else:
        direction = TrendState.STEADY
    return Trend(time=last.time, stage=last.stage, rate_per_h=rate, state=direction)


# --------------------------------------------------------------------------- internals

#: Stages closer than this are one flat top (float noise of analytic or converted series).
_TIE = 1e-9


def _finalize(
    state: CrestState, ready: tuple[Point, ...], params: CrestParams
) -> tuple[CrestState, tuple[Crest, ...]]:
    crests: list[Crest] = []
    for point in ready:
        tail = state.raw_tail + (point,)
        state = replace(state, raw_tail=tail[-(params.median_window - 1) :] if params.median_window > 1 else (),
                        final_time=point.time)
        if len(tail) < params.median_window:
            continue
        middle = tail[len(tail) // 2]
        smoothed = Point(middle.time, statistics.median(p.stage for p in tail))
        state, crest = _turn(state, smoothed, point.time, params)
        horizon = smoothed.time - params.rate_window
        state = replace(state, smooth=tuple(p for p in state.smooth if p.time >= horizon) + (smoothed,))
        if crest is not None:
            crests.append(crest)
    return state, tuple(crests)


def _turn(
    state: CrestState, point: Point, confirmed_at: datetime, params: CrestParams
) -> tuple[CrestState, Crest | None]:
    """Advance the zig-zag by one smoothed point."""
    base, extreme = state.base, state.extreme
    if base is None or extreme is None:
        return replace(state, base=point, extreme=point, phase=Phase.RISING), None
    if state.phase is Phase.RISING:
        if point.stage > extreme.stage + _TIE:
            return replace(state, extreme=point, extreme_until=None), None
        if point.stage >= extreme.stage - _TIE:
            return replace(state, extreme_until=point.time), None
        if point.stage < base.stage:
            return replace(state, base=point, extreme=point, extreme_until=None), None
        rise = extreme.stage - base.stage
        if rise >= params.prominence and point.stage <= extreme.stage - params.hysteresis:
            top_end = state.extreme_until or extreme.time
            crest = Crest(
                time=extreme.time + (top_end - extreme.time) / 2,
                stage=extreme.stage,
                prominence=rise,
                rise_start=base.time,
                rise_start_stage=base.stage,
                confirmed_at=confirmed_at,
            )
            return replace(state, phase=Phase.FALLING, extreme=point, extreme_until=None), crest
        return state, None
    # FALLING: follow the recession down; a rise of `hysteresis` off its lowest point starts a wave.
    if point.stage < extreme.stage:
        return replace(state, extreme=point), None
    if point.stage >= extreme.stage + params.hysteresis:
        return replace(state, phase=Phase.RISING, base=extreme, extreme=point, extreme_until=None), None
    return state, None


def _slope_per_h(points: tuple[Point, ...]) -> float:
    if len(points) < 2:
        return 0.0
    t0 = points[0].time
    xs = [(p.time - t0).total_seconds() / 3600.0 for p in points]
    ys = [p.stage for p in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return 0.0
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
