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

from dataclasses import dataclass

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


def fire_mask_rgb(b: np.ndarray, g: np.ndarray, r: np.ndarray, s: np.ndarray, rules: ColourRules) -> np.ndarray:
    """Chen 2004: flame-coloured pixels in RGB with the saturation condition."""
    r16, g16, b16, s16 = (p.astype(np.int16) for p in (r, g, b, s))
    return (r16 > rules.red_threshold) & (r16 >= g16) & (g16 > b16) & (
        s16 * rules.red_threshold >= (255 - r16) * rules.saturation_threshold
    )


def fire_mask_ycbcr(y: np.ndarray, cr: np.ndarray, cb: np.ndarray, rules: ColourRules) -> np.ndarray:
    """Celik 2009: flame-coloured pixels in YCbCr relative to the frame means."""
    y16, cr16, cb16 = (p.astype(np.int16) for p in (y, cr, cb))
    return (
        (y16 > cb16)
        & (cr16 > cb16 + rules.cr_cb_margin)
        & (y16 > y16.mean())
        & (cr16 > cr16.mean())
        & (cb16 < cb16.mean())
    )


def smoke_mask(b: np.ndarray, g: np.ndarray, r: np.ndarray, rules: ColourRules) -> np.ndarray:
    """Chen 2006: greyish pixels of smoke-like intensity."""
    chroma = cv2.subtract(cv2.max(cv2.max(b, g), r), cv2.min(cv2.min(b, g), r))
    intensity = (b.astype(np.int16) + g + r) // 3
    return (chroma < rules.smoke_chroma) & (intensity >= rules.smoke_low) & (intensity <= rules.smoke_high)
