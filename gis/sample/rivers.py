"""Sample river lines: the real Heilongjiang line plus drawn tributaries; gauges on them.

Tributaries are SAMPLE lines: each runs from a source point through its gauges
(upstream -> downstream) to its mouth (on the Heilongjiang line when it drains
there), with seeded, smooth meanders that leave the gauges on the line.
Everything is in UTM 52N metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from shapely.geometry import LineString, Point

from gis.crs import to_metric
from gis.sample.gauges import GaugeRow

#: Where each sample tributary rises (approximate WGS84 lon/lat) and, when it
#: leaves the city without reaching the Heilongjiang, where its line ends.
SOURCES: dict[str, tuple[float, float]] = {
    "fabiela": (126.75, 50.92), "gongbiela": (126.20, 50.45), "woniu": (127.00, 49.30),
    "xunbiela": (127.75, 49.20), "xunhe": (128.05, 48.40), "kuerbin": (128.30, 48.80),
    "nemoer": (127.20, 48.85), "wuyuer": (126.80, 48.40), "nenjiang": (125.55, 51.00),
}
ENDS: dict[str, tuple[float, float]] = {
    "nemoer": (125.60, 48.25), "wuyuer": (126.45, 47.60), "nenjiang": (125.30, 48.70),
}
MAIN_RIVER = "heilongjiang"
_MEANDER_M = 1200.0
_STEP_M = 1500.0


@dataclass(frozen=True)
class River:
    river: str
    line: LineString  # UTM 52N, upstream -> downstream
    sample: bool


def _xy(lonlat: tuple[float, float]) -> tuple[float, float]:
    x, y = to_metric(lonlat[0], lonlat[1])
    return float(x), float(y)


def _meander(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Points from a to b (a excluded) with a smooth lateral wiggle that is zero at both ends."""
    length = float(np.hypot(*(b - a)))
    n = max(2, int(length / _STEP_M))
    t = np.linspace(0.0, 1.0, n + 1)[1:]
    normal = np.array([-(b - a)[1], (b - a)[0]]) / max(length, 1e-9)
    waves = sum(rng.normal(0, _MEANDER_M / k) * np.sin(k * np.pi * t + 0) for k in (1, 2, 3, 5))
    return a + np.outer(t, b - a) + np.outer(waves, normal)


def tributary_line(anchors: list[tuple[float, float]], rng: np.random.Generator) -> LineString:
    pts = [np.asarray(anchors[0])]
    for a, b in zip(anchors[:-1], anchors[1:]):
        pts.extend(_meander(np.asarray(a), np.asarray(b), rng))
    return LineString(pts)


def _on_line(line: LineString, xy: tuple[float, float], max_offset_m: float = 15_000.0) -> bool:
    """Whether a gauge position lies along ``line`` (not beyond either end, near the water)."""
    p = Point(xy)
    along = line.project(p)
    return 0.0 < along < line.length and line.distance(p) < max_offset_m


def build_rivers(main_line_m: LineString, rows: list[GaugeRow],
                 rng: np.random.Generator) -> tuple[list[River], dict[str, tuple[float, float]], dict[str, float]]:
    """River lines, gauge positions (UTM) and chainages (km) for gauges on the sample lines.

    Main-stem gauges inside the city are snapped onto the Heilongjiang line and
    their chainage measured along it from the first in-city gauge; tributary
    gauges get chainages measured from their river's source.
    """
    positions: dict[str, tuple[float, float]] = {}
    chainage: dict[str, float] = {}
    main_rows = [r for r in rows if r.spec.river == MAIN_RIVER]
    inside = [r for r in main_rows if _on_line(main_line_m, _xy((r.spec.lon, r.spec.lat)))]
    if inside:
        base_pos = main_line_m.project(Point(_xy((inside[0].spec.lon, inside[0].spec.lat))))
        for r in inside:
            along = main_line_m.project(Point(_xy((r.spec.lon, r.spec.lat))))
            p = main_line_m.interpolate(along)
            positions[r.spec.gauge_id] = (p.x, p.y)
            chainage[r.spec.gauge_id] = inside[0].spec.chainage_km + (along - base_pos) / 1000.0
    rivers = [River(MAIN_RIVER, main_line_m, sample=False)]
    by_id = {r.spec.gauge_id: r for r in rows}
    for name, source in SOURCES.items():
        gauges = sorted((r for r in rows if r.spec.river == name), key=lambda r: r.order)
        anchors = [_xy(source)] + [_xy((g.spec.lon, g.spec.lat)) for g in gauges]
        outlet = gauges[-1].downstream_gauge_id
        if outlet and by_id[outlet].spec.river == MAIN_RIVER:
            mouth = main_line_m.interpolate(main_line_m.project(Point(anchors[-1])))
            anchors.append((mouth.x, mouth.y))
        elif name in ENDS:
            anchors.append(_xy(ENDS[name]))
        line = tributary_line(anchors, rng)
        rivers.append(River(name, line, sample=True))
        for g, xy in zip(gauges, anchors[1:]):
            positions[g.spec.gauge_id] = xy
            chainage[g.spec.gauge_id] = line.project(Point(xy)) / 1000.0
    return rivers, positions, chainage
