"""Flood and fire risk per grid cell: hazard x exposure x vulnerability -> colour, with factors.

Pure and vectorised: every function takes the :class:`~gis.grid.GridModel`, the
current inputs and ``now``, and returns numpy arrays over the scored cells
(all of them, or the ``cells`` index subset for a one-cell rescore). The same
inputs always give the same scores. All weights are documented constants and
the colour thresholds are configuration (:class:`Thresholds`).

Flood hazard
    ``margin`` = stage at the controlling gauge - the cell's inundation stage;
    ``ramp(m) = clip((m + 1 m) / 2 m, 0, 1)`` (0 one metre below flooding, 0.5 at
    it, 1 a metre above). Stage hazard = max(ramp(now), 0.8 x ramp(forecast)),
    where only forecasts arriving within ``horizon`` of ``now`` count. Rain
    hazard = max(r1h/30, r24h/80, r72h/150) capped at 1, weighted 0.6 in town
    and 0.4 outside. hazard = 1 - (1 - stage) (1 - w rain).
Fire hazard
    ``clip(FWI / 50, 0, 1)`` (50 = EFFIS extreme) x fuel (fuel-type factor x
    (0.5 + 0.5 forest share)), combined with vision findings v (0..1) in the
    cell: hazard = 1 - (1 - weather) (1 - v).
Exposure
    0.5 + 0.5 min(1, log10(1 + people) / 3) + 0.25 per school + 0.5 per
    hospital, capped at 2; for fire at least 0.5 + 0.5 x forest share (the
    forest itself is at risk).
Vulnerability
    flood: 1.2 outside town, 1.0 in town, -0.1 with a shelter in the cell;
    fire: 1.3 at the wildland-urban interface (forest >= 20 % and >= 50 people), else 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gis.errors import ModelInputError
from gis.grid import GridModel
from stream.schemas import Colour, Hazard

COLOURS = (Colour.GREEN, Colour.BLUE, Colour.YELLOW, Colour.ORANGE, Colour.RED)
FORECAST_WEIGHT = 0.8
RAIN_SCALE_MM = {"rain_1h": 30.0, "rain_24h": 80.0, "rain_72h": 150.0}
FWI_EXTREME = 50.0


@dataclass(frozen=True)
class Thresholds:
    """Lowest score of each colour; below ``blue`` is green (no warning)."""

    blue: float = 0.15
    yellow: float = 0.35
    orange: float = 0.6
    red: float = 0.9

    def __post_init__(self) -> None:
        bounds = (self.blue, self.yellow, self.orange, self.red)
        if not all(a < b for a, b in zip(bounds, bounds[1:])) or self.blue <= 0:
            raise ModelInputError(f"thresholds must be positive and increasing, got {bounds}")

    def colour_index(self, score: ArrayLike) -> NDArray[np.int8]:
        """0 green, 1 blue, 2 yellow, 3 orange, 4 red."""
        bounds = np.array([self.blue, self.yellow, self.orange, self.red])
        return np.searchsorted(bounds, np.asarray(score, float), side="right").astype(np.int8)


@dataclass(frozen=True)
class StageForecast:
    """A forecast stage at a gauge and when it is expected."""

    stage_m: float
    arrival: datetime


@dataclass(frozen=True, eq=False)
class RiskScores:
    """Scores of one hazard over a set of cells, with every factor that made them."""

    hazard: Hazard
    as_of: datetime
    cells: NDArray[np.int64]
    score: NDArray[np.float64]
    colour: NDArray[np.int8]
    factors: dict[str, NDArray[np.float64]]

    def colour_of(self, j: int) -> Colour:
        return COLOURS[int(self.colour[j])]

    def factors_of(self, j: int) -> dict[str, float]:
        """Factors of the j-th scored cell (NaN, i.e. not applicable, left out)."""
        return {k: round(float(v[j]), 4) for k, v in self.factors.items() if np.isfinite(v[j])}


@dataclass(frozen=True)
class CellScore:
    cell_code: str
    hazard: Hazard
    score: float
    colour: Colour
    factors: dict[str, float]
    gauge_id: str | None = None
    """Flood: the controlling gauge when its stage or forecast contributes (the river reach driving the risk)."""


def _subset(model: GridModel, cells: ArrayLike | None) -> NDArray[np.int64]:
    return np.arange(model.size) if cells is None else np.asarray(cells, dtype=np.int64)


def _per_cell(value: ArrayLike, model: GridModel, idx: NDArray[np.int64]) -> NDArray[np.float64]:
    v = np.asarray(value, float)
    if v.ndim == 0:
        return np.full(idx.shape, float(v))
    if v.shape[0] != model.size:
        raise ModelInputError(f"per-cell input has {v.shape[0]} values for {model.size} cells")
    return v[idx]


def _ramp(margin: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.nan_to_num(np.clip((margin + 1.0) / 2.0, 0.0, 1.0), nan=0.0)


def exposure(model: GridModel, idx: NDArray[np.int64]) -> NDArray[np.float64]:
    people = 0.5 * np.minimum(1.0, np.log10(1.0 + model.population[idx]) / 3.0)
    return np.minimum(0.5 + people + 0.25 * model.schools[idx] + 0.5 * model.hospitals[idx], 2.0)


def _gauge_values(model: GridModel, values: Mapping[str, float]) -> NDArray[np.float64]:
    per_gauge = np.array([values.get(g, np.nan) for g in model.gauge_ids] + [np.nan], float)
    return per_gauge  # index -1 (no gauge) reads the trailing NaN


def score_flood(model: GridModel, stage_by_gauge: Mapping[str, float], forecast_by_gauge: Mapping[str, StageForecast],
                rain_1h: ArrayLike, rain_24h: ArrayLike, rain_72h: ArrayLike, *, now: datetime,
                thresholds: Thresholds = Thresholds(), cells: ArrayLike | None = None,
                horizon: timedelta = timedelta(hours=72)) -> RiskScores:
    """Flood risk of every cell (or of ``cells``) from gauge stages, forecasts and rain."""
    idx = _subset(model, cells)
    g = model.gauge_of_cell[idx]
    due = {k: f.stage_m for k, f in forecast_by_gauge.items() if now <= f.arrival <= now + horizon}
    stage_now = _gauge_values(model, stage_by_gauge)[g]
    stage_fc = _gauge_values(model, due)[g]
    flood_at = model.inundation_stage_m[idx]
    h_stage = np.maximum(_ramp(stage_now - flood_at), FORECAST_WEIGHT * _ramp(stage_fc - flood_at))
    rain = {k: _per_cell(v, model, idx) for k, v in (("rain_1h", rain_1h), ("rain_24h", rain_24h), ("rain_72h", rain_72h))}
    h_rain = np.clip(np.max([rain[k] / s for k, s in RAIN_SCALE_MM.items()], axis=0), 0.0, 1.0)
    urban = model.urban[idx]
    rain_weight = np.where(urban, 0.6, 0.4)
    hazard = 1.0 - (1.0 - h_stage) * (1.0 - rain_weight * h_rain)
    expo = exposure(model, idx)
    vuln = np.where(urban, 1.0, 1.2) - 0.1 * (model.shelters[idx] > 0)
    score = hazard * expo * vuln
    factors = {
        "stage_m": stage_now, "forecast_stage_m": stage_fc, "inundation_stage_m": flood_at,
        "margin_m": np.fmax(stage_now, stage_fc) - flood_at, "stage_hazard": h_stage,
        **{f"{k}_mm": v for k, v in rain.items()}, "rain_hazard": h_rain,
        "hazard": hazard, "population": model.population[idx], "exposure": expo, "vulnerability": vuln,
    }
    return RiskScores(Hazard.FLOOD, now, idx, score, thresholds.colour_index(score), factors)


def score_fire(model: GridModel, fwi_by_cell: ArrayLike, vision_by_cell: Mapping[str, float], *, now: datetime,
               thresholds: Thresholds = Thresholds(), cells: ArrayLike | None = None) -> RiskScores:
    """Fire risk of every cell (or of ``cells``) from the day's FWI and vision findings."""
    idx = _subset(model, cells)
    fwi = _per_cell(fwi_by_cell, model, idx)
    fuel = model.fuel_factor[idx] * (0.5 + 0.5 * model.forest_frac[idx])
    h_weather = np.clip(fwi / FWI_EXTREME, 0.0, 1.0) * fuel
    vision = np.zeros(idx.shape)
    for code, v in vision_by_cell.items():
        i = model.index_of.get(code)
        if i is not None:
            vision[idx == i] = np.maximum(vision[idx == i], np.clip(v, 0.0, 1.0))
    hazard = 1.0 - (1.0 - h_weather) * (1.0 - vision)
    expo = np.maximum(exposure(model, idx), 0.5 + 0.5 * model.forest_frac[idx])  # the forest is itself at risk
    wui = (model.forest_frac[idx] >= 0.2) & (model.population[idx] >= 50)
    vuln = np.where(wui, 1.3, 1.0)
    score = hazard * expo * vuln
    factors = {
        "fwi": fwi, "fuel": fuel, "weather_hazard": h_weather, "vision": vision, "hazard": hazard,
        "population": model.population[idx], "exposure": expo, "vulnerability": vuln,
    }
    return RiskScores(Hazard.FIRE, now, idx, score, thresholds.colour_index(score), factors)


