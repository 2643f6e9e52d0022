"""Flame and smoke colour rules (vision/analysis/colour.py) against the papers' inequalities."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vision.analysis.colour import (
    ColourRules,
    fire_mask_rgb,
    fire_mask_ycbcr,
    smoke_mask,
)

RULES = ColourRules()


def _px(value: int) -> np.ndarray:
    return np.array([[value]], np.uint8)


@pytest.mark.parametrize(
    ("r", "g", "b", "s", "expected"),
    [
        (230, 150, 40, 210, True),  # orange flame: R > R_T, R >= G > B, saturated
        (135, 100, 20, 250, False),  # R not above R_T = 135 (Chen 2004)
        (200, 210, 40, 200, False),  # G > R
        (200, 100, 100, 130, False),  # G = B, not G > B
        # S >= (255 - R) * S_T / R_T: with R = 200, S must be >= 55 * 55 / 135 = 22.4
        (200, 150, 100, 23, True),
        (200, 150, 100, 22, False),
    ],
)
def test_chen_rgb_rule(r: int, g: int, b: int, s: int, expected: bool) -> None:
    assert bool(fire_mask_rgb(_px(b), _px(g), _px(r), _px(s), RULES)[0, 0]) is expected


def test_celik_rule_needs_cr_above_cb_by_tau_and_above_frame_means() -> None:
    # Two pixels: a flame pixel and a dark bluish background; means lie between them.
    y = np.array([[200, 40]], np.uint8)
    cr = np.array([[200, 120]], np.uint8)
    cb = np.array([[90, 140]], np.uint8)
    assert fire_mask_ycbcr(y, cr, cb, RULES).tolist() == [[True, False]]
    # Cr - Cb = 39 < tau = 40: refused even though everything else holds.
    cr_low = np.array([[129, 120]], np.uint8)
    assert not fire_mask_ycbcr(y, cr_low, cb, RULES)[0, 0]


@pytest.mark.parametrize(
    ("bgr", "expected"),
    [((150, 150, 150), True), ((150, 160, 169), True), ((150, 150, 170), False), ((60, 60, 60), False), ((230, 230, 230), False)],
)
# max - min must be below alpha = 20; intensity within [80, 220].
def test_chen_2006_smoke_rule(bgr: tuple[int, int, int], expected: bool) -> None:
    b, g, r = (_px(c) for c in bgr)
    assert bool(smoke_mask(b, g, r, RULES)[0, 0]) is expected


@given(st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)))
def test_smoke_rule_does_not_depend_on_channel_order(rgb: tuple[int, int, int]) -> None:
    """Greyness is symmetric in R, G and B: any permutation gives the same verdict."""
    verdicts = {bool(smoke_mask(_px(a), _px(b), _px(c), RULES)[0, 0]) for a, b, c in [rgb, rgb[::-1], rgb[1:] + rgb[:1]]}
    assert len(verdicts) == 1


def test_saturation_lookup_equals_the_inequality_for_every_red_and_saturation() -> None:
    """Exhaustive over R, S in 0..255: S * R_T >= (255 - R) * S_T, in exact integers (Chen 2004)."""
    red, sat = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    expected = (red > RULES.red_threshold) & (sat * RULES.red_threshold >= (255 - red) * RULES.saturation_threshold)
    r, s = red.astype(np.uint8), sat.astype(np.uint8)
    g = (r // 2).astype(np.uint8)  # R >= G > B holds wherever R > 1
    b = (r // 4).astype(np.uint8)
    assert np.array_equal(fire_mask_rgb(b, g, r, s, RULES), expected & (red > 1))
