"""Scenario hooks: how a flood wave or a fire is injected into the simulated feeds.

A :class:`Scenario` may change sensor values and weather observations at a
given (virtual) time, may supply river-gauge levels of its own (which
silence the regular feed for those gauges), and may send grid events (citizen
and grid-worker reports as the Open311 front door publishes them, on the
grid-events topic). Scripted scenarios under
``stream.sim.scenarios`` are pure generators ``readings(start, seed)`` (or
``arrival_times(start, seed)``) of :class:`WaterLevel`; :class:`GeneratorScenario`
plays one on the virtual clock, unless the module makes its own Scenario
(``scenario(start, seed)``).
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import msgspec
import numpy as np

from stream.schemas import GridEvent, SensorKind, WaterLevel, WeatherObservation

GAUGE_SOURCE = "hydrology.river-gauges"
"""Registered source the injected gauge levels are sent as (drills run in their own namespace)."""


class Scenario:
    """No change: the base every scenario overrides in part."""

    name = "none"

    def adjust_sensors(self, kind: SensorKind, lonlat: np.ndarray, values: np.ndarray, at: datetime) -> np.ndarray:
        """Values of the sensors of ``kind`` (positions ``lonlat``, shape (n, 2)) at ``at``."""
        return values

    def adjust_weather(self, obs: WeatherObservation, lon: float, lat: float) -> WeatherObservation:
        return obs

    def water_levels(self, until: datetime) -> list[WaterLevel]:
        """Injected levels due up to ``until`` (virtual time), in order; each returned once."""
        return []

    def silences(self, gauge_id: str) -> bool:
        """Whether the regular feed must leave this gauge to the scenario."""
        return False

    def grid_events(self, until: datetime) -> list[GridEvent]:
        """Grid events due up to ``until`` (virtual time), in order; each returned once."""
        return []

    @property
    def sends_grid_events(self) -> bool:
        """Whether it has grid events (a raw-ingest recording cannot hold them)."""
        return False


class TimedGridEvents(Scenario):
    """Plays a scenario's grid events at their event times (the base of a scenario that has some)."""

    def __init__(self, events: list[GridEvent]) -> None:
        self._events = sorted(events, key=lambda e: e.event_time)
        self._sent = 0

    def grid_events(self, until: datetime) -> list[GridEvent]:
        due = self._sent
        while due < len(self._events) and self._events[due].event_time <= until:
            due += 1
        out, self._sent = self._events[self._sent:due], due
        return out

    @property
    def sends_grid_events(self) -> bool:
        return bool(self._events)


@dataclass(frozen=True)
class FireScenario(Scenario):
    """A forest fire: smoke and temperature sensors rise inside a circle; weather turns hot, dry, windy.

    Intensity ramps linearly from 0 at ``start`` to 1 at ``start + ramp``.
    """

    lon: float
    lat: float
    radius_km: float
    start: datetime
    ramp: timedelta = timedelta(minutes=20)
    name: str = "fire"

    def intensity(self, at: datetime) -> float:
        elapsed = (at - self.start).total_seconds()
        return min(1.0, max(0.0, elapsed / self.ramp.total_seconds()))

    def inside(self, lonlat: np.ndarray, radius_km: float | None = None) -> np.ndarray:
        km_per_deg_lon = 111.32 * math.cos(math.radians(self.lat))
        dx = (lonlat[:, 0] - self.lon) * km_per_deg_lon
        dy = (lonlat[:, 1] - self.lat) * 110.57
        return np.hypot(dx, dy) <= (radius_km or self.radius_km)

    def adjust_sensors(self, kind: SensorKind, lonlat: np.ndarray, values: np.ndarray, at: datetime) -> np.ndarray:
        k = self.intensity(at)
        if k == 0.0 or kind not in (SensorKind.SMOKE, SensorKind.TEMPERATURE):
            return values
        rise = 25.0 * k if kind is SensorKind.SMOKE else 30.0 * k  # %obs/m obscuration, °C
        return np.where(self.inside(lonlat), values + rise, values)

    def adjust_weather(self, obs: WeatherObservation, lon: float, lat: float) -> WeatherObservation:
        k = self.intensity(obs.event_time)
        if k == 0.0 or not self.inside(np.array([[lon, lat]]), self.radius_km * 10)[0]:
            return obs
        return msgspec.structs.replace(obs, temp_c=round(obs.temp_c + 8.0 * k, 1),
                                       rh_pct=round(obs.rh_pct + (18.0 - obs.rh_pct) * k, 1),
                                       wind_kmh=round(obs.wind_kmh + 30.0 * k, 1), rain_mm=0.0)


class GeneratorScenario(Scenario):
    """Plays a scripted module's water levels at their arrival times on the virtual clock."""

    def __init__(self, name: str, module: object, start: datetime, seed: int) -> None:
        self.name = name
        arrivals = getattr(module, "arrival_times", None)
        if arrivals is not None:
            self._pending: Iterator[tuple[datetime, WaterLevel]] = iter(arrivals(start, seed))
        else:
            self._pending = ((w.event_time, w) for w in getattr(module, "readings")(start, seed))
        self._next: tuple[datetime, WaterLevel] | None = next(self._pending, None)
        self._gauges: set[str] = set()

    def water_levels(self, until: datetime) -> list[WaterLevel]:
        due = []
        while self._next is not None and self._next[0] <= until:
            level = msgspec.structs.replace(self._next[1], source=GAUGE_SOURCE)
            self._gauges.add(level.gauge_id)
            due.append(level)
            self._next = next(self._pending, None)
        return due

    def silences(self, gauge_id: str) -> bool:
        return gauge_id in self._gauges


def load_scenario(name: str, start: datetime, seed: int, fire_at: tuple[float, float] | None = None) -> Scenario:
    """``none``, ``fire`` (around ``fire_at``) or a scripted scenario of ``stream.sim.scenarios``."""
    if name == "none":
        return Scenario()
    if name == "fire":
        if fire_at is None:
            raise ValueError("the fire scenario needs a place (fire_at)")
        return FireScenario(lon=fire_at[0], lat=fire_at[1], radius_km=3.0, start=start + timedelta(minutes=2))
    from stream.sim.scenarios import SCENARIOS

    module_name = SCENARIOS.get(name)
    if module_name is None:
        known = ", ".join(["none", "fire", *sorted(SCENARIOS)])
        raise ValueError(f"unknown scenario {name!r}; known: {known}")
    module = importlib.import_module(module_name)
    own = getattr(module, "scenario", None)  # a module that plays itself (e.g. from before ``start``)
    return own(start, seed) if own is not None else GeneratorScenario(name, module, start, seed)
