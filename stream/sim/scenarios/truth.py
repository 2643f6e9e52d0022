"""A scenario's ground truth: what the pipeline should raise, where and by when (event time).

Each scripted scenario with a ground truth exposes ``ground_truth(start, seed)``
returning :class:`GroundTruth`; ``amur drill report`` checks a drill's incidents
against it (:mod:`stream.drills.report_data`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from stream.schemas import Hazard


@dataclass(frozen=True, slots=True)
class Expected:
    """One incident the scenario should raise: of ``hazard``, touching one of ``cells`` (or, with no cells, in
    ``county``), raised no later than ``by``."""

    key: str
    """A short stable name, e.g. ``flooded-street``."""
    hazard: Hazard
    county: str
    by: datetime
    what: str
    """One line for the report, e.g. "Waterlogged street in Aihui (42 reports)"."""
    cells: tuple[str, ...] = ()
    cameras: tuple[str, ...] = ()
    """For a camera fault: the cameras the incident must name (each one, not merely some)."""
    evidence: str | None = None
    """The kind of evidence that should raise it (e.g. ``cell_risk``); it is detected when the incident carries
    some (None: any incident that matches)."""
    crest_at: datetime | None = None
    """For a flood from a river: when the crest reaches the place (the flood alert's lead time is to this)."""


@dataclass(frozen=True, slots=True)
class GroundTruth:
    scenario: str
    start: datetime
    seed: int
    expected: tuple[Expected, ...]
    hazards: frozenset[Hazard] = field(default_factory=frozenset)
    """The hazards the truth speaks for: an incident of one of them that matches nothing is a false alarm;
    incidents of other hazards are listed apart (the scenario says nothing of them)."""
