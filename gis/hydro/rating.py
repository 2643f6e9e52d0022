"""Stage-discharge rating curves, Q = a (h - h0)^b, and their inverse."""

from __future__ import annotations

import math
from dataclasses import dataclass

from gis.hydro.errors import HydroConfigError, HydroError


@dataclass(frozen=True, slots=True)
class RatingCurve:
    """One gauge's rating: flow (m3/s) from stage (m above the gauge datum).

    ``h0`` is the stage of zero flow; below it the flow is 0.
    """

    gauge_id: str
    a: float
    h0: float
    b: float

    def __post_init__(self) -> None:
        for name in ("a", "b"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise HydroConfigError(f"rating of {self.gauge_id}: {name} must be > 0, got {value!r}")
        if not math.isfinite(self.h0):
            raise HydroConfigError(f"rating of {self.gauge_id}: h0 must be finite, got {self.h0!r}")

    def flow(self, stage: float) -> float:
        """Q for a stage; 0 at or below ``h0``."""
        depth = stage - self.h0
        return self.a * depth**self.b if depth > 0 else 0.0

    def stage(self, flow: float) -> float:
        """The stage that carries ``flow`` (the inverse of :meth:`flow`)."""
        if not flow >= 0:
            raise HydroError(f"rating of {self.gauge_id}: flow must be >= 0 m3/s, got {flow!r}")
        return self.h0 + (flow / self.a) ** (1.0 / self.b)
