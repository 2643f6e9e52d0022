"""The grid model: per-cell arrays that risk scoring works on, built once from a layer set.

Build it from the bundled registry files (no geopandas) with
:meth:`GridModel.from_registry`, or from any table of cells with
:meth:`GridModel.from_columns` (what :mod:`gis.layers` does for a city's own
GeoPackage). Cells are rows; every array has one entry per cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gis import registry as R
from gis.assign import idw
from gis.crs import to_metric
from gis.errors import ModelInputError

#: Relative flammability of each fuel type (sample weights, 0..1).
FUEL_FACTOR = {"conifer": 1.0, "mixed": 0.8, "grass": 0.7, "cropland": 0.35, "urban": 0.1, "water": 0.0}
LEVELS = ("city", "county", "township", "village")
_PREFIX = {"city": 4, "county": 6, "township": 9, "village": 12}


@dataclass(frozen=True)
class Level:
    """One administrative level: its codes and, per cell, the index of its unit."""

    name: str
    codes: NDArray[np.str_]
    of_cell: NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class GridModel:
    codes: NDArray[np.str_]
    population: NDArray[np.float64]
    schools: NDArray[np.float64]
    hospitals: NDArray[np.float64]
    shelters: NDArray[np.float64]
    urban: NDArray[np.bool_]
    forest_frac: NDArray[np.float64]
    fuel_factor: NDArray[np.float64]
    gauge_ids: tuple[str, ...]
    gauge_of_cell: NDArray[np.int64]
    """Index into ``gauge_ids`` of the controlling gauge, -1 where no river floods the cell."""
    inundation_stage_m: NDArray[np.float64]
    """Stage at the controlling gauge at which the cell floods (NaN: never)."""
    x: NDArray[np.float64]
    """A point inside each cell, UTM 52N metres (for interpolating station weather)."""
    y: NDArray[np.float64]
    levels: tuple[Level, ...]
    index_of: dict[str, int]

    @property
    def size(self) -> int:
        return int(self.codes.shape[0])

    def level(self, name: str) -> Level:
        return next(lv for lv in self.levels if lv.name == name)

    def interpolate(self, lon: ArrayLike, lat: ArrayLike, values: ArrayLike, k: int = 8) -> NDArray[np.float64]:
        """Point observations (e.g. rain gauges, stations) to every cell by inverse-distance weighting."""
        x, y = to_metric(lon, lat)
        return idw(x, y, values, self.x, self.y, k=k)

    @classmethod
    def from_columns(cls, codes: Sequence[str], lon: Sequence[float], lat: Sequence[float], population: Sequence[float], urban: Sequence[bool],
                     forest_frac: Sequence[float], fuel_type: Sequence[str], gauge_id: Sequence[str | None],
                     inundation_stage_m: Sequence[float | None], facilities: Sequence[tuple[str, str]] = ()) -> GridModel:
        """Arrays from per-cell columns; ``facilities`` are (kind, cell_code) pairs."""
        code_arr = np.asarray(codes, dtype=str)
        index_of = {c: i for i, c in enumerate(code_arr.tolist())}
        if len(index_of) != len(code_arr):
            raise ModelInputError(f"cell codes are not unique ({len(code_arr) - len(index_of)} repeated)")
        counts = {k: np.zeros(len(code_arr)) for k in ("school", "hospital", "shelter")}
        for kind, cell in facilities:
            if kind in counts and cell in index_of:
                counts[kind][index_of[cell]] += 1
        gauges = tuple(sorted({g for g in gauge_id if g}))
        g_index = {g: i for i, g in enumerate(gauges)}
        unknown = sorted({f for f in fuel_type if f not in FUEL_FACTOR})
        if unknown:
            raise ModelInputError(f"unknown fuel_type values {unknown}; known: {sorted(FUEL_FACTOR)}")
        levels = []
        for name in LEVELS:
            prefix = np.char.asarray(code_arr).astype(f"U{_PREFIX[name]}")
            unit_codes, of_cell = np.unique(prefix, return_inverse=True)
            if name == "city":
                unit_codes = np.char.add(unit_codes, "00")
            levels.append(Level(name, unit_codes, of_cell.astype(np.int64)))
        x, y = to_metric(np.asarray(lon, float), np.asarray(lat, float))
        return cls(
            codes=code_arr, x=x, y=y,
            population=np.asarray(population, float),
            schools=counts["school"], hospitals=counts["hospital"], shelters=counts["shelter"],
            urban=np.asarray(urban, bool),
            forest_frac=np.asarray(forest_frac, float),
            fuel_factor=np.array([FUEL_FACTOR[f] for f in fuel_type]),
            gauge_ids=gauges,
            gauge_of_cell=np.array([g_index[g] if g else -1 for g in gauge_id], dtype=np.int64),
            inundation_stage_m=np.array([np.nan if s is None else s for s in inundation_stage_m], float),
            levels=tuple(levels),
            index_of=index_of,
        )

    @classmethod
    def from_registry(cls, data_dir: Path | None = None) -> GridModel:
        cells = R.load_cells(data_dir)
        facilities = [(f.kind, f.cell_code) for f in R.load_facilities(data_dir)]
        return cls.from_columns(
            [c.cell_code for c in cells], [c.lon for c in cells], [c.lat for c in cells], [c.population for c in cells], [c.urban for c in cells],
            [c.forest_frac for c in cells], [c.fuel_type for c in cells], [c.gauge_id for c in cells],
            [c.inundation_stage_m for c in cells], facilities,
        )
