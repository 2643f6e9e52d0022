"""From the scorer's stored inputs to whole-grid flood and fire scores, and what changed.

Pure: :func:`score_grid` takes a :class:`RiskInputs` snapshot (what the risk
agents keep in their tables) and ``now``; :func:`changes` compares two
scorings. The per-cell inputs are derived here, the scoring itself is
:mod:`gis.risk`:

- stage per gauge: the latest :class:`GaugeState` of each gauge;
- forecast per gauge: of the forecasts not cancelled, the highest stage among
  those arriving within ``horizon`` of ``now`` (else none);
- rain per cell: the mean of the 1 h / 24 h / 72 h totals of the rain sensors
  in the cell that have reported (0 where none has);
- FWI per cell: :func:`gis.fire.cell_fwi` from the noon weather of the stations
  whose FWI day is today or yesterday, starting from their codes before that day
  interpolated to the cells (so a station's own cell gets the station's FWI);
- vision per cell: :func:`gis.fire.vision_by_cell`, over the finding's own
  ``cells`` when it lists them, else over the camera's coverage.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from gis import registry as R
from gis.fire import CellCodes, cell_fwi, vision_by_cell
from gis.grid import GridModel
from gis.registry import CameraCoverage, CellView
from gis.risk import (
    CellScore,
    RiskScores,
    StageForecast,
    Thresholds,
    cell_score,
    changed,
    score_fire,
    score_flood,
)
from stream.risk.state import RainBuckets, RiskInputError, StationFwi, rain_totals
from stream.schemas import CrestForecast, GaugeState, SensorKind, VisionFinding

FORECAST_HORIZON = timedelta(hours=72)
"""As :func:`gis.risk.score_flood`: later arrivals do not count."""


@dataclass(frozen=True, eq=False)
class RiskGrid:
    """What scoring needs besides the events: the grid model and the registries, built once."""

    model: GridModel
    coverage: CameraCoverage
    station_lonlat: dict[str, tuple[float, float]]
    rain_sensor_cell: dict[str, int]
    """Rain sensor id -> index of its cell in ``model``."""
    thresholds: Thresholds = Thresholds()
    min_change: float = 0.05

    @classmethod
    def load(cls, data_dir: Path | None = None, model: GridModel | None = None, thresholds: Thresholds = Thresholds(),
             min_change: float = 0.05) -> RiskGrid:
        """From a registry directory (default: the bundled sample); ``model`` if built from a layer set."""
        model = model or GridModel.from_registry(data_dir)
        stations = {s.station_id: (s.lon, s.lat) for s in R.load_stations(data_dir)}
        rain = {s.sensor_id: model.index_of[s.cell_code] for s in R.load_sensors(data_dir)
                if s.kind == SensorKind.RAIN.value and s.cell_code in model.index_of}
        return cls(model, CameraCoverage.load(data_dir), stations, rain, thresholds, min_change)


@dataclass(frozen=True)
class RiskInputs:
    """A snapshot of everything the scorer has heard."""

    gauges: Mapping[str, GaugeState]
    forecasts: Sequence[CrestForecast]
    rain: Mapping[str, RainBuckets]
    """Rain sensor id -> its buckets."""
    stations: Mapping[str, StationFwi]
    findings: Sequence[VisionFinding]


@dataclass(frozen=True, eq=False)
class GridScores:
    flood: RiskScores
    fire: RiskScores


def forecast_by_gauge(forecasts: Sequence[CrestForecast], *, now: datetime,
                      horizon: timedelta = FORECAST_HORIZON) -> dict[str, StageForecast]:
    """Per gauge, the highest forecast stage arriving within ``horizon`` of ``now``."""
    out: dict[str, StageForecast] = {}
    for f in forecasts:
        if f.cancelled or not now <= f.arrival_time <= now + horizon:
            continue
        best = out.get(f.gauge_id)
        if best is None or f.stage_m > best.stage_m:
            out[f.gauge_id] = StageForecast(f.stage_m, f.arrival_time)
    return out


def rain_by_cell(grid: RiskGrid, rain: Mapping[str, RainBuckets], *, now: datetime) -> NDArray[np.float64]:
    """(3, cells): mean 1 h, 24 h, 72 h rain of each cell's rain sensors that have reported, mm."""
    n = grid.model.size
    totals, count = np.zeros((3, n)), np.zeros(n)
    for sensor_id, buckets in rain.items():
        i = grid.rain_sensor_cell.get(sensor_id)
        if i is None:
            continue
        t = rain_totals(buckets, now=now)
        totals[:, i] += (t.mm_1h, t.mm_24h, t.mm_72h)
        count[i] += 1
    return totals / np.maximum(count, 1)


