"""Gauges and the reaches between them: which gauge a wave reaches next, and how.

Gauges are the layer set's (:func:`gis.registry.load_gauges`); reaches (Muskingum K and X, or only a travel-time lag, and their uncertainty)
from the hydrology configuration (:mod:`gis.hydro.config`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gis.hydro.errors import HydroConfigError
from gis.registry import Gauge

__all__ = ["Gauge", "Reach", "RiverNetwork"]


@dataclass(frozen=True, slots=True)
class Reach:
    """The river between a gauge and the next gauge downstream."""

    upstream: str
    downstream: str
    k_h: float | None = None
    """Muskingum storage constant (hours); None = route by ``lag_h`` alone."""
    x: float = 0.2
    lag_h: float | None = None
    """Pure translation time (hours), where only the travel time is known."""
    arrival_sd_h: float = 3.0
    """Standard deviation of the forecast arrival over this reach (hours)."""
    flow_sd: float = 0.05
    """Relative standard deviation of the forecast flow over this reach."""

    def __post_init__(self) -> None:
        where = f"reach {self.upstream}->{self.downstream}"
        if (self.k_h is None) == (self.lag_h is None):
            raise HydroConfigError(f"{where}: give exactly one of k_h (Muskingum) or lag_h, got k_h={self.k_h!r}, lag_h={self.lag_h!r}")
        if self.k_h is not None and not self.k_h > 0:
            raise HydroConfigError(f"{where}: k_h must be > 0, got {self.k_h!r}")
        if self.lag_h is not None and not self.lag_h >= 0:
            raise HydroConfigError(f"{where}: lag_h must be >= 0, got {self.lag_h!r}")
        if not 0 <= self.x <= 0.5:
            raise HydroConfigError(f"{where}: x must be in [0, 0.5], got {self.x!r}")
        if self.arrival_sd_h < 0 or self.flow_sd < 0:
            raise HydroConfigError(f"{where}: uncertainties must be >= 0, got {self.arrival_sd_h!r}, {self.flow_sd!r}")

    @property
    def travel_h(self) -> float:
        """Expected travel time of a crest: K for Muskingum (the lag of the wave's centroid)."""
        return self.k_h if self.k_h is not None else self.lag_h  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class RiverNetwork:
    gauges: Mapping[str, Gauge]
    reaches: Mapping[str, Reach]
    """Keyed by the upstream gauge id (each gauge drains to one next gauge)."""

    def __post_init__(self) -> None:
        for up, reach in self.reaches.items():
            if up != reach.upstream:
                raise HydroConfigError(f"reach keyed {up!r} starts at {reach.upstream!r}")
            for end in (reach.upstream, reach.downstream):
                if end not in self.gauges:
                    raise HydroConfigError(f"reach {reach.upstream}->{reach.downstream}: unknown gauge {end!r}")
            expected = self.gauges[up].downstream_gauge_id
            if reach.downstream != expected:
                raise HydroConfigError(
                    f"reach {up}->{reach.downstream}: the gauge table says {up} drains to {expected!r}"
                )
        for start in self.reaches:
            self.chain(start)  # raises on a cycle

    def chain(self, gauge_id: str) -> tuple[Reach, ...]:
        """Reaches from ``gauge_id`` down to the last gauge with no reach below it."""
        out: list[Reach] = []
        seen = {gauge_id}
        while (reach := self.reaches.get(gauge_id)) is not None:
            if reach.downstream in seen:
                raise HydroConfigError(f"reaches form a cycle through {reach.downstream!r}")
            seen.add(reach.downstream)
            out.append(reach)
            gauge_id = reach.downstream
        return tuple(out)

    def travel_h(self, upstream: str, downstream: str) -> float | None:
        """Expected crest travel time between two gauges, None if ``downstream`` is not below."""
        total = 0.0
        for reach in self.chain(upstream):
            total += reach.travel_h
            if reach.downstream == downstream:
                return total
        return None
