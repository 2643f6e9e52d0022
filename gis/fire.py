"""From station weather and camera findings to the per-cell inputs of fire scoring."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gis import fwi as F
from gis.grid import GridModel
from gis.registry import CameraCoverage

#: How much a confirmed finding of each kind says about fire in the cells seen.
FINDING_WEIGHT = {"fire": 1.0, "smoke": 0.7}


@dataclass(frozen=True, eq=False)
class CellCodes:
    """Yesterday's FWI moisture codes per cell (start-up values on the first day)."""

    ffmc: NDArray[np.float64]
    dmc: NDArray[np.float64]
    dc: NDArray[np.float64]

    @classmethod
    def start(cls, n: int) -> CellCodes:
        return cls(np.full(n, F.FFMC_START), np.full(n, F.DMC_START), np.full(n, F.DC_START))


def cell_fwi(model: GridModel, station_lon: ArrayLike, station_lat: ArrayLike, temp: ArrayLike, rh: ArrayLike,
             wind: ArrayLike, rain: ArrayLike, month: int, previous: CellCodes) -> F.FwiDay:
    """The day's FWI System per cell: station noon weather interpolated (IDW) to cells, then the codes."""
    wx = model.interpolate(station_lon, station_lat, np.column_stack([temp, rh, wind, rain]))
    return F.fwi_day(wx[:, 0], np.clip(wx[:, 1], 0, 100), np.maximum(wx[:, 2], 0), np.maximum(wx[:, 3], 0),
                     month, previous.ffmc, previous.dmc, previous.dc)


class FindingLike(Protocol):
    """What fire scoring reads from a vision finding (stream.schemas.VisionFinding fits)."""

    camera_id: str
    kind: str
    score: float
    confirmed: bool
    event_time: datetime


def vision_by_cell(findings: Iterable[FindingLike], coverage: CameraCoverage, *, now: datetime,
                   max_age: timedelta = timedelta(minutes=30), min_fraction: float = 0.05) -> dict[str, float]:
    """Strongest recent confirmed fire/smoke evidence per cell, over the cells each camera sees.

    Findings older than ``max_age`` (or from the future) are ignored; a camera's
    finding reaches the cells it sees at least ``min_fraction`` of, and always its
    best-seen cell.
    """
    out: dict[str, float] = {}
    for f in findings:
        weight = FINDING_WEIGHT.get(str(f.kind))
        if weight is None or not f.confirmed or not (now - max_age <= f.event_time <= now):
            continue
        views = coverage.cells_seen_by(f.camera_id)
        for rank, view in enumerate(views):
            if rank == 0 or view.fraction_seen >= min_fraction:
                out[view.cell_code] = max(out.get(view.cell_code, 0.0), weight * float(f.score))
    return out