def fwi_by_cell(grid: RiskGrid, stations: Mapping[str, StationFwi], *, today: datetime) -> NDArray[np.float64]:
    """The day's FWI per cell from the stations with a current FWI day (0 where none has one)."""
    fresh = [s for s in stations.values() if s.noon is not None and s.day is not None and s.station_id in grid.station_lonlat
             and (today.date() - s.day).days <= 1]
    if not fresh:
        return np.zeros(grid.model.size)
    lon, lat = np.array([grid.station_lonlat[s.station_id] for s in fresh]).T
    noon = [s.noon for s in fresh if s.noon is not None]
    before = grid.model.interpolate(lon, lat, np.array([(s.before.ffmc, s.before.dmc, s.before.dc) for s in fresh]))
    month = max(s.day for s in fresh if s.day is not None).month
    day = cell_fwi(grid.model, lon, lat, [w.temp_c for w in noon], [w.rh_pct for w in noon], [w.wind_kmh for w in noon],
                   [w.rain_24h_mm for w in noon], month, CellCodes(before[:, 0], before[:, 1], before[:, 2]))
    return np.asarray(day.fwi, float)


@dataclass
class FireWeatherMemo:
    """The last :func:`fwi_by_cell` result, reused while no station's FWI day changes (one per scorer).

    Stations change their day once a day (the noon observation), while the
    interpolation to every cell is the dearest step of a rescoring.
    """

    key: tuple[object, ...] | None = None
    fwi: NDArray[np.float64] | None = None

    def fwi_by_cell(self, grid: RiskGrid, stations: Mapping[str, StationFwi], *, today: datetime) -> NDArray[np.float64]:
        key = (today.date(), *sorted((s.station_id, s.day, s.noon, s.before) for s in stations.values() if s.noon is not None))
        if self.fwi is None or key != self.key:
            self.key, self.fwi = key, fwi_by_cell(grid, stations, today=today)
        return self.fwi


def vision_evidence(grid: RiskGrid, findings: Sequence[VisionFinding], *, now: datetime) -> dict[str, float]:
    """Fire/smoke evidence per cell; a finding that lists its ``cells`` reaches exactly those."""
    listed = {f.camera_id: tuple(CellView(f.camera_id, c, 1.0, 0.0) for c in f.cells) for f in findings if f.cells}
    coverage = CameraCoverage({**grid.coverage.by_camera, **listed}, grid.coverage.by_cell) if listed else grid.coverage
    return vision_by_cell(findings, coverage, now=now)


def score_grid(grid: RiskGrid, inputs: RiskInputs, *, now: datetime, tz: tzinfo,
               memo: FireWeatherMemo | None = None) -> GridScores:
    """Flood and fire risk of every cell at ``now`` (``tz``: the local time of the FWI day)."""
    model = grid.model
    today = now.astimezone(tz)
    fwi = memo.fwi_by_cell(grid, inputs.stations, today=today) if memo else fwi_by_cell(grid, inputs.stations, today=today)
    rain = rain_by_cell(grid, inputs.rain, now=now)
    flood = score_flood(model, {g: s.stage_m for g, s in inputs.gauges.items()}, forecast_by_gauge(inputs.forecasts, now=now),
                        rain[0], rain[1], rain[2], now=now, thresholds=grid.thresholds)
    fire = score_fire(model, fwi, vision_evidence(grid, inputs.findings, now=now), now=now, thresholds=grid.thresholds)
    return GridScores(flood, fire)


def baseline(like: RiskScores) -> RiskScores:
    """What a reader assumes of a cell never published: score 0, green."""
    return RiskScores(like.hazard, like.as_of, like.cells, np.zeros(like.score.shape), np.zeros(like.colour.shape, np.int8), {})


def changes(grid: RiskGrid, published: RiskScores | None, current: RiskScores) -> tuple[list[CellScore], RiskScores]:
    """Cells to publish and what is then published.

    A cell is published when its colour differs from, or its score moved
    ``grid.min_change`` away from, what was last published for it (``published``;
    None: nothing yet, i.e. the baseline). Comparing with the last *published*
    value, not the last scoring, keeps a slow drift from going unreported.
    """
    last = published if published is not None else baseline(current)
    positions = changed(last, current, grid.min_change)
    score, colour = last.score.copy(), last.colour.copy()
    score[positions], colour[positions] = current.score[positions], current.colour[positions]
    now_published = RiskScores(current.hazard, current.as_of, current.cells, score, colour, {})
    return [cell_score(grid.model, current, int(j)) for j in positions], now_published


def published_from(grid: RiskGrid, like: RiskScores, entries: Iterable[tuple[str, float, int]]) -> RiskScores:
    """What was last published for ``like``'s hazard, from stored (cell code, score, colour index); others: baseline.

    ``like`` is a whole-grid scoring (positions are cell indices).
    """
    if like.cells.shape[0] != grid.model.size:
        raise RiskInputError(f"published state needs a whole-grid scoring, got {like.cells.shape[0]} of {grid.model.size} cells")
    last = baseline(like)
    score, colour = last.score.copy(), last.colour.copy()
    for code, value, colour_index in entries:
        i = grid.model.index_of.get(code)
        if i is not None:
            score[i], colour[i] = value, colour_index
    return RiskScores(like.hazard, like.as_of, like.cells, score, colour, {})