def cell_score(model: GridModel, scores: RiskScores, j: int) -> CellScore:
    """The j-th scored cell as one record (what a CellRisk event carries)."""
    return CellScore(str(model.codes[scores.cells[j]]), scores.hazard, float(scores.score[j]),
                     scores.colour_of(j), scores.factors_of(j), driving_gauge(model, scores, j))


def driving_gauge(model: GridModel, scores: RiskScores, j: int) -> str | None:
    """The gauge whose stage (or forecast) drives the j-th cell's flood risk; None if no stage contributes."""
    g = int(model.gauge_of_cell[scores.cells[j]])
    stage = scores.factors.get("stage_hazard")
    if scores.hazard is not Hazard.FLOOD or g < 0 or stage is None or not stage[j] > 0:
        return None
    return model.gauge_ids[g]


def score_cell(model: GridModel, cell_code: str, hazard: Hazard, *, now: datetime, **inputs: object) -> CellScore:
    """Rescore one cell after one event; ``inputs`` are those of :func:`score_flood` or :func:`score_fire`."""
    i = model.index_of.get(cell_code)
    if i is None:
        raise ModelInputError(f"unknown cell_code {cell_code!r}")
    if hazard is Hazard.FLOOD:
        scores = score_flood(model, now=now, cells=[i], **inputs)  # type: ignore[arg-type]
    elif hazard is Hazard.FIRE:
        scores = score_fire(model, now=now, cells=[i], **inputs)  # type: ignore[arg-type]
    else:
        raise ModelInputError(f"hazard {hazard.value!r} is not scored per cell (flood, fire)")
    return cell_score(model, scores, 0)


