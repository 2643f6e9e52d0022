"""Muskingum channel routing (McCarthy, 1938), as in Chow, Maidment & Mays,
*Applied Hydrology* (1988), section 8.4:

    S = K [X I + (1 - X) O]
    O[j+1] = C0 I[j+1] + C1 I[j] + C2 O[j]
    C0 = (dt - 2KX) / D,  C1 = (dt + 2KX) / D,  C2 = (2K(1-X) - dt) / D,  D = 2K(1-X) + dt

(Chow names them C1, C2, C3.) The coefficients are all non-negative, and the
scheme does not produce negative or oscillating outflow, only when
2KX <= dt <= 2K(1-X); outside that the routing is refused. A reach too long for
the time step is split into ``n`` equal sub-reaches (K/n each), the usual remedy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gis.hydro.errors import UnstableRouting


@dataclass(frozen=True, slots=True)
class MuskingumCoefficients:
    c0: float
    c1: float
    c2: float


def coefficients(k_h: float, x: float, dt_h: float) -> MuskingumCoefficients:
    """C0, C1, C2 for storage constant K and time step dt (same unit), weight X.

    Raises :class:`UnstableRouting` naming the bound that is broken.
    """
    if not k_h > 0:
        raise UnstableRouting(f"K must be > 0 hours, got k={k_h!r}")
    if not dt_h > 0:
        raise UnstableRouting(f"dt must be > 0 hours, got dt={dt_h!r}")
    if not 0.0 <= x <= 0.5:
        raise UnstableRouting(f"X must be in [0, 0.5], got x={x!r}")
    lower, upper = 2 * k_h * x, 2 * k_h * (1 - x)
    if dt_h < lower - 1e-12:
        raise UnstableRouting(
            f"unstable: dt={dt_h:g} h < 2KX={lower:g} h (lower bound 2KX <= dt broken; "
            f"C0 would be negative: use a longer dt or sub-reaches), k={k_h:g}, x={x:g}"
        )
    if dt_h > upper + 1e-12:
        raise UnstableRouting(
            f"unstable: dt={dt_h:g} h > 2K(1-X)={upper:g} h (upper bound dt <= 2K(1-X) broken; "
            f"C2 would be negative: use a shorter dt), k={k_h:g}, x={x:g}"
        )
    d = upper + dt_h
    return MuskingumCoefficients(c0=(dt_h - lower) / d, c1=(dt_h + lower) / d, c2=(upper - dt_h) / d)


def route_with(coeffs: MuskingumCoefficients, inflow: Sequence[float], o0: float | None = None) -> list[float]:
    """Outflow at every inflow step; O[0] = ``o0`` (default: I[0], a steady start)."""
    if len(inflow) == 0:
        return []
    out = [float(inflow[0]) if o0 is None else float(o0)]
    for j in range(1, len(inflow)):
        out.append(coeffs.c0 * inflow[j] + coeffs.c1 * inflow[j - 1] + coeffs.c2 * out[-1])
    return out


def route(inflow: Sequence[float], k_h: float, x: float, dt_h: float, o0: float | None = None) -> list[float]:
    """Route ``inflow`` (equal steps of ``dt_h`` hours) through one reach."""
    return route_with(coefficients(k_h, x, dt_h), inflow, o0)


def subreaches_needed(k_h: float, x: float, dt_h: float) -> int:
    """Fewest equal sub-reaches for which 2(K/n)X <= dt holds."""
    return max(1, math.ceil(2 * k_h * x / dt_h - 1e-9))


def route_reach(inflow: Sequence[float], k_h: float, x: float, dt_h: float, n: int | None = None) -> list[float]:
    """Route through ``n`` (default: as few as stability allows) sub-reaches of K/n in series.

    Every sub-reach starts steady (O[0] = its I[0]).
    """
    n = subreaches_needed(k_h, x, dt_h) if n is None else n
    if n < 1:
        raise UnstableRouting(f"sub-reaches must be >= 1, got n={n!r}")
    coeffs = coefficients(k_h / n, x, dt_h)
    flow = list(inflow)
    for _ in range(n):
        flow = route_with(coeffs, flow)
    return flow


def route_grid(inflow: np.ndarray, k_h: np.ndarray, x: np.ndarray, dt_h: float, o0: float) -> np.ndarray:
    """Route one inflow through many (K, X) pairs at once (shape of ``k_h``), no checks.

    Returns outflow with shape ``k_h.shape + (len(inflow),)``; for calibration.
    """
    lower, upper = 2 * k_h * x, 2 * k_h * (1 - x)
    d = upper + dt_h
    c0, c1, c2 = (dt_h - lower) / d, (dt_h + lower) / d, (upper - dt_h) / d
    out = np.empty(k_h.shape + (len(inflow),))
    out[..., 0] = o0
    for j in range(1, len(inflow)):
        out[..., j] = c0 * inflow[j] + c1 * inflow[j - 1] + c2 * out[..., j - 1]
    return out
