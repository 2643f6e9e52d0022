"""Flood alert colours per gauge, and forecast alerts with lead time and cells.

Colours follow the Chinese water-regime warnings (DOMAIN.md): blue when the
stage comes within ``approach_margin_m`` of the warning level, yellow at or
above the warning level, orange at or above the guaranteed level, red at or
above the record. A colour rises as soon as the stage reaches its level but
only falls back once the stage is ``hysteresis_m`` below it, so a stage
hovering at a threshold does not flap.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from gis.hydro.errors import HydroConfigError
from gis.hydro.forecast import GaugeForecast
from gis.hydro.network import Gauge
from gis.registry import load_cells
from stream.schemas import Colour


@dataclass(frozen=True, slots=True)
class Thresholds:
    gauge_id: str
    warning_m: float
    guaranteed_m: float
    record_m: float
    approach_margin_m: float = 0.5
    hysteresis_m: float = 0.1

    def __post_init__(self) -> None:
        if not self.warning_m <= self.guaranteed_m <= self.record_m:
            raise HydroConfigError(
                f"thresholds of {self.gauge_id}: need warning <= guaranteed <= record, got "
                f"{self.warning_m}, {self.guaranteed_m}, {self.record_m}"
            )
        if self.approach_margin_m < 0 or self.hysteresis_m < 0:
            raise HydroConfigError(f"thresholds of {self.gauge_id}: margin and hysteresis must be >= 0")

    @classmethod
    def of(cls, gauge: Gauge, approach_margin_m: float = 0.5, hysteresis_m: float = 0.1) -> "Thresholds":
        return cls(gauge.gauge_id, gauge.warning_m, gauge.guaranteed_m, gauge.record_m, approach_margin_m, hysteresis_m)


def level_colour(stage: float, t: Thresholds) -> Colour:
    """The colour of a stage, without memory."""
    if stage >= t.record_m:
        return Colour.RED
    if stage >= t.guaranteed_m:
        return Colour.ORANGE
    if stage >= t.warning_m:
        return Colour.YELLOW
    if stage >= t.warning_m - t.approach_margin_m:
        return Colour.BLUE
    return Colour.GREEN


def stage_colour(stage: float, t: Thresholds, previous: Colour = Colour.GREEN) -> Colour:
    """The colour of a stage given the gauge's previous colour (falls back with hysteresis)."""
    now = level_colour(stage, t)
    if now.rank >= previous.rank:
        return now
    held = level_colour(stage + t.hysteresis_m, t)
    return held if held.rank < previous.rank else previous


# --------------------------------------------------------------------------- forecast alerts


@dataclass(frozen=True, slots=True)
class CellExposure:
    """A grid cell beside the river: the gauge that controls it and the stage that floods it."""

    gauge_id: str
    inundation_stage_m: float


@dataclass(frozen=True, slots=True)
class ForecastAlert:
    gauge_id: str
    colour: Colour
    stage: float
    arrival: datetime
    lead_time_h: float
    cells: tuple[str, ...]


class AlertAction(enum.StrEnum):
    RAISE = "raise"
    UPDATE = "update"
    CANCEL = "cancel"
    KEEP = "keep"


def load_exposures(data_dir: Path | None = None) -> dict[str, CellExposure]:
    """Cells of a layer set that flood from a gauged river: code -> (gauge, inundation stage)."""
    return {
        c.cell_code: CellExposure(c.gauge_id, c.inundation_stage_m)
        for c in load_cells(data_dir)
        if c.gauge_id is not None and c.inundation_stage_m is not None
    }


def flooded_cells(gauge_id: str, stage: float, cells: Mapping[str, CellExposure]) -> tuple[str, ...]:
    """Cells controlled by ``gauge_id`` whose inundation stage is below ``stage``, sorted."""
    return tuple(sorted(code for code, c in cells.items() if c.gauge_id == gauge_id and c.inundation_stage_m < stage))


def forecast_alert(
    forecast: GaugeForecast,
    t: Thresholds,
    cells: Mapping[str, CellExposure],
    now: datetime,
    min_colour: Colour = Colour.YELLOW,
) -> ForecastAlert | None:
    """An alert when the forecast crest reaches ``min_colour`` (default: the warning level)."""
    colour = level_colour(forecast.stage, t)
    if colour.rank < min_colour.rank:
        return None
    return ForecastAlert(
        gauge_id=forecast.gauge_id,
        colour=colour,
        stage=forecast.stage,
        arrival=forecast.arrival,
        lead_time_h=forecast.lead_time_h(now),
        cells=flooded_cells(forecast.gauge_id, forecast.stage, cells),
    )


def reconcile(
    previous: ForecastAlert | None,
    current: ForecastAlert | None,
    stage_tol: float = 0.05,
    time_tol: timedelta = timedelta(hours=1),
) -> AlertAction:
    """What to do with an alert when its forecast is re-issued."""
    if previous is None:
        return AlertAction.KEEP if current is None else AlertAction.RAISE
    if current is None:
        return AlertAction.CANCEL
    changed = (
        current.colour != previous.colour
        or current.cells != previous.cells
        or abs(current.stage - previous.stage) > stage_tol
        or abs(current.arrival - previous.arrival) > time_tol
    )
    return AlertAction.UPDATE if changed else AlertAction.KEEP


def cameras_to_raise(cells: Iterable[str], cameras_by_cell: Mapping[str, Iterable[str]]) -> tuple[str, ...]:
    """Riverside cameras looking at the affected cells, sorted, each once."""
    return tuple(sorted({cam for cell in cells for cam in cameras_by_cell.get(cell, ())}))