def explain(model: GridModel, scores: RiskScores, j: int) -> str:
    """One line an operator can read: the colour and what drove it."""
    i = int(scores.cells[j])
    f = scores.factors_of(j)
    parts = [f"{scores.colour_of(j).value} {scores.hazard.value} risk {scores.score[j]:.2f} in cell {model.codes[i]}"]
    if scores.hazard is Hazard.FLOOD:
        g = model.gauge_of_cell[i]
        if "stage_m" in f:
            parts.append(f"stage {f['stage_m']:.2f} m at {model.gauge_ids[g]} vs flood stage {f['inundation_stage_m']:.2f} m")
        if "forecast_stage_m" in f:
            parts.append(f"forecast {f['forecast_stage_m']:.2f} m")
        if f.get("rain_hazard", 0) > 0:
            parts.append(f"rain {f['rain_1h_mm']:.0f}/{f['rain_24h_mm']:.0f}/{f['rain_72h_mm']:.0f} mm in 1/24/72 h")
    else:
        parts.append(f"FWI {f['fwi']:.1f}, fuel {f['fuel']:.2f}")
        if f.get("vision", 0) > 0:
            parts.append(f"camera evidence {f['vision']:.2f}")
    parts.append(f"{int(f['population'])} people, exposure {f['exposure']:.2f}, vulnerability {f['vulnerability']:.2f}")
    return "; ".join(parts)


def changed(previous: RiskScores | None, current: RiskScores, min_score_change: float = 0.05) -> NDArray[np.int64]:
    """Positions in ``current`` whose colour changed or whose score moved by ``min_score_change``.

    Both must cover the same cells; with no previous scores every cell counts as changed.
    """
    if previous is None:
        return np.arange(current.cells.shape[0])
    if not np.array_equal(previous.cells, current.cells):
        raise ModelInputError("previous and current scores cover different cells")
    moved = np.abs(current.score - previous.score) >= min_score_change
    return np.nonzero((current.colour != previous.colour) | moved)[0]
