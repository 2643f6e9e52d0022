"""GCJ-02 <-> WGS84, the published ("leaked") GCJ-02 obfuscation formula.

Chinese web maps (AMap/Gaode, Tencent, ...) publish coordinates in GCJ-02, a
WGS84 position shifted by a smooth, non-linear offset of up to ~700 m. The
forward transform (WGS84 -> GCJ-02) is the widely published formula (the
Krasovsky-ellipsoid variant used by googollee/eviltransform and
wandergis/coordtransform). The inverse has no closed form; we invert by fixed-point
iteration ``wgs <- wgs - (forward(wgs) - gcj)``, which converges to below 1e-9
degrees (~0.1 mm) in a handful of steps because the offset varies slowly.

Outside China's rough bounding box the formula is not applied (GCJ-02 == WGS84).
All functions are vectorised over numpy arrays and also accept scalars.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as in the published formula
_EE = 0.00669342162296594323  # its first eccentricity squared

Floats = NDArray[np.float64]


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """The box inside which GCJ-02 offsets apply (the formula's own test)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)


def _offset(lon: Floats, lat: Floats) -> tuple[Floats, Floats]:
    """(dlon, dlat) in degrees that GCJ-02 adds to a WGS84 position."""
    x, y = lon - 105.0, lat - 35.0
    common = 20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += common * 2.0 / 3.0
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += common * 2.0 / 3.0
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = dlon * 180.0 / (_A / sqrt_magic * np.cos(rad) * np.pi)
    inside = in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    """WGS84 lon/lat (degrees) -> GCJ-02 lon/lat."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    dlon, dlat = _offset(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(
    lon: ArrayLike, lat: ArrayLike, *, tol_deg: float = 1e-10, max_iter: int = 30
) -> tuple[Floats, Floats]:
    """GCJ-02 lon/lat -> WGS84 lon/lat by iterating the forward formula to ``tol_deg``."""
    glon, glat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(max_iter):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = flon - glon, flat - glat
        wlon, wlat = wlon - elon, wlat - elat
        if max(float(np.max(np.abs(elon), initial=0.0)), float(np.max(np.abs(elat), initial=0.0))) < tol_deg:
            break
    return wlon, wlat


def gcj02_coords_to_wgs84(coords: Floats) -> Floats:
    """An (n, 2) lon/lat array in GCJ-02 -> WGS84 (for ``shapely.transform``)."""
    lon, lat = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
    return np.column_stack([lon, lat])
