"""SAMPLE point assets: weather stations, sensors, cameras (with view sectors), facilities.

Positions are drawn inside grid cells chosen with weights that suit the asset
(people for street cameras and schools, forest for forestry cameras and smoke
sensors, river cells for water-level sensors). All in UTM 52N metres here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from gis.sample.divisions import random_points_in

DEPARTMENTS = ("police", "city_management", "forestry", "tourism")
CAMERA_COUNTS = {"police": 1800, "city_management": 1200, "forestry": 1500, "tourism": 500}
#: department -> (GB/T 28181 industry code, network code); sample assignment
CAMERA_ID_PARTS = {"police": ("00", "5"), "city_management": ("08", "6"), "forestry": ("20", "6"), "tourism": ("40", "7")}
CAMERA_TYPE = "132"  # GB/T 28181 device type: camera
FOV_DEG = {"police": (50, 90), "city_management": (50, 100), "forestry": (30, 60), "tourism": (70, 110)}
RANGE_M = {"police": (80, 300), "city_management": (80, 250), "forestry": (2000, 6000), "tourism": (150, 800)}
SENSOR_COUNTS = {"smoke": 4000, "temperature": 2500, "rain": 2000, "water_level": 1500}
SENSOR_UNITS = {"smoke": "%obs/m", "temperature": "degC", "rain": "mm", "water_level": "m"}
FACILITY_COUNTS = {"school": 480, "hospital": 120, "shelter": 260}


@dataclass(frozen=True)
class CellPool:
    """What the asset placement needs to know about the cells (parallel arrays)."""

    geoms: NDArray[np.object_]
    codes: NDArray[np.str_]
    population: NDArray[np.float64]
    forest_frac: NDArray[np.float64]
    river_distance_m: NDArray[np.float64]
    area_m2: NDArray[np.float64]

    def pick(self, weights: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        p = np.asarray(weights, float)
        return rng.choice(len(p), size=n, p=p / p.sum())

    def points_in(self, idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return np.vstack([random_points_in(self.geoms[i], 1, rng) for i in idx])


def sector(x: float, y: float, heading_deg: float, fov_deg: float, range_m: float, steps: int = 12) -> shapely.Polygon:
    """A camera's view: a circular sector; heading clockwise from north."""
    a = np.radians(heading_deg + np.linspace(-fov_deg / 2, fov_deg / 2, steps + 1))
    arc = np.column_stack([x + range_m * np.sin(a), y + range_m * np.cos(a)])
    return shapely.Polygon(np.vstack([[x, y], arc, [x, y]]))


def camera_id(county_code: str, department: str, serial: int) -> str:
    """20-digit GB/T 28181-style id: centre(8) industry(2) type(3) network(1) serial(6)."""
    industry, network = CAMERA_ID_PARTS[department]
    cid = f"{county_code}00{industry}{CAMERA_TYPE}{network}{serial:06d}"
    assert len(cid) == 20 and cid.isdigit(), cid
    return cid


