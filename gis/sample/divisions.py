"""Generated (SAMPLE) townships, villages and grid cells under the real counties.

Everything here works in UTM 52N metres. Townships and villages are Voronoi
partitions of their parent from seeded random points, so every level tiles its
parent exactly and each code extends its parent's: county (6 digits) ->
township (+3) -> village (+3) -> cell (+3, numbered within its village).
Cells are grid squares clipped to their village: 2 km squares in the
countryside, 250 m squares in Aihui's town (Heihe's urban area).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon

RURAL_CELL_M = 2000.0
URBAN_CELL_M = 250.0
URBAN_RADIUS_M = 5000.0
RURAL_VILLAGE_KM2 = 55.0  # one sample village per ~55 km2
URBAN_COMMUNITIES_PER_STREET = 8
URBAN_STREETS = 4


@dataclass(frozen=True)
class Division:
    code: str
    parent_code: str
    name: str
    name_zh: str
    geometry: Polygon | MultiPolygon
    seed_xy: tuple[float, float]
    urban: bool


def random_points_in(geom: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform random points inside ``geom`` (rejection sampling), shape (n, 2)."""
    minx, miny, maxx, maxy = geom.bounds
    shapely.prepare(geom)
    out: list[np.ndarray] = []
    got = 0
    while got < n:
        xs = rng.uniform(minx, maxx, 4 * n)
        ys = rng.uniform(miny, maxy, 4 * n)
        keep = shapely.contains_xy(geom, xs, ys)
        pts = np.column_stack([xs[keep], ys[keep]])
        out.append(pts)
        got += len(pts)
    return np.concatenate(out)[:n]


def _polygonal(geom: shapely.Geometry) -> Polygon | MultiPolygon | None:
    parts = [p for p in getattr(geom, "geoms", [geom]) if isinstance(p, Polygon) and p.area > 0]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def voronoi_split(parent: shapely.Geometry, seeds: np.ndarray) -> list[tuple[np.ndarray, Polygon | MultiPolygon]]:
    """Split ``parent`` into the Voronoi regions of ``seeds``, ordered north-west first."""
    if len(seeds) == 1:
        return [(seeds[0], parent)]
    regions = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=parent)
    pieces = []
    for region in regions.geoms:
        clipped = _polygonal(shapely.intersection(region, parent))
        if clipped is None:
            continue
        inside = [s for s in seeds if region.contains(Point(s))]
        pieces.append((inside[0] if inside else np.asarray(clipped.centroid.coords[0]), clipped))
    pieces.sort(key=lambda p: (-round(p[0][1], -3), p[0][0]))
    return pieces


def townships(county_code: str, county_name: str, county: shapely.Geometry, urban_area: shapely.Geometry | None,
              rng: np.random.Generator) -> list[Division]:
    """Sample townships of one county; with ``urban_area``, its town is split into streets first."""
    out: list[Division] = []
    rural = county if urban_area is None else county.difference(urban_area)
    parts: list[tuple[np.ndarray, shapely.Geometry, bool]] = []
    if urban_area is not None:
        seeds = random_points_in(urban_area, URBAN_STREETS, rng)
        parts += [(s, g, True) for s, g in voronoi_split(urban_area, seeds)]
    n_rural = int(np.clip(round(rural.area / 8.0e8), 6, 18))  # ~ one per 800 km2
    seeds = random_points_in(rural, n_rural, rng)
    parts += [(s, g, False) for s, g in voronoi_split(rural, seeds)]
    for i, (seed, geom, urban) in enumerate(parts, start=1):
        kind = "street" if urban else "township"
        out.append(Division(
            code=f"{county_code}{i:03d}", parent_code=county_code,
            name=f"{county_name} {kind} {i:03d} (SAMPLE)", name_zh=f"{county_name}样例{'街道' if urban else '乡镇'}{i:03d}",
            geometry=geom, seed_xy=(float(seed[0]), float(seed[1])), urban=urban,
        ))
    return out


def villages(township: Division, rng: np.random.Generator) -> list[Division]:
    """Sample villages (communities in urban streets) of one township."""
    if township.urban:
        n = URBAN_COMMUNITIES_PER_STREET
    else:
        n = int(max(3, round(township.geometry.area / (RURAL_VILLAGE_KM2 * 1e6))))
    seeds = random_points_in(township.geometry, n, rng)
    kind, kind_zh = ("community", "社区") if township.urban else ("village", "村")
    return [
        Division(
            code=f"{township.code}{i:03d}", parent_code=township.code,
            name=f"{kind.capitalize()} {township.code}{i:03d} (SAMPLE)", name_zh=f"样例{kind_zh}{township.code[-3:]}{i:03d}",
            geometry=geom, seed_xy=(float(seed[0]), float(seed[1])), urban=township.urban,
        )
        for i, (seed, geom) in enumerate(voronoi_split(township.geometry, seeds), start=1)
    ]


def _squares(bounds: tuple[float, float, float, float], size: float) -> np.ndarray:
    minx, miny, maxx, maxy = bounds
    x0, y0 = np.floor(minx / size) * size, np.floor(miny / size) * size
    xs = np.arange(x0, maxx, size)
    ys = np.arange(y0, maxy, size)
    gx, gy = np.meshgrid(xs, ys)
    return shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + size, gy.ravel() + size)


@dataclass(frozen=True)
class CellPiece:
    code: str
    village_code: str
    geometry: Polygon | MultiPolygon
    urban: bool


def cells(village_list: list[Division], min_area_m2: float = 1.0) -> list[CellPiece]:
    """Grid squares clipped to each village, numbered north-west first within the village."""
    out: list[CellPiece] = []
    groups = [(True, URBAN_CELL_M), (False, RURAL_CELL_M)]
    for urban, size in groups:
        vs = [v for v in village_list if v.urban == urban]
        if not vs:
            continue
        vgeoms = np.array([v.geometry for v in vs])
        squares = _squares(tuple(shapely.total_bounds(vgeoms)), size)
        tree = shapely.STRtree(squares)
        v_idx, s_idx = tree.query(vgeoms, predicate="intersects")
        pieces = shapely.intersection(vgeoms[v_idx], squares[s_idx])
        for vi in np.unique(v_idx):
            mine = [(p, s_idx[k]) for k, p in zip(np.nonzero(v_idx == vi)[0], pieces[v_idx == vi])]
            polys = [(_polygonal(p), s) for p, s in mine]
            polys = [(g, s) for g, s in polys if g is not None and g.area >= min_area_m2]
            polys.sort(key=lambda gs: (-squares[gs[1]].bounds[3], squares[gs[1]].bounds[0]))
            if len(polys) > 999:
                raise ValueError(f"village {vs[vi].code} has {len(polys)} cells; codes allow 999")
            out += [CellPiece(f"{vs[vi].code}{i:03d}", vs[vi].code, g, urban) for i, (g, _) in enumerate(polys, start=1)]
    return out


def urban_area(center_xy: tuple[float, float], county: shapely.Geometry) -> shapely.Geometry:
    """Aihui's town: a disc around the seat of government, inside the county."""
    return _polygonal(Point(center_xy).buffer(URBAN_RADIUS_M, 32).intersection(county))  # type: ignore[return-value]
