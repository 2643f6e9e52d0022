"""Point registries of a layer set, without geopandas: gauges, stations, sensors, cameras, facilities.

Fast to import (csv + dataclasses only), for simulators, the sampler and the
stream. Every loader takes an optional data directory (default: the bundled
Heihe sample) and returns frozen dataclasses in file order; a bad row raises
:class:`~gis.errors.RegistryError` naming the file, line, field and value.

File contract (CSV, UTF-8, header row; lon/lat WGS84 degrees):

- ``gauges.csv``: gauge_id,name,name_zh,river,order,lon,lat,chainage_km,
  warning_m,guaranteed_m,record_m,downstream_gauge_id
- ``stations_sample.csv``: station_id,lon,lat,cell_code,county_code
- ``sensors_sample.csv``: sensor_id,kind,unit,source,gauge_id,lon,lat,cell_code,county_code
- ``cameras_sample.csv``: camera_id,department,scene,protocol,heading_deg,fov_deg,
  range_m,lon,lat,cell_code,county_code
- ``facilities_sample.csv``: facility_id,kind,name,capacity,lon,lat,cell_code,county_code
- ``cells_sample.csv``: per-cell attributes (see :class:`CellRecord`)
- ``camera_cells_sample.csv``: camera_id,cell_code,fraction_seen,distance_m
"""

from __future__ import annotations

import csv
import dataclasses
import types
import typing
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from gis.errors import RegistryError

DEFAULT_DATA_DIR = Path(__file__).resolve().parent / "data" / "heihe"

SENSOR_KINDS = ("smoke", "temperature", "rain", "water_level")  # values of stream.schemas.SensorKind
DEPARTMENTS = ("police", "forestry", "city_management", "tourism")
PROTOCOLS = ("http", "rtsp", "file")
SCENES = ("forest", "river", "street", "square")
FACILITY_KINDS = ("school", "hospital", "shelter")


@dataclass(frozen=True)
class Gauge:
    gauge_id: str
    name: str
    name_zh: str
    river: str
    order: int
    """Position on its river, 1 = furthest upstream."""
    lon: float
    lat: float
    chainage_km: float
    """Distance downstream along the river (sample datum)."""
    warning_m: float
    guaranteed_m: float
    record_m: float
    downstream_gauge_id: str | None
    """The next gauge the water reaches (None where it leaves the network)."""


@dataclass(frozen=True)
class WeatherStation:
    station_id: str
    lon: float
    lat: float
    cell_code: str
    county_code: str


@dataclass(frozen=True)
class Sensor:
    sensor_id: str
    kind: str
    unit: str
    source: str
    """The department source that runs the sensor."""
    gauge_id: str | None
    """For water-level sensors: the gauge controlling their cell."""
    lon: float
    lat: float
    cell_code: str
    county_code: str


@dataclass(frozen=True)
class Camera:
    camera_id: str
    """20-digit GB/T 28181-style device id."""
    department: str
    scene: str
    protocol: str
    heading_deg: float
    """View direction, clockwise from north."""
    fov_deg: float
    range_m: float
    lon: float
    lat: float
    cell_code: str
    county_code: str


@dataclass(frozen=True)
class Facility:
    facility_id: str
    kind: str
    name: str
    capacity: int
    lon: float
    lat: float
    cell_code: str
    county_code: str


@dataclass(frozen=True)
class CellRecord:
    cell_code: str
    village_code: str
    township_code: str
    county_code: str
    urban: bool
    lon: float
    """A point inside the cell (not necessarily the centroid)."""
    lat: float
    area_m2: float
    population: int
    forest_frac: float
    fuel_type: str
    river: str | None
    river_distance_m: float | None
    gauge_id: str | None
    """The gauge whose stage floods this cell (None: no river flooding)."""
    inundation_stage_m: float | None
    """Stage at ``gauge_id`` at which the cell floods."""


@dataclass(frozen=True)
class CellView:
    """How much of one cell a camera sees."""

    camera_id: str
    cell_code: str
    fraction_seen: float
    distance_m: float


T = TypeVar("T")


def _convert(raw: str, kind: object) -> object:
    optional = typing.get_origin(kind) in (typing.Union, types.UnionType)
    if optional:
        if raw == "":
            return None
        kind = next(a for a in typing.get_args(kind) if a is not type(None))
    if kind is bool:
        if raw not in ("0", "1", "true", "false", "True", "False"):
            raise ValueError(f"not a boolean: {raw!r}")
        return raw in ("1", "true", "True")
    if kind is str:
        if raw == "":
            raise ValueError("empty")
        return raw
    return kind(raw)  # type: ignore[operator]


