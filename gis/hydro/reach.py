"""How well a reach's downstream crest is forecast: Muskingum against the naive method.

A reach is calibrated on one past flood (:func:`gis.hydro.calibrate.calibrate`,
K and X by least squares) and then asked for the crest of later floods: route
their observed upstream hydrograph (from the downstream flow observed when the
flood began) and take the routed peak. The naive method, what a duty officer
does with a table, takes the upstream crest time plus the mean travel time seen
in the calibration flood(s), and the upstream crest times the mean ratio of
downstream to upstream crest. Both are scored against the observed downstream
crest: time error (hours, forecast minus observed) and flow error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from gis.hydro.calibrate import Calibration, calibrate
from gis.hydro.errors import InvalidSeries


@dataclass(frozen=True, slots=True)
class Flood:
    """A flood seen at both ends of a reach, on one time grid of equal steps."""

    times: tuple[datetime, ...]
    inflow: tuple[float, ...]
    outflow: tuple[float, ...]

    def __post_init__(self) -> None:
        if not len(self.times) == len(self.inflow) == len(self.outflow) >= 4:
            raise InvalidSeries(f"a flood needs >= 4 steps with times, inflow and outflow alike, got "
                                f"{len(self.times)}, {len(self.inflow)}, {len(self.outflow)}")

    @property
    def dt_h(self) -> float:
        return (self.times[1] - self.times[0]).total_seconds() / 3600.0

    def crest(self, flows: Sequence[float]) -> FloodCrest:
        i = int(np.argmax(flows))
        return FloodCrest(self.times[i], float(flows[i]))


@dataclass(frozen=True, slots=True)
class FloodCrest:
    time: datetime
    flow: float


@dataclass(frozen=True, slots=True)
class CrestError:
    """One forecast of one flood's downstream crest against the observed crest."""

    observed: FloodCrest
    forecast: FloodCrest

    @property
    def time_error_h(self) -> float:
        return (self.forecast.time - self.observed.time).total_seconds() / 3600.0

    @property
    def flow_error(self) -> float:
        return self.forecast.flow - self.observed.flow

    @property
    def flow_error_pct(self) -> float:
        return 100.0 * self.flow_error / self.observed.flow


@dataclass(frozen=True, slots=True)
class NaiveReach:
    travel_h: float
    """Mean time from upstream crest to downstream crest."""
    ratio: float
    """Mean downstream crest over upstream crest."""

    def forecast(self, flood: Flood) -> FloodCrest:
        up = flood.crest(flood.inflow)
        return FloodCrest(up.time + timedelta(hours=self.travel_h), up.flow * self.ratio)


@dataclass(frozen=True, slots=True)
class ReachCheck:
    calibration: Calibration
    naive: NaiveReach
    muskingum: tuple[CrestError, ...]
    naive_errors: tuple[CrestError, ...]


def naive_reach(floods: Sequence[Flood]) -> NaiveReach:
    """Mean travel time and crest ratio of past floods."""
    travel = [(f.crest(f.outflow).time - f.crest(f.inflow).time).total_seconds() / 3600.0 for f in floods]
    ratio = [f.crest(f.outflow).flow / f.crest(f.inflow).flow for f in floods]
    return NaiveReach(float(np.mean(travel)), float(np.mean(ratio)))


def muskingum_crest(calibration: Calibration, flood: Flood) -> FloodCrest:
    """The downstream crest routed from the flood's upstream hydrograph."""
    if abs(flood.dt_h - calibration.dt_h) > 1e-9:
        raise InvalidSeries(f"flood step {flood.dt_h:g} h differs from the calibration's {calibration.dt_h:g} h")
    return flood.crest(calibration.route(flood.inflow, o0=flood.outflow[0]))


def check_reach(calibration_flood: Flood, floods: Sequence[Flood], lateral: bool = True) -> ReachCheck:
    """Calibrate on one flood, forecast the crest of each later flood by both methods."""
    cal = calibrate(calibration_flood.inflow, calibration_flood.outflow, calibration_flood.dt_h, lateral=lateral)
    naive = naive_reach([calibration_flood])
    observed = [f.crest(f.outflow) for f in floods]
    return ReachCheck(
        calibration=cal,
        naive=naive,
        muskingum=tuple(CrestError(o, muskingum_crest(cal, f)) for o, f in zip(observed, floods)),
        naive_errors=tuple(CrestError(o, naive.forecast(f)) for o, f in zip(observed, floods)),
    )