def bearing_deg(x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> np.ndarray:
    return np.degrees(np.arctan2(x1 - x0, y1 - y0)) % 360.0


Columns = dict[str, np.ndarray]


def stations(pool: CellPool, seats_xy: dict[str, tuple[float, float]], n: int, rng: np.random.Generator) -> Columns:
    """Weather stations: one at each county seat, the rest spread by area."""
    seats = np.array(list(seats_xy.values()))
    idx = pool.pick(np.sqrt(pool.area_m2), n - len(seats), rng)
    xy = np.vstack([seats, pool.points_in(idx, rng)])
    return {"station_id": np.array([f"ws-{i:03d}" for i in range(1, n + 1)]), "x": xy[:, 0], "y": xy[:, 1]}


def sensors(pool: CellPool, cell_gauge: np.ndarray, rng: np.random.Generator) -> Columns:
    """10,000 IoT sensors of four kinds, each where that kind is useful."""
    near_river = np.nan_to_num(pool.river_distance_m, nan=1e9)
    weights = {
        "smoke": pool.forest_frac * pool.area_m2 + 50.0 * pool.population,
        "temperature": np.sqrt(pool.area_m2) + 5.0 * pool.population,
        "rain": pool.area_m2,
        "water_level": np.where(near_river < 2000.0, 1.0 / (near_river + 200.0), 0.0),
    }
    cols: dict[str, list] = {k: [] for k in ("sensor_id", "kind", "unit", "source", "gauge_id")}
    xs, ys = [], []
    for kind, count in SENSOR_COUNTS.items():
        idx = pool.pick(weights[kind], count, rng)
        xy = pool.points_in(idx, rng)
        xs.append(xy[:, 0])
        ys.append(xy[:, 1])
        cols["sensor_id"] += [f"{kind}-{i:05d}" for i in range(1, count + 1)]
        cols["kind"] += [kind] * count
        cols["unit"] += [SENSOR_UNITS[kind]] * count
        if kind == "smoke":
            cols["source"] += list(np.where(pool.forest_frac[idx] >= 0.2, "forestry", "city_management"))
        else:
            cols["source"] += ["water_resources" if kind == "water_level" else "meteorology"] * count
        cols["gauge_id"] += list(cell_gauge[idx]) if kind == "water_level" else [""] * count
    return {k: np.asarray(v) for k, v in cols.items()} | {"x": np.concatenate(xs), "y": np.concatenate(ys)}


def facilities(pool: CellPool, rng: np.random.Generator) -> Columns:
    """Schools, hospitals and shelters where people live."""
    cols: dict[str, list] = {k: [] for k in ("facility_id", "kind", "name", "capacity")}
    xs, ys = [], []
    exponent = {"school": 1.0, "hospital": 1.3, "shelter": 0.8}
    capacity = {"school": (200, 2500), "hospital": (50, 900), "shelter": (300, 5000)}
    for kind, count in FACILITY_COUNTS.items():
        idx = pool.pick(pool.population ** exponent[kind] + 1e-6, count, rng)
        xy = pool.points_in(idx, rng)
        xs.append(xy[:, 0])
        ys.append(xy[:, 1])
        cols["facility_id"] += [f"{kind}-{i:04d}" for i in range(1, count + 1)]
        cols["kind"] += [kind] * count
        cols["name"] += [f"Sample {kind} {i:04d}" for i in range(1, count + 1)]
        cols["capacity"] += list(rng.integers(*capacity[kind], count))
    return {k: np.asarray(v) for k, v in cols.items()} | {"x": np.concatenate(xs), "y": np.concatenate(ys)}


SCENIC_LONLAT = [(126.12, 48.72), (127.50, 50.24), (127.48, 49.98)]  # Wudalianchi, Heihe riverside, Aihui site


def cameras(pool: CellPool, river_lines: list[shapely.LineString], scenic_xy: np.ndarray,
            rng: np.random.Generator) -> tuple[Columns, NDArray[np.object_]]:
    """5,000 cameras of four departments with their view sectors."""
    rep = shapely.point_on_surface(pool.geoms)
    px, py = shapely.get_x(rep), shapely.get_y(rep)
    scenic = np.min(np.hypot(px[:, None] - scenic_xy[None, :, 0], py[:, None] - scenic_xy[None, :, 1]), axis=1)
    weights = {
        "police": pool.population ** 1.2 + 1e-6,
        "city_management": pool.population + 1e-6,
        "forestry": pool.forest_frac ** 2 * pool.area_m2 + 1e-6,
        "tourism": np.exp(-scenic / 6000.0) * (1.0 + pool.population) + 1e-9,
    }
    rivers = shapely.union_all(river_lines)
    cols: dict[str, list] = {k: [] for k in ("camera_id", "department", "scene", "protocol", "heading_deg", "fov_deg", "range_m")}
    xs, ys, views = [], [], []
    serial = 0
    for dept, count in CAMERA_COUNTS.items():
        idx = pool.pick(weights[dept], count, rng)
        xy = pool.points_in(idx, rng)
        river_d = shapely.distance(shapely.points(xy), rivers)
        nearest = shapely.shortest_line(shapely.points(xy), rivers)
        rx, ry = shapely.get_x(shapely.get_point(nearest, 1)), shapely.get_y(shapely.get_point(nearest, 1))
        u = rng.uniform(size=count)
        if dept == "forestry":
            scene = np.where((river_d < 1500) & (u < 0.3), "river", "forest")
        elif dept == "tourism":
            scene = np.where(river_d < 1000, "river", np.where(pool.forest_frac[idx] > 0.5, "forest", "square"))
        else:
            scene = np.where((river_d < 800) & (u < 0.5), "river", np.where(u < 0.75, "street", "square"))
        heading = np.where(scene == "river", bearing_deg(xy[:, 0], xy[:, 1], rx, ry), rng.uniform(0, 360, count))
        fov = rng.uniform(*FOV_DEG[dept], count)
        rng_m = rng.uniform(*RANGE_M[dept], count)
        for i in range(count):
            serial += 1
            cols["camera_id"].append(camera_id(str(pool.codes[idx[i]])[:6], dept, serial))
            views.append(sector(xy[i, 0], xy[i, 1], heading[i], fov[i], rng_m[i]))
        cols["department"] += [dept] * count
        cols["scene"] += list(scene)
        cols["protocol"] += list(rng.choice(["http", "rtsp", "file"], size=count, p=[0.9, 0.08, 0.02]))
        cols["heading_deg"] += list(np.round(heading, 1))
        cols["fov_deg"] += list(np.round(fov, 1))
        cols["range_m"] += list(np.round(rng_m, 0))
        xs.append(xy[:, 0])
        ys.append(xy[:, 1])
    out = {k: np.asarray(v) for k, v in cols.items()} | {"x": np.concatenate(xs), "y": np.concatenate(ys)}
    return out, np.array(views, dtype=object)


def coverage(views: NDArray[np.object_], cam_xy: np.ndarray, pool: CellPool) -> Columns:
    """Camera -> cell pairs: share of the cell inside the view and distance to the seen part."""
    tree = shapely.STRtree(pool.geoms)
    v_idx, c_idx = tree.query(views, predicate="intersects")
    seen = shapely.intersection(views[v_idx], pool.geoms[c_idx])
    frac = shapely.area(seen) / pool.area_m2[c_idx]
    keep = frac > 1e-4
    centre = shapely.centroid(seen[keep])
    dist = np.hypot(shapely.get_x(centre) - cam_xy[v_idx[keep], 0], shapely.get_y(centre) - cam_xy[v_idx[keep], 1])
    return {"camera": v_idx[keep], "cell": c_idx[keep], "fraction_seen": np.round(frac[keep], 4), "distance_m": np.round(dist, 1)}
