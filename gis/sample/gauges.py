"""River gauges of the sample: the Heilongjiang main stem and some tributaries.

Names are real places on these rivers; chainages, datums and the warning,
guaranteed and record stages are SAMPLE values (metres above a local datum),
not official figures. Gauges inside the city are snapped onto the sample river
lines by the generator; upstream/downstream gauges outside the city keep the
approximate town positions below.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GaugeSpec:
    gauge_id: str
    name: str
    name_zh: str
    river: str
    lon: float
    lat: float
    chainage_km: float
    warning_m: float
    guaranteed_m: float
    record_m: float


# Heilongjiang main stem, upstream -> downstream; chainage from the Shilka/Argun confluence.
_MAIN = [
    GaugeSpec("hlj-luoguhe", "Luoguhe", "洛古河", "heilongjiang", 122.36, 53.34, 5, 6.2, 7.4, 8.1),
    GaugeSpec("hlj-mohe", "Mohe (Beiji)", "漠河", "heilongjiang", 122.37, 53.48, 95, 6.4, 7.6, 8.3),
    GaugeSpec("hlj-kaikukang", "Kaikukang", "开库康", "heilongjiang", 124.77, 53.15, 330, 6.6, 7.8, 8.6),
    GaugeSpec("hlj-oupu", "Oupu", "欧浦", "heilongjiang", 125.55, 52.60, 450, 6.8, 8.0, 8.9),
    GaugeSpec("hlj-huma", "Huma", "呼玛", "heilongjiang", 126.66, 51.73, 610, 7.0, 8.3, 9.2),
    GaugeSpec("hlj-sandaoka", "Sandaoka", "三道卡", "heilongjiang", 127.05, 51.20, 700, 7.1, 8.4, 9.3),
    GaugeSpec("hlj-dawujiazi", "Dawujiazi", "大五家子", "heilongjiang", 127.28, 50.52, 800, 7.2, 8.5, 9.4),
    GaugeSpec("hlj-heihe", "Heihe", "黑河", "heilongjiang", 127.50, 50.25, 850, 7.3, 8.6, 9.6),
    GaugeSpec("hlj-aihui", "Aihui", "瑷珲", "heilongjiang", 127.50, 50.02, 880, 7.4, 8.7, 9.7),
    GaugeSpec("hlj-shangmachang", "Shangmachang", "上马厂", "heilongjiang", 127.60, 49.75, 920, 7.5, 8.8, 9.8),
    GaugeSpec("hlj-sunwu", "Sunwu (Woniuhe)", "卧牛河", "heilongjiang", 127.95, 49.62, 975, 7.5, 8.9, 9.9),
    GaugeSpec("hlj-xunke", "Xunke (Qike)", "奇克", "heilongjiang", 128.47, 49.58, 1030, 7.6, 9.0, 10.0),
    GaugeSpec("hlj-chelu", "Chelu", "车陆", "heilongjiang", 128.80, 49.35, 1075, 7.7, 9.1, 10.1),
    GaugeSpec("hlj-ganchazi", "Ganchazi", "干岔子", "heilongjiang", 129.15, 49.36, 1080, 7.8, 9.2, 10.2),
    GaugeSpec("hlj-jiayin", "Jiayin", "嘉荫", "heilongjiang", 130.40, 48.89, 1250, 8.0, 9.4, 10.5),
    GaugeSpec("hlj-luobei", "Luobei (Mingshan)", "名山", "heilongjiang", 130.80, 47.65, 1420, 8.2, 9.6, 10.7),
    GaugeSpec("hlj-qindeli", "Qindeli", "勤得利", "heilongjiang", 132.85, 47.95, 1660, 8.4, 9.8, 11.0),
    GaugeSpec("hlj-fuyuan", "Fuyuan", "抚远", "heilongjiang", 134.29, 48.36, 1880, 8.5, 9.9, 11.2),
]

# Tributaries (sample lines drawn by the generator), upstream -> downstream.
# The last gauge of a tributary flowing into the main stem drains to `outlet`.
_TRIBUTARIES: dict[str, tuple[str | None, list[GaugeSpec]]] = {
    "fabiela": ("hlj-heihe", [
        GaugeSpec("fbl-xinsheng", "Fabiela at Xinsheng", "法别拉河新生", "fabiela", 126.95, 50.78, 40, 3.6, 4.5, 5.1),
        GaugeSpec("fbl-kalun", "Fabiela at Kalunshan", "法别拉河卡伦山", "fabiela", 127.25, 50.45, 95, 3.9, 4.8, 5.4),
    ]),
    "gongbiela": ("hlj-aihui", [
        GaugeSpec("gbl-ershierzhan", "Gongbiela at Ershierzhan", "公别拉河二十二站", "gongbiela", 126.55, 50.35, 30, 3.4, 4.3, 4.9),
        GaugeSpec("gbl-xigangzi", "Gongbiela at Xigangzi", "公别拉河西岗子", "gongbiela", 127.05, 50.20, 85, 3.7, 4.6, 5.2),
        GaugeSpec("gbl-mouth", "Gongbiela at mouth", "公别拉河口", "gongbiela", 127.40, 50.10, 125, 4.0, 4.9, 5.6),
    ]),
    "woniu": ("hlj-sunwu", [
        GaugeSpec("wn-shenshan", "Woniu at Shenshan", "卧牛河沈山", "woniu", 127.25, 49.40, 25, 3.2, 4.0, 4.6),
        GaugeSpec("wn-sunwu", "Woniu at Sunwu town", "卧牛河孙吴", "woniu", 127.55, 49.45, 60, 3.5, 4.4, 5.0),
    ]),
    "xunbiela": ("hlj-xunke", [
        GaugeSpec("xbl-upper", "Xunbiela upper", "逊别拉河上游", "xunbiela", 127.95, 49.30, 35, 3.3, 4.2, 4.8),
        GaugeSpec("xbl-lower", "Xunbiela lower", "逊别拉河下游", "xunbiela", 128.30, 49.45, 90, 3.6, 4.5, 5.1),
    ]),
    "xunhe": ("hlj-ganchazi", [
        GaugeSpec("xun-hongxing", "Xun at Hongxing", "逊河红星", "xunhe", 128.30, 48.60, 40, 3.5, 4.4, 5.0),
        GaugeSpec("xun-xinxing", "Xun at Xinxing", "逊河新兴", "xunhe", 128.65, 48.85, 95, 3.8, 4.7, 5.4),
        GaugeSpec("xun-mouth", "Xun at mouth", "逊河口", "xunhe", 128.95, 49.05, 150, 4.1, 5.0, 5.7),
    ]),
    "kuerbin": ("hlj-chelu", [
        GaugeSpec("keb-reservoir", "Kuerbin below reservoir", "库尔滨水库下", "kuerbin", 128.45, 49.00, 30, 3.4, 4.3, 4.9),
        GaugeSpec("keb-mouth", "Kuerbin at mouth", "库尔滨河口", "kuerbin", 128.70, 49.25, 75, 3.7, 4.6, 5.2),
    ]),
    "nemoer": (None, [
        GaugeSpec("nmr-longzhen", "Nemoer at Longzhen", "讷谟尔河龙镇", "nemoer", 126.85, 48.70, 45, 3.3, 4.1, 4.8),
        GaugeSpec("nmr-wudalianchi", "Nemoer at Wudalianchi", "讷谟尔河五大连池", "nemoer", 126.25, 48.52, 110, 3.6, 4.5, 5.1),
        GaugeSpec("nmr-shuangshan", "Nemoer at Shuangshan", "讷谟尔河双山", "nemoer", 125.85, 48.35, 160, 3.9, 4.8, 5.5),
    ]),
    "wuyuer": (None, [
        GaugeSpec("wye-beian", "Wuyuer at Bei'an", "乌裕尔河北安", "wuyuer", 126.55, 48.20, 50, 3.1, 3.9, 4.5),
        GaugeSpec("wye-zhaoguang", "Wuyuer at Zhaoguang", "乌裕尔河赵光", "wuyuer", 126.60, 47.85, 95, 3.3, 4.1, 4.7),
    ]),
    "nenjiang": (None, [
        GaugeSpec("nj-shiliuzhan", "Nen at Shiliuzhan", "嫩江十六站", "nenjiang", 125.45, 50.70, 120, 4.5, 5.6, 6.3),
        GaugeSpec("nj-nenjiang", "Nen at Nenjiang town", "嫩江镇", "nenjiang", 125.20, 49.17, 330, 4.8, 5.9, 6.7),
        GaugeSpec("nj-keluo", "Nen at Keluo", "嫩江科洛", "nenjiang", 125.30, 48.85, 380, 5.0, 6.1, 6.9),
    ]),
}

COLUMNS = (
    "gauge_id", "name", "name_zh", "river", "order", "lon", "lat", "chainage_km",
    "warning_m", "guaranteed_m", "record_m", "downstream_gauge_id",
)


@dataclass(frozen=True)
class GaugeRow:
    spec: GaugeSpec
    order: int
    downstream_gauge_id: str


def gauge_rows() -> list[GaugeRow]:
    """Every gauge with its order on its river and the gauge its water reaches next."""
    rows = [
        GaugeRow(g, i + 1, _MAIN[i + 1].gauge_id if i + 1 < len(_MAIN) else "")
        for i, g in enumerate(_MAIN)
    ]
    for outlet, gauges in _TRIBUTARIES.values():
        for i, g in enumerate(gauges):
            nxt = gauges[i + 1].gauge_id if i + 1 < len(gauges) else (outlet or "")
            rows.append(GaugeRow(g, i + 1, nxt))
    return rows


def write_gauges(path: Path, positions: dict[str, tuple[float, float]] | None = None,
                 chainages: dict[str, float] | None = None) -> int:
    """Write gauges.csv; ``positions`` (lon, lat) and ``chainages`` (km) override the table."""
    positions = positions or {}
    chainages = chainages or {}
    rows = gauge_rows()
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(COLUMNS)
        for r in rows:
            g = r.spec
            lon, lat = positions.get(g.gauge_id, (g.lon, g.lat))
            out.writerow([
                g.gauge_id, g.name, g.name_zh, g.river, r.order, f"{lon:.5f}", f"{lat:.5f}",
                f"{chainages.get(g.gauge_id, g.chainage_km):.1f}", f"{g.warning_m:.2f}", f"{g.guaranteed_m:.2f}",
                f"{g.record_m:.2f}", r.downstream_gauge_id,
            ])
    return len(rows)
