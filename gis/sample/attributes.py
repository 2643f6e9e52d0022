"""Per-cell SAMPLE attributes: population, fuel cover, and flood inundation stage.

All are synthetic but shaped like the place: people gather in Heihe's town and
the county seats, forest covers the Lesser Khingan north and east while the
south-west is farmland, and cells near a river flood at a stage of their
controlling gauge that rises with distance from the water.
"""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import NDArray

from gis.sample.gauges import GaugeRow
from gis.sample.rivers import MAIN_RIVER, River

TOTAL_POPULATION = 1_286_000  # order of Heihe's 2020 census total; the split is sample
FLOOD_REACH_M = {MAIN_RIVER: 12_000.0}
TRIBUTARY_REACH_M = 5_000.0


def population(cx: np.ndarray, cy: np.ndarray, area_m2: np.ndarray, centres: list[tuple[float, float, float, float]],
               village_xy: np.ndarray, rng: np.random.Generator) -> NDArray[np.int64]:
    """People per cell: rural base + village clusters + towns (x, y, peak per km2, sigma m)."""
    density = np.full(cx.shape, 2.0)
    weights = rng.lognormal(0.0, 0.6, len(village_xy)) * 120.0
    tree = shapely.STRtree(shapely.points(village_xy))
    near = tree.query(shapely.points(cx, cy), predicate="dwithin", distance=3000.0)
    d = np.hypot(cx[near[0]] - village_xy[near[1], 0], cy[near[0]] - village_xy[near[1], 1])
    np.add.at(density, near[0], weights[near[1]] * np.exp(-(d / 900.0) ** 2))
    for x, y, peak, sigma in centres:
        density += peak * np.exp(-(np.hypot(cx - x, cy - y) / sigma) ** 2)
    people = density * area_m2 / 1e6 * rng.lognormal(0.0, 0.25, cx.shape)
    people *= TOTAL_POPULATION / people.sum()
    return np.floor(people + 0.5).astype(np.int64)


def _smooth_field(cx: np.ndarray, cy: np.ndarray, rng: np.random.Generator, scale_m: float, n: int = 12) -> np.ndarray:
    """A smooth random field in [-1, 1] from a few random plane waves."""
    out = np.zeros(cx.shape)
    for _ in range(n):
        k = rng.uniform(0.5, 2.0) * 2 * np.pi / scale_m
        theta, phase = rng.uniform(0, np.pi), rng.uniform(0, 2 * np.pi)
        out += np.cos(k * (cx * np.cos(theta) + cy * np.sin(theta)) + phase)
    return out / np.sqrt(n / 2) / 2.5


def fuel(cx: np.ndarray, cy: np.ndarray, lat: np.ndarray, lon: np.ndarray, density_km2: np.ndarray,
         rng: np.random.Generator) -> tuple[NDArray[np.float64], NDArray[np.str_]]:
    """Forest fraction and fuel type: forest north-east, farmland south-west, none in town."""
    trend = 0.55 + 0.45 * (lat - 49.2) + 0.25 * (lon - 126.8)
    frac = np.clip(trend + 0.35 * _smooth_field(cx, cy, rng, 40_000.0), 0.0, 1.0)
    frac = np.where(density_km2 > 300, 0.0, frac * np.clip(1.0 - density_km2 / 300.0, 0.0, 1.0))
    kind = np.full(cx.shape, "cropland", dtype="<U8")
    kind[frac >= 0.25] = "grass"
    kind[frac >= 0.6] = "mixed"
    kind[(frac >= 0.6) & (lat >= 49.6)] = "conifer"
    kind[density_km2 > 300] = "urban"
    return np.round(frac, 3), kind


def inundation(cx: np.ndarray, cy: np.ndarray, rivers: list[River], rows: list[GaugeRow],
               gauge_xy: dict[str, tuple[float, float]], rng: np.random.Generator
               ) -> tuple[NDArray[np.str_], NDArray[np.float64], NDArray[np.str_], NDArray[np.float64]]:
    """River, distance to it (m), controlling gauge and flood stage per cell.

    A cell within reach of a river is controlled by the gauge on that river
    nearest along the channel; it floods when that gauge reads
    ``warning - 0.6 m + (guaranteed - warning) * d / 1.5 km`` (+ smooth noise), so
    cells on the bank go under near the warning level and cells 1.5 km out at
    about the guaranteed level.
    """
    n = cx.shape[0]
    pts = shapely.points(cx, cy)
    best_d = np.full(n, np.inf)
    best_river = np.full(n, "", dtype="<U16")
    for r in rivers:
        reach = FLOOD_REACH_M.get(r.river, TRIBUTARY_REACH_M)
        d = shapely.distance(pts, r.line)
        take = (d < reach) & (d < best_d)
        best_d[take], best_river[take] = d[take], r.river
    gauge = np.full(n, "", dtype="<U24")
    stage = np.full(n, np.nan)
    noise = 0.3 * _smooth_field(cx, cy, rng, 8_000.0)
    for r in rivers:
        mine = np.nonzero(best_river == r.river)[0]
        gs = [g for g in rows if g.spec.river == r.river and g.spec.gauge_id in gauge_xy]
        if not len(mine) or not gs:
            continue
        along_cells = shapely.line_locate_point(r.line, pts[mine])
        along_g = np.array([r.line.project(shapely.Point(gauge_xy[g.spec.gauge_id])) for g in gs])
        pick = np.argmin(np.abs(along_cells[:, None] - along_g[None, :]), axis=1)
        warn = np.array([g.spec.warning_m for g in gs])[pick]
        guar = np.array([g.spec.guaranteed_m for g in gs])[pick]
        gauge[mine] = np.array([g.spec.gauge_id for g in gs])[pick]
        stage[mine] = warn - 0.6 + (guar - warn) * best_d[mine] / 1500.0 + noise[mine]
    dist = np.where(np.isfinite(best_d), best_d, np.nan)
    return best_river, dist, gauge, np.round(stage, 2)
