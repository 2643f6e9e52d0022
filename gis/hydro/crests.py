"""Crest detection at one gauge: an incremental, pure state machine in event time.

A crest is a peak separated from every neighbouring peak at least as high by a
fall of at least ``prominence``: the topographic prominence of the peak in the
stage record (what :func:`scipy.signal.find_peaks` calls prominence;
:mod:`gis.hydro.offline` gives that answer for a whole record). A rise that
pauses and rises again before falling by the prominence is one crest, not two.

Online nobody can see the future, so a crest is told in up to three events
(:class:`CrestEvent`):

- ``DETECTED`` — the stage stands ``prominence`` above the trough it rose from
  and has fallen ``hysteresis`` below its top: the crest is announced early;
- ``REVISED`` — the water rose higher before the recession confirmed the crest:
  the same crest (same number downstream) gets a new time and stage, announced
  again once the stage has fallen ``hysteresis`` below the new top;
- ``CONFIRMED`` — the stage has fallen ``prominence`` below the top: the crest is
  final and is never revised again.

``step(state, reading, params) -> (state, events)`` is all the stream needs: the
state is a frozen dataclass (msgspec can encode it into a Faust table) and the
same function drives the batch :func:`crest_events` / :func:`detect_crests`.

How a reading travels through it:

1. **Reorder buffer.** Readings wait in ``pending`` until the newest event time
   seen is ``lateness`` past them; then they are final, in time order. A reading
   at or before the last final time is too late: it is dropped and counted.
   A second reading at a pending time replaces the first (a correction).
2. **Spike filter.** Final readings pass a running median of ``median_window``
   (3 by default), which removes any single-reading spike. Tops and troughs are
   found on this filtered stage.
3. **Turning points** (a zig-zag over the filtered stage) give the events above.
   Equal tops separated by a dip are one crest (the earlier), as are the
   readings of a flat top.

The reported crest is an **observed reading**: the first reading at the highest
stage among the readings that made the filtered top, leaving out any reading more
than ``spike`` above the filtered top (a spike). So a sharp real crest keeps its
observed stage and time; the median only decides where crests are.
``prominence`` of a reported crest is its rise above the trough the wave rose
from (filtered stage); ``rise_start`` is that trough's time. Units are whatever
the stage is in (metres on the wire). Gaps need no special case: comparisons only
use stage order, and the rate of rise divides by the real time between points.
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
    """Fall that separates two crests, and rise above the trough a crest needs."""
    hysteresis: float = 0.10
    """Fall below a top that announces it (early, before ``prominence`` confirms it)."""
    spike: float | None = None
    """A reading this far above the filtered top is a spike, never the crest (default: ``prominence``)."""
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
        if self.spike is not None and not self.spike > 0:
            raise HydroError(f"spike must be > 0, got {self.spike!r}")
        if self.median_window < 1 or self.median_window % 2 == 0:
            raise HydroError(f"median_window must be a positive odd number, got {self.median_window!r}")
        if self.lateness < timedelta(0):
            raise HydroError(f"lateness must be >= 0, got {self.lateness!r}")

    @property
    def spike_limit(self) -> float:
        return self.prominence if self.spike is None else self.spike


class Phase(enum.StrEnum):
    RISING = "rising"
    """Looking for a crest: ``extreme`` is the highest filtered point since ``base``."""
    ANNOUNCED = "announced"
    """A crest was announced; ``extreme`` is still the top, until it is confirmed or overtopped."""


class CrestEventKind(enum.StrEnum):
    DETECTED = "detected"
    REVISED = "revised"
    CONFIRMED = "confirmed"


@dataclass(frozen=True, slots=True)
class Crest:
    """A crest as announced (``final`` once the recession has confirmed it)."""

    time: datetime
    """Time of the observed reading reported as the crest."""
    stage: float
    """Stage of that reading."""
    prominence: float
    """Rise of the filtered stage above the trough the wave rose from."""
    rise_start: datetime
    rise_start_stage: float
    confirmed_at: datetime
    """Event time of the reading that produced this version (its delay is this - time)."""
    revision: int = 0
    """0 when first announced, n after the n-th revision."""
    centre: datetime | None = None
    """Middle of the filtered top: where forecasts mirror the rise (less noisy than an observed reading's time)."""
    final: bool = False
    """True once the stage has fallen ``prominence`` below the crest: no revision can follow."""


@dataclass(frozen=True, slots=True)
class CrestEvent:
    kind: CrestEventKind
    crest: Crest
    previous: Crest | None = None
    """The version this one replaces (REVISED, CONFIRMED)."""


@dataclass(frozen=True, slots=True)
class CrestState:
    """Everything the detector remembers about one gauge."""

    pending: tuple[Point, ...] = ()
    raw_tail: tuple[Point, ...] = ()
    """The last final readings (median_window - 1 of them)."""
    smooth: tuple[Point, ...] = ()
    """Filtered points within rate_window of the newest one."""
    phase: Phase = Phase.RISING
    base: Point | None = None
    """Lowest filtered point the current wave rose from."""
    extreme: Point | None = None
    """Highest filtered point since ``base`` (the top)."""
    top: Point | None = None
    """The observed reading reported for ``extreme``: first at the highest non-spike stage."""
    top_open: bool = False
    """The newest filtered point is on the top (a flat top may still grow)."""
    top_until: datetime | None = None
    """Time of the last filtered point of the flat top at ``extreme``."""
    announced: Crest | None = None
    """The crest as last announced (ANNOUNCED)."""
    final_time: datetime | None = None
    newest_time: datetime | None = None
    late_dropped: int = 0


@dataclass(frozen=True, slots=True)
class Trend:
    """The gauge's latest filtered stage and how fast it moves."""

    time: datetime
    stage: float
    rate_per_h: float
    state: TrendState


def step(state: CrestState, reading: Point, params: CrestParams) -> tuple[CrestState, tuple[CrestEvent, ...]]:
    """Take one reading (in any arrival order); return the new state and the events it caused."""
    if state.final_time is not None and reading.time <= state.final_time:
        return replace(state, late_dropped=state.late_dropped + 1), ()
    pending = tuple(p for p in state.pending if p.time != reading.time) + (reading,)
    pending = tuple(sorted(pending, key=lambda p: p.time))
    newest = reading.time if state.newest_time is None else max(state.newest_time, reading.time)
    cutoff = newest - params.lateness
    ready = tuple(p for p in pending if p.time <= cutoff)
    state = replace(state, pending=pending[len(ready):], newest_time=newest)
    return _finalize(state, ready, params)


def flush(state: CrestState, params: CrestParams) -> tuple[CrestState, tuple[CrestEvent, ...]]:
    """Make every pending reading final (end of a batch or of a drill)."""
    return _finalize(replace(state, pending=()), state.pending, params)


def crest_events(points: Iterable[Point], params: CrestParams) -> list[CrestEvent]:
    """Every event of a whole series (readings in any order), as the stream would publish them."""
    state = CrestState()
    found: list[CrestEvent] = []
    for point in points:
        state, events = step(state, point, params)
        found.extend(events)
    state, events = flush(state, params)
    found.extend(events)
    return found


def detect_crests(points: Iterable[Point], params: CrestParams) -> list[Crest]:
    """The crests of a whole series in their last version (``final`` tells which the recession confirmed)."""
    latest: list[Crest] = []
    for event in crest_events(points, params):
        if event.kind is CrestEventKind.DETECTED:
            latest.append(event.crest)
        else:
            latest[-1] = event.crest
    return latest


def trend(state: CrestState, params: CrestParams) -> Trend | None:
    """Latest filtered stage, least-squares rate of rise (per hour) and its direction."""
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


def top_reading(window: Iterable[Point], filtered_stage: float, spike: float) -> Point:
    """The reading of a median window reported for a filtered top: the first highest non-spike one.

    The median is one of the window's readings, so a reading no higher than the
    filtered stage always qualifies.
    """
    eligible = [p for p in window if p.stage <= filtered_stage + spike + _TIE]
    best = eligible[0]
    for p in eligible[1:]:
        if p.stage > best.stage + _TIE:
            best = p
    return best


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
) -> tuple[CrestState, tuple[CrestEvent, ...]]:
    events: list[CrestEvent] = []
    for point in ready:
        window = state.raw_tail + (point,)
        state = replace(state, raw_tail=window[-(params.median_window - 1):] if params.median_window > 1 else (),
                        final_time=point.time)
        if len(window) < params.median_window:
            continue
        filtered = Point(window[len(window) // 2].time, statistics.median(p.stage for p in window))
        reading = top_reading(window, filtered.stage, params.spike_limit)
        state, new = _turn(state, filtered, reading, point.time, params)
        horizon = filtered.time - params.rate_window
        state = replace(state, smooth=tuple(p for p in state.smooth if p.time >= horizon) + (filtered,))
        events.extend(new)
    return state, tuple(events)


def _turn(
    state: CrestState, point: Point, reading: Point, at: datetime, params: CrestParams
) -> tuple[CrestState, tuple[CrestEvent, ...]]:
    """Advance the zig-zag by one filtered point (``reading``: its best observed reading)."""
    base, extreme = state.base, state.extreme
    if base is None or extreme is None or state.top is None:
        return replace(state, base=point, extreme=point, top=reading, top_open=True, top_until=point.time,
                       phase=Phase.RISING), ()
    if point.stage > extreme.stage + _TIE:  # a new top (above an announced crest: a revision to come)
        return replace(state, extreme=point, top=reading, top_open=True, top_until=point.time), ()
    if point.stage >= extreme.stage - _TIE:
        if not state.top_open:  # as high as the top again after a dip: the same crest, the earlier top
            return state, ()
        top = reading if reading.stage > state.top.stage + _TIE else state.top
        return replace(state, top=top, top_until=point.time), ()
    state = replace(state, top_open=False)
    if state.phase is Phase.RISING:
        if point.stage < base.stage:
            return replace(state, base=point, extreme=point, top=reading, top_open=True, top_until=point.time), ()
        rise = extreme.stage - base.stage
        if rise < params.prominence or point.stage > extreme.stage - params.hysteresis:
            return state, ()
        crest = _crest(state, rise, at, revision=0)
        state = replace(state, phase=Phase.ANNOUNCED, announced=crest)
        events: tuple[CrestEvent, ...] = (CrestEvent(CrestEventKind.DETECTED, crest),)
    else:
        events = ()
    announced = state.announced
    assert announced is not None
    fall = extreme.stage - point.stage
    if (state.top.time, state.top.stage) != (announced.time, announced.stage) and fall >= params.hysteresis:
        revised = _crest(state, extreme.stage - base.stage, at, revision=announced.revision + 1)
        events += (CrestEvent(CrestEventKind.REVISED, revised, previous=announced),)
        state = replace(state, announced=revised)
        announced = revised
    if fall >= params.prominence:  # the recession confirms it; the next wave rises from here
        final = replace(announced, final=True, confirmed_at=at)
        events += (CrestEvent(CrestEventKind.CONFIRMED, final, previous=announced),)
        state = replace(state, phase=Phase.RISING, announced=None, base=point, extreme=point, top=reading,
                        top_open=True, top_until=point.time)
    return state, events


def _crest(state: CrestState, rise: float, at: datetime, revision: int) -> Crest:
    base, top, extreme = state.base, state.top, state.extreme
    assert base is not None and top is not None and extreme is not None
    until = state.top_until or extreme.time
    return Crest(time=top.time, stage=top.stage, prominence=rise, rise_start=base.time,
                 rise_start_stage=base.stage, confirmed_at=at, revision=revision,
                 centre=extreme.time + (until - extreme.time) / 2)


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
