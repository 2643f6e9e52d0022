"""The scripted flood rise of `amur bench fleet`: claims changing while the sampler runs, and what it achieved.

:func:`flood_rise` is what the risk and incident agents send while a flood
rises along a reach: cells turning orange then red camera after camera, the
incident extending over the red ones, and meanwhile a stream of incident
updates re-colouring its cameras between 99 and 100 (issue 23's churn, about
ten a second). :class:`Dispatches` watches the sampler's schedule and
:func:`achieved` sums up, per claim level, the intervals the claimed cameras
got beside the ones they were planned at.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from math import inf, isnan, nan

from stream.cameras.sampler import TICK_S
from vision.schedule import LATE_FACTOR, Scheduler

INCIDENT = "231102-flood-bench"
LEVELS = ("incident 100", "red cell 80", "orange cell 50", "unclaimed")


@dataclass(frozen=True, order=True)
class ScriptedClaim:
    at_s: float
    """Seconds after the rise began."""
    camera_id: str
    priority: float
    reason: str


def flood_rise(cameras: Sequence[str], cell_of: Mapping[str, str], seconds: float, *, churn_per_s: float = 10.0,
               seed: int = 23) -> list[ScriptedClaim]:
    """The claims of a flood rising along ``cameras`` (in river order) over ``seconds``, in time order.

    First third: each camera's cell turns orange (50), one camera after the other;
    second third: red (80), and a ninth of the rise later the incident raised at the
    first red cell extends to that camera (100); from then on ``churn_per_s``
    incident updates a second re-colour a random camera of the incident to 99 or 100.
    """
    third, lag, n = seconds / 3, seconds / 9, len(cameras)
    script: list[ScriptedClaim] = []
    for i, camera in enumerate(cameras):
        cell = cell_of[camera]
        orange, red = third * i / n, third * (1 + i / n)
        script += [ScriptedClaim(orange, camera, 50.0, f"cell {cell}/flood orange"),
                   ScriptedClaim(red, camera, 80.0, f"cell {cell}/flood red"),
                   ScriptedClaim(red + lag, camera, 100.0, f"incident {INCIDENT} red")]
    rnd = random.Random(seed)
    for k in range(int(churn_per_s * (seconds - third - lag))):
        at = third + lag + k / churn_per_s
        joined = [c for i, c in enumerate(cameras) if third * (1 + i / n) + lag < at]
        if joined:
            script.append(ScriptedClaim(at, rnd.choice(joined), rnd.choice([99.0, 100.0]), f"incident {INCIDENT} red"))
    return sorted(script)


@dataclass(frozen=True)
class Sample:
    camera_id: str
    at: float
    """Dispatch time (POSIX s, the schedule's ``last``)."""
    gap_s: float | None
    """Since the camera's previous sample in the phase (None for its first)."""
    planned_s: float
    """The longest interval the camera was planned at during that gap."""
    priority: float
    """The camera's priority when it was sampled."""


@dataclass
class Dispatches:
    """Every sample of the watched cameras, read from the schedule (``Scheduler.last`` changes on each dispatch),
    and how long each camera spent at each claim level."""

    scheduler: Scheduler
    watched: list[str]
    samples: list[Sample] = field(default_factory=list)
    seconds_at: dict[str, dict[str, float]] = field(default_factory=dict)
    """claim level -> camera -> seconds it spent at that level."""
    _seen: dict[str, float | None] = field(default_factory=dict)
    _longest: dict[str, float] = field(default_factory=dict)
    _sampled: set[str] = field(default_factory=set)
    _polled: float | None = None

    def __post_init__(self) -> None:
        self._seen = {c: self.scheduler.last.get(c) for c in self.watched}
        self._longest = {c: self.scheduler.intervals.get(c, 0.0) for c in self.watched}

    def poll(self, now: float) -> None:
        """Call at least once per sampler tick (``now``: the sampler's clock): a camera is never sampled
        twice within one."""
        elapsed = 0.0 if self._polled is None else now - self._polled
        self._polled = now
        for camera in self.watched:
            priority = self.scheduler.priorities.get(camera, 0.0)
            at = self.seconds_at.setdefault(claim_level(priority), {})
            at[camera] = at.get(camera, 0.0) + elapsed
            last, seen = self.scheduler.last.get(camera), self._seen[camera]
            planned = max(self._longest[camera], self.scheduler.intervals.get(camera, 0.0))
            if last is not None and last != seen:
                gap = last - seen if seen is not None and camera in self._sampled else None
                self.samples.append(Sample(camera, last, gap, planned, priority))
                self._sampled.add(camera)
                self._seen[camera], self._longest[camera] = last, self.scheduler.intervals.get(camera, 0.0)
            else:
                self._longest[camera] = planned


@dataclass(frozen=True)
class Achieved:
    """What the cameras of one claim level got during one phase."""

    phase: str
    claim: str
    cameras: int
    samples: int
    planned_s: float
    """Median planned interval."""
    per_camera_s: float
    """Camera-seconds spent at this level over the samples taken at it: the achieved interval, whether or not
    a camera was sampled twice."""
    p50_s: float
    p95_s: float
    max_s: float
    """Achieved intervals between two samples of a camera within the phase (nan when none was sampled twice)."""
    over_bound: int
    """Intervals longer than LATE_FACTOR x planned + burst (the stated starvation bound)."""

    def cells(self) -> list[str]:
        return [self.phase, self.claim, f"{self.cameras}", f"{self.samples}", f"{self.planned_s:.1f}",
                f"{self.per_camera_s:.1f}", f"{_s(self.p50_s)} / {_s(self.p95_s)} / {_s(self.max_s)}",
                f"{self.over_bound}"]

    def line(self) -> str:
        return (f"{self.phase:<5} {self.claim:<14} cameras {self.cameras:4d}  samples {self.samples:5d}"
                f"  planned {self.planned_s:5.1f} s  achieved {self.per_camera_s:6.1f} s per camera"
                f"  interval p50 {_s(self.p50_s):>5} p95 {_s(self.p95_s):>5} max {_s(self.max_s):>5} s"
                f"  over bound {self.over_bound}")


def _s(seconds: float) -> str:
    """Seconds to one decimal; a dash when no camera was sampled twice."""
    return "-" if isnan(seconds) else f"{seconds:.1f}"


def claim_level(priority: float) -> str:
    if priority >= 99.0:
        return "incident 100"
    return "red cell 80" if priority >= 80.0 else "orange cell 50" if priority >= 50.0 else "unclaimed"


def achieved(phase: str, dispatches: Dispatches, burst_s: float) -> list[Achieved]:
    """One row per claim level a watched camera spent time at (its priority when sampled, for the samples)."""
    rows = []
    for level in LEVELS:
        seconds = {c: t for c, t in dispatches.seconds_at.get(level, {}).items() if t > 0}
        if not seconds:
            continue
        samples = [s for s in dispatches.samples if claim_level(s.priority) == level]
        gaps = sorted(s.gap_s for s in samples if s.gap_s is not None)
        planned = [s.planned_s for s in samples] or [dispatches.scheduler.intervals.get(c, nan) for c in seconds]
        rows.append(Achieved(
            phase=phase, claim=level, cameras=len(seconds), samples=len(samples), planned_s=statistics.median(planned),
            per_camera_s=sum(seconds.values()) / len(samples) if samples else inf,
            p50_s=statistics.median(gaps) if gaps else nan, p95_s=_p95(gaps), max_s=gaps[-1] if gaps else nan,
            over_bound=sum(1 for s in samples
                           if s.gap_s is not None and s.gap_s > LATE_FACTOR * s.planned_s + burst_s + TICK_S)))
    return rows


def _p95(values: list[float]) -> float:
    if len(values) < 2:
        return values[0] if values else nan
    return statistics.quantiles(values, n=20, method="inclusive")[18]
