"""Map layers for the page: the GIS layer set simplified for a browser (WGS84 GeoJSON).

Counties, townships and rivers are simplified (topology-preserving) and rounded
to ~10 m; grid cells travel as one point each (a point inside the cell), which
the page draws as a coloured square layer, since 31,000 cell polygons are far
more than a wall display can show or a browser can redraw each second.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from shapely.geometry import mapping, shape

from command_ui.errors import GatewayError
from gis.registry import DEFAULT_DATA_DIR, load_cameras, load_cells, load_gauges
from stream.ingest.registry import load_registry

#: (layer, file, tolerance in degrees) of the polygon/line layers.
LAYERS = (
    ("city", "city.geojson", 0.004),
    ("counties", "counties.geojson", 0.004),
    ("townships", "townships_sample.geojson", 0.002),
    ("rivers", "rivers.geojson", 0.002),
)
WGS84_NAMES = frozenset({"urn:ogc:def:crs:OGC:1.3:CRS84", "EPSG:4326", "urn:ogc:def:crs:EPSG::4326"})
DIGITS = 4


@dataclass(frozen=True, slots=True)
class PageData:
    """The page's static data, encoded once at start-up and served as-is."""

    layers: bytes
    cameras: bytes
    gauges: bytes
    departments: bytes


def _round(coords: Any) -> Any:
    if isinstance(coords, (int, float)):
        return round(float(coords), DIGITS)
    return [_round(c) for c in coords]


def simplify_layer(collection: dict[str, Any], tolerance: float, layer: str) -> dict[str, Any]:
    """A FeatureCollection with simplified, rounded geometries; refuses a non-WGS84 CRS."""
    crs = (collection.get("crs") or {}).get("properties", {}).get("name")
    if crs is not None and crs not in WGS84_NAMES:
        raise GatewayError(f"layer {layer} must be WGS84 (CRS84), got crs {crs!r}")
    features = []
    for feature in collection["features"]:
        geometry = shape(feature["geometry"]).simplify(tolerance, preserve_topology=True)
        if geometry.is_empty:
            continue
        geo = mapping(geometry)
        features.append({"type": "Feature", "properties": feature.get("properties", {}),
                         "geometry": {"type": geo["type"], "coordinates": _round(geo["coordinates"])}})
    return {"type": "FeatureCollection", "features": features}


def _points(rows: Iterable[tuple[Any, ...]]) -> list[list[Any]]:
    return [[*row[:-2], round(row[-2], 5), round(row[-1], 5)] for row in rows]


def build_page_data(data_dir: Path | None = None) -> PageData:
    """Every layer the page draws, from the layer set in ``data_dir`` (default: bundled Heihe)."""
    folder = data_dir or DEFAULT_DATA_DIR
    layers: dict[str, Any] = {}
    for layer, filename, tolerance in LAYERS:
        path = folder / filename
        if not path.is_file():
            raise GatewayError(f"map layer {layer} missing: {path}")
        layers[layer] = simplify_layer(json.loads(path.read_text(encoding="utf-8")), tolerance, layer)
    layers["cells"] = _points((c.cell_code, c.lon, c.lat) for c in load_cells(folder))
    cameras = _points((c.camera_id, c.scene, c.county_code, c.lon, c.lat) for c in load_cameras(folder))
    gauges = [{"gauge_id": g.gauge_id, "name": g.name, "name_zh": g.name_zh, "river": g.river,
               "lon": g.lon, "lat": g.lat, "warning_m": g.warning_m, "guaranteed_m": g.guaranteed_m,
               "record_m": g.record_m, "downstream_gauge_id": g.downstream_gauge_id}
              for g in load_gauges(folder)]
    departments = [{"department_id": d.department_id, "name": d.name, "name_zh": d.name_zh}
                   for d in load_registry().departments.values()]
    return PageData(layers=orjson.dumps(layers), cameras=orjson.dumps(cameras), gauges=orjson.dumps(gauges),
                    departments=orjson.dumps(departments))
