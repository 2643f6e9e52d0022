"""Colour rules for flame and smoke pixels: the published baselines the classifier builds on.

- Flame, RGB (Chen, Wu & Chiou 2004, "An early fire-detection method based on image
  processing", ICIP): R > R_T, R >= G > B, S >= (255 - R) * S_T / R_T.
- Flame, YCbCr (Celik & Demirel 2009, "Fire detection in video sequences using a generic
  color model", Fire Safety Journal 44(2)): Y > Cb, Cr > Cb + tau, and the pixel above the
  frame mean in Y and Cr, below it in Cb.
- Smoke (Chen, Yin, Huang & Ye 2006, "The smoke detection for early fire-alarming system
  base on video processing", IIH-MSP): greyish, max(R,G,B) - min(R,G,B) < alpha, with
  intensity between L1 and L2.

All functions take uint8 planes of one image and return boolean masks of the same shape.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np


@dataclass(frozen=True)
class ColourRules:
    """Thresholds of the colour rules (defaults from the papers above)."""

    red_threshold: int = 135
    """Chen 2004 R_T (paper range 115-135)."""
    saturation_threshold: int = 55
    """Chen 2004 S_T (paper range 55-65), on OpenCV's 0-255 saturation."""
    cr_cb_margin: int = 40
    """Celik 2009 tau: Cr must exceed Cb by this much."""
    smoke_chroma: int = 20
    """Chen 2006 alpha (paper range 15-20)."""
    smoke_low: int = 80
    """Chen 2006 L1."""
    smoke_high: int = 220
    """Chen 2006 L2."""


@lru_cache(maxsize=8)
def _min_saturation(rules: ColourRules) -> np.ndarray:
    """Lookup table R -> the least S that passes S >= (255 - R) * S_T / R_T (exact, as uint8; built once per rules)."""
    red = np.arange(256)
    table = np.minimum(255, -((-(255 - red) * rules.saturation_threshold) // rules.red_threshold)).astype(np.uint8)
    table.flags.writeable = False  # shared between calls
    return table


def fire_mask_rgb(b: np.ndarray, g: np.ndarray, r: np.ndarray, s: np.ndarray, rules: ColourRules) -> np.ndarray:
    """Chen 2004: flame-coloured pixels in RGB with the saturation condition."""
    return (r > rules.red_threshold) & (r >= g) & (g > b) & (s >= cv2.LUT(r, _min_saturation(rules)))


def fire_mask_ycbcr(y: np.ndarray, cr: np.ndarray, cb: np.ndarray, rules: ColourRules) -> np.ndarray:
    """Celik 2009: flame-coloured pixels in YCbCr relative to the frame means.

    For integer pixels, ``v > mean`` is ``v > floor(mean)`` and ``v < mean`` is ``v < ceil(mean)``,
    which keeps every comparison in uint8.
    """
    y_mean, cr_mean, cb_mean = (cv2.mean(p)[0] for p in (y, cr, cb))
    return (
        (y > cb)
        & (cv2.subtract(cr, cb) > rules.cr_cb_margin)
        & (y > math.floor(y_mean))
        & (cr > math.floor(cr_mean))
        & (cb < math.ceil(cb_mean))
    )


def smoke_mask(b: np.ndarray, g: np.ndarray, r: np.ndarray, rules: ColourRules) -> np.ndarray:
    """Chen 2006: greyish pixels of smoke-like intensity, I = (R + G + B) / 3 in [L1, L2]."""
    chroma = cv2.subtract(cv2.max(cv2.max(b, g), r), cv2.min(cv2.min(b, g), r))
    total = b.astype(np.uint16) + g + r
    return (chroma < rules.smoke_chroma) & (total >= 3 * rules.smoke_low) & (total <= 3 * rules.smoke_high)
