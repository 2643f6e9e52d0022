"""The Canadian Forest Fire Weather Index (FWI) System, daily, vectorised.

Equations from Van Wagner (1987), *Development and structure of the Canadian
Forest Fire Weather Index System*, Forestry Technical Report 35, as programmed in
Van Wagner & Pickett (1985), *Equations and FORTRAN program for the Canadian
Forest Fire Weather Index System*, Forestry Technical Report 33 (equation
numbers below are theirs). Inputs are noon local standard time observations:
temperature (°C), relative humidity (%), 10 m wind (km/h) and rain over the
previous 24 h (mm). Every function accepts numpy arrays (one value per station
or grid cell) or scalars.

Danger classes are EFFIS's, by FWI value.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gis.errors import WeatherInputError

FFMC_START, DMC_START, DC_START = 85.0, 6.0, 15.0

#: Effective day length for the DMC (hours), January..December (Van Wagner 1987, Table 1).
DMC_DAY_LENGTH = (6.5, 7.5, 9.0, 12.8, 13.9, 13.9, 12.4, 10.9, 9.4, 8.0, 7.0, 6.0)
#: Day-length adjustment for the DC, January..December (Van Wagner 1987, Table 2).
DC_DAY_LENGTH = (-1.6, -1.6, -1.6, 0.9, 3.8, 5.8, 6.4, 5.0, 2.4, 0.4, -1.6, -1.6)

_F = NDArray[np.float64]


def _a(x: ArrayLike) -> _F:
    return np.asarray(x, dtype=float)


def _month_index(month: ArrayLike) -> NDArray[np.int64]:
    m = np.asarray(month, dtype=int)
    if np.any((m < 1) | (m > 12)):
        raise WeatherInputError(f"month must be 1..12, got {m}")
    return m - 1


def ffmc(temp: ArrayLike, rh: ArrayLike, wind: ArrayLike, rain: ArrayLike, ffmc_prev: ArrayLike) -> _F:
    """Fine Fuel Moisture Code (equations 1-10)."""
    t, h, w, r, f0 = _a(temp), _a(rh), _a(wind), _a(rain), _a(ffmc_prev)
    mo = 147.2 * (101.0 - f0) / (59.5 + f0)  # eq 1
    rf = np.maximum(r - 0.5, 1e-12)  # eq 2
    wetted = mo + 42.5 * rf * np.exp(-100.0 / (251.0 - mo)) * (1.0 - np.exp(-6.93 / rf))  # eq 3a
    wetted = np.where(mo > 150.0, wetted + 0.0015 * (mo - 150.0) ** 2 * np.sqrt(rf), wetted)  # eq 3b
    mo = np.where(r > 0.5, np.minimum(wetted, 250.0), mo)
    ed = 0.942 * h**0.679 + 11.0 * np.exp((h - 100.0) / 10.0) + 0.18 * (21.1 - t) * (1.0 - np.exp(-0.115 * h))  # eq 4
    ew = 0.618 * h**0.753 + 10.0 * np.exp((h - 100.0) / 10.0) + 0.18 * (21.1 - t) * (1.0 - np.exp(-0.115 * h))  # eq 5
    ko = 0.424 * (1.0 - (h / 100.0) ** 1.7) + 0.0694 * np.sqrt(w) * (1.0 - (h / 100.0) ** 8)  # eq 6a
    kd = ko * 0.581 * np.exp(0.0365 * t)  # eq 6b
    k1 = 0.424 * (1.0 - ((100.0 - h) / 100.0) ** 1.7) + 0.0694 * np.sqrt(w) * (1.0 - ((100.0 - h) / 100.0) ** 8)  # 7a
    kw = k1 * 0.581 * np.exp(0.0365 * t)  # eq 7b
    m = np.where(
        mo > ed,
        ed + (mo - ed) * 10.0 ** (-kd),  # eq 8
        np.where(mo < ew, ew - (ew - mo) * 10.0 ** (-kw), mo),  # eq 9
    )
    return np.clip(59.5 * (250.0 - m) / (147.2 + m), 0.0, 101.0)  # eq 10


def dmc(temp: ArrayLike, rh: ArrayLike, rain: ArrayLike, dmc_prev: ArrayLike, month: ArrayLike) -> _F:
    """Duff Moisture Code (equations 11-17)."""
    t, h, r, p0 = np.maximum(_a(temp), -1.1), _a(rh), _a(rain), _a(dmc_prev)
    le = np.asarray(DMC_DAY_LENGTH)[_month_index(month)]
    re = 0.92 * r - 1.27  # eq 11
    mo = 20.0 + np.exp(5.6348 - p0 / 43.43)  # eq 12
    p_safe = np.maximum(p0, 1e-12)
    b = np.where(p0 <= 33.0, 100.0 / (0.5 + 0.3 * p0),  # eq 13a
                 np.where(p0 <= 65.0, 14.0 - 1.3 * np.log(p_safe), 6.2 * np.log(p_safe) - 17.2))  # 13b, 13c
    mr = mo + 1000.0 * re / (48.77 + b * re)  # eq 14
    pr = np.maximum(244.72 - 43.43 * np.log(np.maximum(mr - 20.0, 1e-12)), 0.0)  # eq 15
    p_after_rain = np.where(r > 1.5, pr, p0)
    k = 1.894 * (t + 1.1) * (100.0 - h) * le * 1e-6  # eq 16
    return p_after_rain + 100.0 * k  # eq 17


def dc(temp: ArrayLike, rain: ArrayLike, dc_prev: ArrayLike, month: ArrayLike) -> _F:
    """Drought Code (equations 18-23)."""
    t, r, d0 = np.maximum(_a(temp), -2.8), _a(rain), _a(dc_prev)
    lf = np.asarray(DC_DAY_LENGTH)[_month_index(month)]
    rd = 0.83 * r - 1.27  # eq 18
    qo = 800.0 * np.exp(-d0 / 400.0)  # eq 19
    qr = qo + 3.937 * rd  # eq 20
    dr = np.maximum(400.0 * np.log(800.0 / np.maximum(qr, 1e-12)), 0.0)  # eq 21
    d_after_rain = np.where(r > 2.8, dr, d0)
    v = np.maximum(0.36 * (t + 2.8) + lf, 0.0)  # eq 22
    return d_after_rain + 0.5 * v  # eq 23


def isi(ffmc_today: ArrayLike, wind: ArrayLike) -> _F:
    """Initial Spread Index (equations 24-26)."""
    f, w = _a(ffmc_today), _a(wind)
    m = 147.2 * (101.0 - f) / (59.5 + f)
    f_wind = np.exp(0.05039 * w)  # eq 24
    f_fine = 91.9 * np.exp(-0.1386 * m) * (1.0 + m**5.31 / 4.93e7)  # eq 25
    return 0.208 * f_wind * f_fine  # eq 26


def bui(dmc_today: ArrayLike, dc_today: ArrayLike) -> _F:
    """Buildup Index (equations 27a, 27b)."""
    p, d = _a(dmc_today), _a(dc_today)
    denom = np.where(p + 0.4 * d > 0, p + 0.4 * d, 1.0)
    low = 0.8 * p * d / denom  # eq 27a
    high = p - (1.0 - 0.8 * d / denom) * (0.92 + (0.0114 * p) ** 1.7)  # eq 27b
    u = np.where(p <= 0.4 * d, low, high)
    return np.where((p == 0) & (d == 0), 0.0, np.maximum(u, 0.0))


def fwi(isi_today: ArrayLike, bui_today: ArrayLike) -> _F:
    """Fire Weather Index (equations 28-30)."""
    r, u = _a(isi_today), _a(bui_today)
    f_d = np.where(u <= 80.0, 0.626 * u**0.809 + 2.0, 1000.0 / (25.0 + 108.64 * np.exp(-0.023 * u)))  # 28a/b
    b = 0.1 * r * f_d  # eq 29
    log_term = np.maximum(0.434 * np.log(np.maximum(b, 1e-12)), 0.0)
    return np.where(b > 1.0, np.exp(2.72 * log_term**0.647), b)  # eq 30a/b


class DangerClass(enum.StrEnum):
    """EFFIS fire danger classes by FWI."""

    VERY_LOW = "very_low"
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"
    VERY_HIGH = "very_high"
    EXTREME = "extreme"


#: Lower FWI bound of each class above VERY_LOW (EFFIS).
DANGER_BOUNDS = (5.2, 11.2, 21.3, 38.0, 50.0)
_CLASSES = tuple(DangerClass)


def danger_class(fwi_value: float) -> DangerClass:
    return _CLASSES[int(np.searchsorted(DANGER_BOUNDS, fwi_value, side="right"))]


@dataclass(frozen=True)
class FwiDay:
    """One day's FWI System values (arrays or 0-d arrays)."""

    ffmc: _F
    dmc: _F
    dc: _F
    isi: _F
    bui: _F
    fwi: _F


def fwi_day(temp: ArrayLike, rh: ArrayLike, wind: ArrayLike, rain: ArrayLike, month: ArrayLike,
            ffmc_prev: ArrayLike = FFMC_START, dmc_prev: ArrayLike = DMC_START, dc_prev: ArrayLike = DC_START) -> FwiDay:
    """All six components for one day from the previous day's three codes."""
    if np.any(_a(rh) > 100.0) or np.any(_a(rh) < 0.0):
        raise WeatherInputError(f"relative humidity must be 0..100 %, got {rh}")
    if np.any(_a(rain) < 0.0) or np.any(_a(wind) < 0.0):
        raise WeatherInputError(f"rain and wind must be >= 0, got rain={rain} wind={wind}")
    f = ffmc(temp, rh, wind, rain, ffmc_prev)
    p = dmc(temp, rh, rain, dmc_prev, month)
    d = dc(temp, rain, dc_prev, month)
    r = isi(f, wind)
    u = bui(p, d)
    return FwiDay(f, p, d, r, u, fwi(r, u))