def _load(path: Path, cls: type[T], allowed: dict[str, tuple[str, ...]] | None = None) -> list[T]:
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    if not path.exists():
        raise RegistryError(f"{path}: file not found")
    out: list[T] = []
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [n for n in names if n not in (reader.fieldnames or [])]
        if missing:
            raise RegistryError(f"{path}: missing columns {missing} (has {reader.fieldnames})")
        for row in reader:
            line = reader.line_num
            values = {}
            for name in names:
                raw = row[name] if row[name] is not None else ""
                try:
                    values[name] = _convert(raw.strip(), hints[name])
                except (TypeError, ValueError) as exc:
                    raise RegistryError(f"{path.name} line {line}: field {name!r} = {raw!r}: {exc}") from None
                if allowed and name in allowed and values[name] not in allowed[name]:
                    raise RegistryError(f"{path.name} line {line}: field {name!r} = {raw!r} not one of {allowed[name]}")
            out.append(cls(**values))
    return out


def data_dir_for(manifest: Path | None) -> Path:
    """Where the registries of a layer set live: next to its manifest (None: the bundled sample)."""
    return DEFAULT_DATA_DIR if manifest is None else Path(manifest).resolve().parent


def _dir(data_dir: Path | None) -> Path:
    return DEFAULT_DATA_DIR if data_dir is None else Path(data_dir)


def load_gauges(data_dir: Path | None = None) -> list[Gauge]:
    gauges = _load(_dir(data_dir) / "gauges.csv", Gauge)
    ids = {g.gauge_id for g in gauges}
    for g in gauges:
        if g.downstream_gauge_id is not None and g.downstream_gauge_id not in ids:
            raise RegistryError(f"gauges.csv: {g.gauge_id} drains to unknown gauge {g.downstream_gauge_id!r}")
        if not g.warning_m < g.guaranteed_m:
            raise RegistryError(f"gauges.csv: {g.gauge_id} warning_m {g.warning_m} not below guaranteed_m {g.guaranteed_m}")
    return gauges


def load_stations(data_dir: Path | None = None) -> list[WeatherStation]:
    return _load(_dir(data_dir) / "stations_sample.csv", WeatherStation)


def load_sensors(data_dir: Path | None = None) -> list[Sensor]:
    return _load(_dir(data_dir) / "sensors_sample.csv", Sensor, {"kind": SENSOR_KINDS})


def load_cameras(data_dir: Path | None = None) -> list[Camera]:
    return _load(_dir(data_dir) / "cameras_sample.csv", Camera,
                 {"department": DEPARTMENTS, "protocol": PROTOCOLS, "scene": SCENES})


def load_facilities(data_dir: Path | None = None) -> list[Facility]:
    return _load(_dir(data_dir) / "facilities_sample.csv", Facility, {"kind": FACILITY_KINDS})


def load_cells(data_dir: Path | None = None) -> list[CellRecord]:
    return _load(_dir(data_dir) / "cells_sample.csv", CellRecord)


@dataclass(frozen=True)
class CameraCoverage:
    """Which cells each camera sees, and which cameras see each cell (precomputed file)."""

    by_camera: dict[str, tuple[CellView, ...]]
    by_cell: dict[str, tuple[CellView, ...]]

    @classmethod
    def load(cls, data_dir: Path | None = None) -> CameraCoverage:
        views = _load(_dir(data_dir) / "camera_cells_sample.csv", CellView)
        by_camera: dict[str, list[CellView]] = defaultdict(list)
        by_cell: dict[str, list[CellView]] = defaultdict(list)
        for v in views:
            by_camera[v.camera_id].append(v)
            by_cell[v.cell_code].append(v)
        rank = lambda v: (-v.fraction_seen, v.distance_m)  # noqa: E731
        return cls(
            {k: tuple(sorted(vs, key=rank)) for k, vs in by_camera.items()},
            {k: tuple(sorted(vs, key=rank)) for k, vs in by_cell.items()},
        )

    def cells_seen_by(self, camera_id: str) -> tuple[CellView, ...]:
        """Cells in the camera's view, most-seen first (empty for an unknown camera)."""
        return self.by_camera.get(camera_id, ())

    def cameras_seeing(self, cell_code: str) -> tuple[CellView, ...]:
        """Cameras that see the cell, the one seeing most of it (then nearest) first."""
        return self.by_cell.get(cell_code, ())
