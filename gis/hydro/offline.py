"""The offline answer: crests of a whole record by topographic prominence.

This is what :func:`scipy.signal.find_peaks` computes with ``prominence=P``
(local maxima, the middle sample of a flat top, each peak's prominence above the
higher of the lowest points on either side before a higher sample), run on the
same spike-filtered stage the online detector uses (running median of
``median_window``). One deliberate difference: two tops of exactly equal height
with less than ``P`` between them are one crest, the earlier (find_peaks gives
each the full prominence of the pair). Each crest is reported as an observed
reading by the same rule as online (:func:`gis.hydro.crests.top_reading` over
the readings that made the filtered top), so online and offline answers can be
compared reading for reading. Pure numpy; scipy is only the tests' reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gis.hydro.crests import CrestParams, Point, top_reading
from gis.hydro.errors import InvalidSeries


@dataclass(frozen=True, slots=True)
class Peak:
    """A peak of a series: its index (flat top: the middle sample), flat-top edges and prominence."""

    index: int
    left: int
    right: int
    prominence: float


@dataclass(frozen=True, slots=True)
class OfflineCrest:
    """A crest of a whole record."""

    reading: Point
    """The observed reading reported as the crest."""
    peak_time: Point
    """The filtered series' peak sample (find_peaks' answer: middle of a flat top)."""
    prominence: float
    """Topographic prominence of the filtered peak."""


def filtered(stages: Sequence[float], window: int) -> np.ndarray:
    """Running median of ``window`` readings; element ``k`` belongs to reading ``k + window // 2``."""
    x = np.asarray(stages, dtype=float)
    if len(x) < window:
        return np.empty(0)
    return np.median(np.lib.stride_tricks.sliding_window_view(x, window), axis=1)


def peaks(y: Sequence[float], prominence: float) -> list[Peak]:
    """Peaks of ``y`` with topographic prominence >= ``prominence`` (equal tops: the earlier only)."""
    y = np.asarray(y, dtype=float)
    found: list[Peak] = []
    n = len(y)
    i = 1
    while i < n - 1:
        if y[i - 1] < y[i]:
            ahead = i + 1
            while ahead < n - 1 and y[ahead] == y[i]:
                ahead += 1
            if y[ahead] < y[i]:
                left, right = i, ahead - 1
                p = _prominence(y, left, right)
                if p >= prominence:
                    found.append(Peak((left + right) // 2, left, right, p))
                i = ahead
                continue
        i += 1
    return found


def offline_crests(points: Sequence[Point], params: CrestParams) -> list[OfflineCrest]:
    """The crests of a record (time-ordered, distinct times), each as an observed reading."""
    times = [p.time for p in points]
    if any(b <= a for a, b in zip(times, times[1:])):
        raise InvalidSeries("offline crests need readings in increasing time order, one per time")
    w, h = params.median_window, params.median_window // 2
    y = filtered([p.stage for p in points], w)
    out: list[OfflineCrest] = []
    for peak in peaks(y, params.prominence):
        stage = float(y[peak.index])
        best: Point | None = None
        for k in range(peak.left, peak.right + 1):  # the median windows that made the flat top
            candidate = top_reading(points[k:k + w], stage, params.spike_limit)
            if best is None or candidate.stage > best.stage + 1e-9:
                best = candidate
        assert best is not None
        out.append(OfflineCrest(best, Point(points[peak.index + h].time, stage), peak.prominence))
    return out


def _prominence(y: np.ndarray, left: int, right: int) -> float:
    top = y[left]
    i, left_min = left - 1, top
    while i >= 0 and y[i] < top:  # an earlier top of equal height counts as higher
        left_min = min(left_min, y[i])
        i -= 1
    j, right_min = right + 1, top
    while j < len(y) and y[j] <= top:
        right_min = min(right_min, y[j])
        j += 1
    return float(top - max(left_min, right_min))
