"""The :class:`~stream.incidents.places.PlaceIndex` of a GIS layer set (default: the bundled Heihe sample).

Cells, flood stages and camera coverage come from the registries of
:mod:`gis.registry`; cell outlines (CAP polygons, point lookup, neighbours by
shared boundary) from the cell layer's GeoJSON when the layer set has one.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely

from gis.registry import (
    CameraCoverage,
    CellRecord,
    data_dir_for,
    load_cells,
    load_gauges,
)
from stream.incidents.places import LonLat

#: A gauge's evidence names at most this many flooded cells (lowest inundation stage first).
MAX_GAUGE_CELLS = 64
#: A gauge standing just outside every cell (on the water) takes the nearest cell within this distance.
GAUGE_SNAP_DEG = 0.03
NAMED_LAYERS = ("county", "township", "village")


@dataclass(frozen=True, eq=False)
class CellShapes:
    codes: np.ndarray
    geoms: np.ndarray
    tree: shapely.STRtree
    index: dict[str, int]


@dataclass(frozen=True, eq=False)
class GisPlaces:
    cells: dict[str, CellRecord]
    flooding: dict[str, tuple[tuple[float, str], ...]]
    """gauge id -> (inundation stage, cell) of the cells it floods, lowest stage first."""
    gauge_points: dict[str, tuple[float, float]]
    coverage: CameraCoverage
    shapes: CellShapes | None = None
    names: dict[str, str] = field(default_factory=dict)
    _neighbours: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)
    """Memo of :meth:`neighbours` (a tree query per cell, asked for again and again while merging)."""

    def cells_of_gauge(self, gauge_id: str, stage_m: float | None = None) -> tuple[str, ...]:
        flooded = [code for stage, code in self.flooding.get(gauge_id, ()) if stage_m is not None and stage <= stage_m]
        if flooded:
            return tuple(flooded[:MAX_GAUGE_CELLS])
        point = self.gauge_points.get(gauge_id)
        if point is None or self.shapes is None:
            return ()
        here = self.cell_at(*point)
        if here:
            return (here,)
        nearest = self.shapes.tree.query_nearest(shapely.Point(point), max_distance=GAUGE_SNAP_DEG)
        return (str(self.shapes.codes[nearest[0]]),) if len(nearest) else ()

    def cells_of_camera(self, camera_id: str) -> tuple[str, ...]:
        return tuple(view.cell_code for view in self.coverage.cells_seen_by(camera_id))

    def cell_at(self, lon: float, lat: float) -> str | None:
        if self.shapes is None:
            return None
        hits = self.shapes.tree.query(shapely.Point(lon, lat), predicate="intersects")
        return str(min(self.shapes.codes[hits])) if len(hits) else None

    def neighbours(self, cell: str) -> frozenset[str]:
        known = self._neighbours.get(cell)
        if known is not None:
            return known
        if self.shapes is None or cell not in self.shapes.index:
            return frozenset()
        geom = self.shapes.geoms[self.shapes.index[cell]]
        hits = self.shapes.tree.query(geom, predicate="intersects")
        found = self._neighbours[cell] = frozenset(str(code) for code in self.shapes.codes[hits]) - {cell}
        return found

    def cameras_covering(self, cells: Sequence[str]) -> tuple[str, ...]:
        seen: dict[str, float] = defaultdict(float)
        nearest: dict[str, float] = {}
        for cell in cells:
            for view in self.coverage.cameras_seeing(cell):
                seen[view.camera_id] += view.fraction_seen
                nearest[view.camera_id] = min(nearest.get(view.camera_id, view.distance_m), view.distance_m)
        return tuple(sorted(seen, key=lambda cam: (-seen[cam], nearest[cam], cam)))

    def outline(self, cell: str) -> tuple[LonLat, ...] | None:
        if self.shapes is None or cell not in self.shapes.index:
            return None
        geom = self.shapes.geoms[self.shapes.index[cell]]
        polygon = max(getattr(geom, "geoms", [geom]), key=lambda g: g.area)
        return tuple((round(x, 6), round(y, 6)) for x, y in polygon.exterior.coords)

    def centre(self, cell: str) -> LonLat | None:
        record = self.cells.get(cell)
        return (record.lon, record.lat) if record else None

    def name(self, code: str) -> str | None:
        return self.names.get(code)


def _shapes(path: Path) -> CellShapes | None:
    if path.suffix.lower() not in (".geojson", ".json") or not path.exists():
        return None
    text = path.read_text(encoding="utf-8")
    codes = np.array([f["properties"]["code"] for f in json.loads(text)["features"]], dtype=str)
    geoms = np.asarray(shapely.get_parts(shapely.from_geojson(text)), dtype=object)
    shapely.prepare(geoms)
    return CellShapes(codes, geoms, shapely.STRtree(geoms), {str(c): i for i, c in enumerate(codes)})


def _names(paths: Sequence[Path]) -> dict[str, str]:
    names: dict[str, str] = {}
    for path in paths:
        if path.suffix.lower() in (".geojson", ".json") and path.exists():
            for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
                props = feature["properties"]
                names[str(props["code"])] = str(props.get("name_zh") or props.get("name") or props["code"])
    return names


def load_gis_places(manifest: Path | None = None) -> GisPlaces:
    """The index of the layer set of ``manifest`` (None: the bundled Heihe sample)."""
    from gis.layers import DEFAULT_MANIFEST, read_manifest

    data_dir = data_dir_for(manifest)
    specs = {spec.role: spec for spec in read_manifest(manifest or DEFAULT_MANIFEST).layers}
    cells = {c.cell_code: c for c in load_cells(data_dir)}
    flooding: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for cell in cells.values():
        if cell.gauge_id and cell.inundation_stage_m is not None:
            flooding[cell.gauge_id].append((cell.inundation_stage_m, cell.cell_code))
    return GisPlaces(
        cells=cells, flooding={g: tuple(sorted(v)) for g, v in flooding.items()},
        gauge_points={g.gauge_id: (g.lon, g.lat) for g in load_gauges(data_dir)},
        coverage=CameraCoverage.load(data_dir),
        shapes=_shapes(specs["cell"].file) if "cell" in specs else None,
        names=_names([specs[role].file for role in NAMED_LAYERS if role in specs]),
    )
