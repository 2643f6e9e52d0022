"""Comparisons of a frame with the camera's earlier samples and its baseline.

All comparisons run on small thumbnails (:data:`THUMB_SIZE`) so a camera's state
stays a few kilobytes. Pure functions over numpy arrays.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

THUMB_SIZE = (64, 36)
"""(width, height) of the previous sample's thumbnails (frozen, flicker, drift)."""
BASELINE_SIZE = (32, 18)
"""(width, height) of the baseline's luma, edge and colour (BGR) thumbnails."""


def thumbnail(plane: np.ndarray, size: tuple[int, int] = THUMB_SIZE) -> np.ndarray:
    """A plane or BGR image (uint8 or float) shrunk to ``size`` (w, h) as float32."""
    return cv2.resize(np.asarray(plane, dtype=np.float32), size, interpolation=cv2.INTER_AREA)


def mean_abs_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two equal-size thumbnails (0 = identical)."""
    return cv2.norm(a, b, cv2.NORM_L1) / a.size


def structure_correlation(edges: np.ndarray, baseline_edges: np.ndarray) -> float:
    """Zero-mean normalised cross-correlation (Pearson's r) of two edge thumbnails, -1..1 (1 = same structure).

    0 when either is flat: there is no structure to compare.
    """
    (mean_a,), (std_a,) = cv2.meanStdDev(edges)
    (mean_b,), (std_b,) = cv2.meanStdDev(baseline_edges)
    spread = float(std_a[0] * std_b[0])
    if spread <= 1e-6:
        return 0.0
    covariance = cv2.mean(cv2.multiply(edges, baseline_edges))[0] - float(mean_a[0] * mean_b[0])
    return max(-1.0, min(1.0, covariance / spread))


@lru_cache(maxsize=4)
def _hanning(width: int, height: int) -> np.ndarray:
    window = cv2.createHanningWindow((width, height), cv2.CV_32F)
    window.flags.writeable = False  # shared between calls
    return window


def shift_share(gray: np.ndarray, baseline_gray: np.ndarray) -> float:
    """How far the view slid against the baseline (phase correlation), as a share of the frame size."""
    height, width = gray.shape
    # Copies: OpenCV's phaseCorrelate multiplies its inputs by the window in place.
    (dx, dy), response = cv2.phaseCorrelate(baseline_gray.astype(np.float32), gray.astype(np.float32),
                                            _hanning(width, height))
    if response < 0.1:  # no clear peak: not a shift (the structure test covers a different scene)
        return 0.0
    return max(abs(dx) / width, abs(dy) / height)


def changed_share(
    colour: np.ndarray, baseline_colour: np.ndarray, roi: tuple[float, float, float, float], delta: float
) -> float:
    """Share of a region (x, y, w, h as shares of the frame) whose colour moved more than ``delta`` from the baseline.

    Colour distance is Euclidean in BGR, so green bank turning into blue or brown water counts
    even where the brightness hardly changes.
    """
    height, width = colour.shape[:2]
    x0, y0, x1, y1 = roi_pixels(roi, (width, height))
    colour = colour * _light_gain(colour, baseline_colour, (x0, y0, x1, y1))
    difference = colour[y0:y1, x0:x1] - baseline_colour[y0:y1, x0:x1]
    distance = np.sqrt((difference * difference).sum(axis=-1)) if difference.ndim == 3 else np.abs(difference)
    return float(np.count_nonzero(distance > delta)) / distance.size


def _light_gain(colour: np.ndarray, baseline_colour: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """Per-channel gain that brings the frame outside the region to the baseline's light (dusk, clouds)."""
    x0, y0, x1, y1 = box
    outside = np.ones(colour.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    if not outside.any():
        outside[:] = True
    now = colour[outside].mean(axis=0)
    then = baseline_colour[outside].mean(axis=0)
    return np.clip(then / np.maximum(now, 1.0), 0.25, 4.0)


def roi_pixels(roi: tuple[float, float, float, float], size: tuple[int, int] = THUMB_SIZE) -> tuple[int, int, int, int]:
    """Pixel bounds (x0, y0, x1, y1) in an image of ``size`` (w, h) of a region given as shares, at least one pixel."""
    width, height = size
    x, y, w, h = roi
    x0, y0 = min(width - 1, int(x * width)), min(height - 1, int(y * height))
    return x0, y0, max(x0 + 1, round((x + w) * width)), max(y0 + 1, round((y + h) * height))


def area_change(current: np.ndarray, previous: np.ndarray) -> float:
    """How much of a (0..1 density) mask area changed between samples: |a - b| / max(a, b), 0..1."""
    union = float(np.maximum(current, previous).sum())
    return float(np.abs(current - previous).sum()) / union if union > 1e-6 else 0.0


def masked_motion(gray: np.ndarray, previous_gray: np.ndarray, mask: np.ndarray) -> float:
    """Mean grey-level change between samples inside a (0..1 density) mask thumbnail.

    The frame's overall brightness change is taken out first (as a gain, since light scales
    pixel values): light fading at dusk is not motion.
    """
    weight = float(mask.sum())
    if weight <= 1e-6:
        return 0.0
    gain = cv2.mean(gray)[0] / max(1.0, cv2.mean(previous_gray)[0])
    return float((np.abs(gray - gain * previous_gray) * mask).sum()) / weight
