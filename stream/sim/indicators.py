"""The registered categories no GIS layer covers, fed as one series each, at their cadence and in their range.

The bundled registry (``stream/ingest/data/sources.csv``) has 1,389 categories: the
seven sensor, station and gauge feeds of the GIS sample (:mod:`stream.sim.feeds`)
and 1,382 generated sample categories (``sample=true``: counts, kWh, CNY, air
quality, humidity, wind, temperature ...). Each sample category is one series,
whose readings name the category itself as the sensor (ingest accepts that for
sample categories only). A series reports at its registered cadence on a seeded
phase; its value is a level drawn once per series (log-uniform over what is
typical for its unit, inside its registered range) with a daily cycle and noise,
rounded as its unit is (counts are whole). Every series reports when the feed
starts (its current value, as a feed does on connecting), so source health knows
them all within seconds; a seeded few (:data:`SILENT_SHARE`) then fall silent, so
the wall's "stale" figures are not always zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from stream.ingest.registry import Registry, Source, SourceSchema
from stream.ingest.validation import SENTINELS
from stream.schemas import SensorKind, SensorReading

SILENT_SHARE = 0.03
"""Share of the series that report once at start and then never again (stale after 3 x their cadence)."""

#: unit -> (typical low, typical high, daily swing, noise); swing and noise as fractions of the level.
TYPICAL: dict[str, tuple[float, float, float, float]] = {
    "count": (10.0, 5_000.0, 0.3, 0.05),
    "%": (20.0, 90.0, 0.1, 0.02),
    "index": (40.0, 160.0, 0.05, 0.02),
    "kWh": (1e3, 1e6, 0.3, 0.03),
    "m3": (1e2, 1e5, 0.3, 0.03),
    "CNY": (1e4, 1e8, 0.2, 0.02),
    "ug/m3": (10.0, 90.0, 0.3, 0.1),
    "m/s": (1.0, 8.0, 0.4, 0.2),
}
#: unit -> (typical low, typical high, daily swing, noise), in the unit itself (a level near zero has no scale).
ADDITIVE: dict[str, tuple[float, float, float, float]] = {"degC": (10.0, 22.0, 8.0, 0.3)}
WHOLE_UNITS = frozenset({"count"})
_SENTINELS = np.array(sorted(SENTINELS))


@dataclass(frozen=True)
class IndicatorFeed:
    """The generated sample categories of a registry as series (arrays are aligned with ``sources``)."""

    sources: tuple[Source, ...]
    level: np.ndarray
    swing: np.ndarray
    noise: np.ndarray
    additive: np.ndarray
    whole: np.ndarray
    phase: np.ndarray
    """Seconds into its cadence at which each series reports."""
    cadence: np.ndarray
    silent: np.ndarray

    @classmethod
    def of(cls, registry: Registry, seed: int) -> "IndicatorFeed":
        sources = tuple(s for s in registry.sources.values()
                        if s.sample and s.schema is SourceSchema.SENSOR_READING and s.kind is not None)
        rng = np.random.default_rng([seed, 0x1D1C])
        n = len(sources)
        level, swing, noise, additive = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n, dtype=bool)
        for i, s in enumerate(sources):
            level[i], swing[i], noise[i], additive[i] = _level(s, rng)
        cadence = np.array([s.cadence_s for s in sources], dtype=float)
        flip = np.where((rng.random(n) < 0.5) & ~additive, -1.0, 1.0)  # some peak at night (temperature: never)
        return cls(sources=sources, level=level, swing=swing * flip,
                   noise=noise, additive=additive, whole=np.array([s.unit in WHOLE_UNITS for s in sources], dtype=bool),
                   phase=np.floor(rng.random(n) * cadence), cadence=cadence, silent=rng.random(n) < SILENT_SHARE)

    def due(self, after: datetime, at: datetime, first: bool) -> np.ndarray:
        """Indices of the series reporting in ``(after, at]``: every one on the ``first`` step, else by cadence."""
        if first:
            return np.arange(len(self.sources))
        a, b = after.timestamp(), at.timestamp()
        turns = np.floor((b - self.phase) / self.cadence) > np.floor((a - self.phase) / self.cadence)
        return np.flatnonzero(turns & ~self.silent)

    def readings(self, which: np.ndarray, at: datetime, daily: float, rng: np.random.Generator) -> list[SensorReading]:
        """The readings of the series ``which`` at ``at`` (``daily``: the day's cycle in [-1, 1])."""
        if len(which) == 0:
            return []
        level, swing, noise = self.level[which], self.swing[which], self.noise[which]
        wobble = rng.normal(0.0, 1.0, len(which))
        values = np.where(self.additive[which], level + swing * daily + noise * wobble,
                          level * (1.0 + swing * daily + noise * wobble))
        values = np.where(self.whole[which], np.round(values), np.round(values, 2))
        values = np.where(np.isin(values, _SENTINELS), values + 1.0, values)  # never a missing-value sentinel
        out = []
        for i, value in zip(which, values):
            s = self.sources[i]
            kind = s.kind or SensorKind.OTHER
            out.append(SensorReading(source=s.source_id, event_time=at, sensor_id=s.source_id, kind=kind,
                                     value=float(min(max(value, s.min_value), s.max_value)), unit=s.unit))
        return out

    def rate_per_s(self) -> float:
        """Readings per second at cadence (the silent series excluded): the feed's steady cost."""
        return float(np.sum(1.0 / self.cadence[~self.silent]))


def _level(source: Source, rng: np.random.Generator) -> tuple[float, float, float, bool]:
    """(level, daily swing, noise, additive) of one series, its level inside the registered range."""
    low, high = source.min_value, source.max_value
    if source.unit in ADDITIVE:
        lo, hi, swing, noise = ADDITIVE[source.unit]
        return float(np.clip(rng.uniform(lo, hi), low, high)), swing, noise, True
    lo, hi, swing, noise = TYPICAL.get(source.unit, (0.0, 0.0, 0.05, 0.01))
    lo, hi = max(lo, low), min(hi, high)
    if not 0 < lo < hi:  # an unknown unit (or a range the typical span misses): the lower part of the range
        lo, hi = low + 0.2 * (high - low), low + 0.5 * (high - low)
        return float(rng.uniform(lo, hi)), swing, noise, False
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi)))), swing, noise, False
