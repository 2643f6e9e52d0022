"""Classifier features (vision/analysis/features.py)."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vision.analysis.features import (
    FEATURE_NAMES,
    colourfulness,
    entropy_bits,
    feature_vector,
    planes_of,
    work_image,
)


def _vector(image: np.ndarray) -> dict[str, float]:
    return dict(zip(FEATURE_NAMES, feature_vector(planes_of(image)).tolist()))


def test_entropy_in_bits_matches_shannon() -> None:
    """H = -sum p log2 p: one level -> 0 bits, two equal levels -> 1 bit, 4 equal levels -> 2 bits."""
    assert entropy_bits(np.full((10, 10), 77, np.uint8)) == 0.0
    assert entropy_bits(np.repeat(np.array([[0, 255]], np.uint8), 50, axis=0)) == 1.0
    assert entropy_bits(np.tile(np.array([[0, 60, 120, 180]], np.uint8), (25, 1))) == 2.0


def test_colourfulness_of_grey_is_zero_and_of_two_colours_matches_hasler() -> None:
    assert colourfulness(np.full((8, 8, 3), 128, np.uint8)) == 0.0
    # Half pure red (rg=255, yb=127.5), half black: sd_rg=127.5, sd_yb=63.75, mean_rg=127.5, mean_yb=63.75.
    image = np.zeros((8, 8, 3), np.uint8)
    image[:, :4, 2] = 255
    expected = math.hypot(127.5, 63.75) + 0.3 * math.hypot(127.5, 63.75)
    assert math.isclose(colourfulness(image), expected, rel_tol=1e-5)


def test_flame_coloured_half_gives_half_fire_share() -> None:
    image = np.full((90, 160, 3), (90, 60, 40), np.uint8)  # dull blue-grey background
    image[:, :80] = (40, 160, 240)  # BGR orange flame colour
    features = _vector(image)
    assert abs(features["fire_frac"] - 0.5) < 0.01
    assert features["smoke_frac"] == 0.0


def test_work_image_shrinks_but_never_enlarges() -> None:
    assert work_image(np.zeros((180, 320, 3), np.uint8), 160).shape == (90, 160, 3)
    assert work_image(np.zeros((50, 100, 3), np.uint8), 160).shape == (50, 100, 3)


@pytest.mark.parametrize("factor", [3, 4, 5, 6])
def test_work_image_by_whole_blocks_is_the_area_average(factor: int) -> None:
    pixels = np.random.default_rng(factor).integers(0, 256, (90 * factor, 160 * factor, 3), dtype=np.uint8)
    expected = cv2.resize(pixels, (160, 90), interpolation=cv2.INTER_AREA)
    assert np.array_equal(work_image(pixels, 160), expected)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(8, 120), st.integers(8, 200))
def test_features_are_finite_for_any_image(seed: int, height: int, width: int) -> None:
    image = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    vector = feature_vector(planes_of(image))
    assert vector.shape == (len(FEATURE_NAMES),) and vector.dtype == np.float32
    assert np.isfinite(vector).all()


def test_uniform_images_have_no_edges() -> None:
    for value in (0, 128, 255):
        features = _vector(np.full((90, 160, 3), value, np.uint8))
        assert features["edge_mean"] == 0.0 and features["entropy"] == 0.0
