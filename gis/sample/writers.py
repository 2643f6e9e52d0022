"""File formats of the sample: GeoJSON for polygons and lines, CSV for point registries.

Coordinates are written in WGS84 with 6 decimals (~0.1 m); files are written in
a fixed order so the same seed gives byte-identical output.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Iterable

import numpy as np
import shapely
from shapely.geometry import mapping

from gis.crs import geom_to_wgs84, to_metric, to_wgs84
from gis.sample import assets as A
from gis.sample.boundaries import CITY_CODE, COUNTIES, RealBoundaries
from gis.sample.divisions import CellPiece, Division
from gis.sample.rivers import River

_PREC = 6


def _round(obj: object) -> object:
    if isinstance(obj, float):
        return round(obj, _PREC)
    if isinstance(obj, (list, tuple)):
        return [_round(o) for o in obj]
    return obj


class SampleWriter:
    def __init__(self, out_dir: Path) -> None:
        self.out = out_dir
        self._cells: tuple[np.ndarray, np.ndarray] | None = None

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return to_wgs84(x, y)

    def geojson(self, name: str, features: Iterable[tuple[dict, shapely.Geometry]]) -> int:
        feats = [
            {"type": "Feature", "properties": props, "geometry": {**(m := mapping(g)), "coordinates": _round(m["coordinates"])}}
            for props, g in features
        ]
        doc = {"type": "FeatureCollection", "name": name.split(".")[0],
               "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}, "features": feats}
        with (self.out / name).open("w", encoding="utf-8") as fh:
            json.dump(doc, fh, ensure_ascii=False, separators=(",", ":"))
            fh.write("\n")
        return len(feats)

    def table(self, name: str, columns: dict[str, np.ndarray]) -> int:
        """Write a CSV; ``x``/``y`` (UTM) become ``lon``/``lat`` and a ``cell_code`` is added."""
        cols = dict(columns)
        if "x" in cols:
            x, y = cols.pop("x"), cols.pop("y")
            lon, lat = to_wgs84(x, y)
            cols["lon"], cols["lat"] = np.round(lon, _PREC), np.round(lat, _PREC)
            codes = self.cell_codes_at(x, y)
            cols["cell_code"] = codes
            cols["county_code"] = np.array([c[:6] for c in codes])
        n = len(next(iter(cols.values())))
        with (self.out / name).open("w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh, lineterminator="\n")
            out.writerow(cols)
            for i in range(n):
                out.writerow([_fmt(cols[k][i]) for k in cols])
        return n

    def cell_codes_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        assert self._cells is not None, "write cells first"
        geoms, codes = self._cells
        tree = shapely.STRtree(geoms)
        p_idx, c_idx = tree.query(shapely.points(x, y), predicate="intersects")
        out = np.full(len(x), "", dtype=object)
        out[p_idx[::-1]] = codes[c_idx[::-1]]  # first match wins
        if (out == "").any():
            raise ValueError(f"{int((out == '').sum())} points fall outside every cell")
        return out

    # ------------------------------------------------------------------ layers
    def admin(self, real: RealBoundaries, townships: list[Division], villages: list[Division]) -> dict[str, int]:
        n = {"city": self.geojson("city.geojson", [({"code": CITY_CODE, "name": "Heihe", "name_zh": "黑河市",
                                                       "level": "city", "parent_code": "", "sample": False}, real.city)])}
        n["counties"] = self.geojson("counties.geojson", [
            ({"code": c, "name": en, "name_zh": zh, "level": "county", "parent_code": CITY_CODE, "sample": False}, real.counties[c])
            for c, (en, zh) in COUNTIES.items()])
        for name, level, divs in (("townships", "township", townships), ("villages", "village", villages)):
            wgs = geom_to_wgs84(np.array([d.geometry for d in divs]))
            n[name] = self.geojson(f"{name}_sample.geojson", [
                ({"code": d.code, "name": d.name, "name_zh": d.name_zh, "level": level, "parent_code": d.parent_code,
                  "urban": d.urban, "sample": True}, g) for d, g in zip(divs, wgs)])
        return n

    def cells(self, cells: list[CellPiece], lon: np.ndarray, lat: np.ndarray, area: np.ndarray, people: np.ndarray,
              forest: np.ndarray, fuel_type: np.ndarray, river: np.ndarray, river_d: np.ndarray, gauge: np.ndarray,
              stage: np.ndarray) -> int:
        geoms = np.array([c.geometry for c in cells])
        codes = np.array([c.code for c in cells])
        self._cells = (geoms, codes)
        attrs = {
            "cell_code": codes, "village_code": np.array([c.village_code for c in cells]),
            "township_code": np.array([c.code[:9] for c in cells]), "county_code": np.array([c.code[:6] for c in cells]),
            "urban": np.array([int(c.urban) for c in cells]),
            "lon": np.round(lon, _PREC), "lat": np.round(lat, _PREC), "area_m2": np.round(area, 0),
            "population": people, "forest_frac": forest, "fuel_type": fuel_type,
            "river": river, "river_distance_m": np.round(river_d, 0), "gauge_id": gauge, "inundation_stage_m": stage,
        }
        self.table("cells_sample.csv", attrs)
        wgs = geom_to_wgs84(geoms)
        return self.geojson("cells_sample.geojson", [
            ({"code": str(c.code), "level": "cell", "parent_code": c.village_code, "sample": True}, g) for c, g in zip(cells, wgs)])

    def rivers(self, rivers: list[River]) -> int:
        wgs = geom_to_wgs84(np.array([r.line for r in rivers]))
        return self.geojson("rivers.geojson", [({"river": r.river, "sample": r.sample}, g) for r, g in zip(rivers, wgs)])

    def cameras(self, pool: A.CellPool, rivers: list[River], rng: np.random.Generator) -> dict[str, int]:
        scenic = np.column_stack(to_metric(*np.array(A.SCENIC_LONLAT).T))
        cams, views = A.cameras(pool, [r.line for r in rivers], scenic, rng)
        n = {"cameras": self.table("cameras_sample.csv", cams)}
        cov = A.coverage(views, np.column_stack([cams["x"], cams["y"]]), pool)
        n["camera_cells"] = self.table("camera_cells_sample.csv", {
            "camera_id": cams["camera_id"][cov["camera"]], "cell_code": pool.codes[cov["cell"]],
            "fraction_seen": cov["fraction_seen"], "distance_m": cov["distance_m"]})
        wgs = geom_to_wgs84(views)
        n["camera_views"] = self.geojson("camera_views_sample.geojson", [
            ({"camera_id": str(c), "department": str(d), "sample": True}, g)
            for c, d, g in zip(cams["camera_id"], cams["department"], wgs)])
        return n


def _fmt(v: object) -> str:
    if isinstance(v, (float, np.floating)):
        return "" if np.isnan(v) else repr(float(v))
    if isinstance(v, (bool, np.bool_)):
        return str(int(v))
    return str(v)
