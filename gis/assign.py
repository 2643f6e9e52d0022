"""Spatial assignment: points -> grid cells (and the four levels above), camera views, IDW.

Geometries are in one CRS (pass metric or WGS84 consistently). Points that fall
in no cell are reported with index -1, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from gis.errors import ModelInputError

#: Code lengths of the five levels: city, county, township, village, cell.
LEVEL_LENGTHS = {"city": 6, "county": 6, "township": 9, "village": 12, "cell": 15}


@dataclass(frozen=True)
class CellIndex:
    """An STRtree over the cells, built once."""

    codes: NDArray[np.str_]
    geoms: NDArray[np.object_]
    tree: shapely.STRtree

    @classmethod
    def build(cls, codes: ArrayLike, geoms: ArrayLike) -> CellIndex:
        g = np.asarray(geoms, dtype=object)
        shapely.prepare(g)
        return cls(np.asarray(codes, dtype=str), g, shapely.STRtree(g))


@dataclass(frozen=True)
class Assignment:
    """Cell per point (``index`` -1 = outside every cell) and the codes of every level."""

    index: NDArray[np.int64]
    cell_code: NDArray[np.str_]

    @property
    def outside(self) -> NDArray[np.bool_]:
        return self.index < 0

    def level(self, name: str) -> NDArray[np.str_]:
        """Codes at ``name`` (city, county, township, village, cell); '' for points outside."""
        codes = np.char.asarray(self.cell_code)
        if name == "city":
            return np.where(self.outside, "", np.char.add(codes.astype("U4"), "00"))
        return codes.astype(f"U{LEVEL_LENGTHS[name]}")


def assign_points(index: CellIndex, x: ArrayLike, y: ArrayLike) -> Assignment:
    """Assign each point to the cell containing it (first hit on shared edges)."""
    xs, ys = np.asarray(x, float), np.asarray(y, float)
    p_idx, c_idx = index.tree.query(shapely.points(xs, ys), predicate="intersects")
    cell = np.full(xs.shape[0], -1, dtype=np.int64)
    cell[p_idx[::-1]] = c_idx[::-1]  # reversed assignment keeps the first match
    codes = np.where(cell >= 0, index.codes[np.maximum(cell, 0)], "")
    return Assignment(cell, codes)


@dataclass(frozen=True)
class CameraSight:
    camera_id: str
    fraction_seen: float
    """Share of the area inside the camera's view (0..1)."""
    distance_m: float
    """From the camera to the centroid of the part it sees."""


def cameras_seeing(area: shapely.Geometry, camera_ids: ArrayLike, views: ArrayLike, cam_x: ArrayLike,
                   cam_y: ArrayLike, tree: shapely.STRtree | None = None) -> list[CameraSight]:
    """Cameras whose view overlaps ``area`` (metric CRS), most of it seen first, then nearest."""
    ids, views_a = np.asarray(camera_ids, dtype=str), np.asarray(views, dtype=object)
    tree = tree or shapely.STRtree(views_a)
    hit = tree.query(area, predicate="intersects")
    if not len(hit) or area.area <= 0:
        return []
    seen = shapely.intersection(views_a[hit], area)
    frac = shapely.area(seen) / area.area
    cen = shapely.centroid(seen)
    dist = np.hypot(shapely.get_x(cen) - np.asarray(cam_x, float)[hit], shapely.get_y(cen) - np.asarray(cam_y, float)[hit])
    keep = frac > 0
    order = np.lexsort((dist[keep], -frac[keep]))
    return [CameraSight(str(ids[hit][keep][i]), float(frac[keep][i]), float(dist[keep][i])) for i in order]


def idw(src_x: ArrayLike, src_y: ArrayLike, values: ArrayLike, dst_x: ArrayLike, dst_y: ArrayLike,
        power: float = 2.0, k: int = 8) -> NDArray[np.float64]:
    """Inverse-distance weighting of station values onto targets, from the ``k`` nearest stations.

    ``values`` may be (n_stations,) or (n_stations, n_vars). A target on a station
    takes that station's value. Stations with NaN values are ignored.
    """
    sx, sy = np.asarray(src_x, float), np.asarray(src_y, float)
    v = np.asarray(values, float)
    flat = v.ndim == 1
    v = v[:, None] if flat else v
    ok = ~np.isnan(v).any(axis=1)
    sx, sy, v = sx[ok], sy[ok], v[ok]
    if not len(sx):
        raise ModelInputError("idw needs at least one station with values")
    tx, ty = np.asarray(dst_x, float), np.asarray(dst_y, float)
    k = min(k, len(sx))
    out = np.empty((tx.shape[0], v.shape[1]))
    for start in range(0, tx.shape[0], 8192):  # bounded memory: 8192 x n_stations at a time
        sl = slice(start, start + 8192)
        d = np.hypot(tx[sl, None] - sx[None, :], ty[sl, None] - sy[None, :])
        near = np.argpartition(d, k - 1, axis=1)[:, :k]
        dn = np.take_along_axis(d, near, axis=1)
        w = 1.0 / np.maximum(dn, 1e-9) ** power
        w = np.where(dn[:, :1] <= 1e-9, (dn <= 1e-9).astype(float), w)  # exact hit: that station only
        out[sl] = np.einsum("tk,tkv->tv", w, v[near]) / w.sum(axis=1, keepdims=True)
    return out[:, 0] if flat else out
