"""The two coordinate systems Amur uses and vectorised transforms between them."""

from __future__ import annotations

from functools import cache
from typing import TypeVar

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import Transformer

#: a shapely geometry or a numpy array of them
G = TypeVar("G")

WGS84 = "EPSG:4326"
#: UTM zone 52N: metric CRS for distances and areas in Heihe (126-132 E).
METRIC = "EPSG:32652"


@cache
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def to_metric(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    x, y = _transformer(WGS84, METRIC).transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x, float), np.asarray(y, float)


def to_wgs84(x: ArrayLike, y: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    lon, lat = _transformer(METRIC, WGS84).transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(lon, float), np.asarray(lat, float)


def geom_to_metric(geom: G) -> G:
    """Shapely geometry (or array of them) from WGS84 lon/lat to UTM 52N metres."""
    return shapely.transform(geom, lambda c: np.column_stack(to_metric(c[:, 0], c[:, 1])))


def geom_to_wgs84(geom: G) -> G:
    """Shapely geometry (or array of them) from UTM 52N metres to WGS84 lon/lat."""
    return shapely.transform(geom, lambda c: np.column_stack(to_wgs84(c[:, 0], c[:, 1])))
