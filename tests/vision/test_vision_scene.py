"""Thumbnail comparisons with earlier samples and the baseline (vision/analysis/scene.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vision.analysis.scene import (
    THUMB_SIZE,
    area_change,
    changed_share,
    masked_motion,
    roi_pixels,
    shift_share,
    structure_correlation,
    thumbnail,
)

W, H = THUMB_SIZE


def _texture(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return thumbnail(rng.integers(0, 255, (H * 4, W * 4), dtype=np.uint8))


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.2, 3.0), st.floats(-50, 50))
def test_structure_correlation_ignores_gain_and_offset(seed: int, gain: float, offset: float) -> None:
    """NCC is invariant to brightness and contrast changes: a lighting change is not a moved camera."""
    edges = _texture(seed)
    assert structure_correlation(edges * gain + offset, edges) == pytest.approx(1.0, abs=1e-4)


def test_structure_correlation_of_unrelated_scenes_is_near_zero() -> None:
    assert abs(structure_correlation(_texture(1), _texture(2))) < 0.2


def test_phase_correlation_finds_a_pan() -> None:
    base = _texture(3)
    panned = np.roll(base, 12, axis=1)  # 12 of 64 columns = 0.1875 of the width
    assert shift_share(panned, base) == pytest.approx(12 / W, abs=0.02)
    assert shift_share(base, base) == pytest.approx(0.0, abs=0.01)


def test_comparisons_leave_their_inputs_alone() -> None:
    """The thumbnails go on into the camera's state (OpenCV's phaseCorrelate windows its inputs in place)."""
    now, then = _texture(5), _texture(6)
    kept = now.copy(), then.copy()
    shift_share(now, then)
    structure_correlation(now, then)
    assert np.array_equal(now, kept[0]) and np.array_equal(then, kept[1])


def test_structure_correlation_of_a_flat_image_is_zero() -> None:
    flat = np.full_like(_texture(1), 7.0)
    assert structure_correlation(flat, _texture(1)) == 0.0
    assert structure_correlation(_texture(1), flat) == 0.0
    assert structure_correlation(flat, flat) == 0.0


def test_changed_share_counts_only_the_region() -> None:
    base = np.full((H, W, 3), 100.0, np.float32)
    now = base.copy()
    now[H // 2:] = (160.0, 110.0, 60.0)  # the lower half turned to muddy water
    assert changed_share(now, base, (0.0, 0.5, 1.0, 0.5), delta=30) == 1.0
    small = base.copy()
    small[-H // 8:] = (160.0, 110.0, 60.0)  # only a strip at the bottom changed
    assert changed_share(small, base, (0.0, 0.0, 1.0, 0.25), delta=30) == 0.0
    assert changed_share(small, base, (0.0, 0.875, 1.0, 0.125), delta=30) == 1.0
    assert roi_pixels((0.0, 0.5, 1.0, 0.5)) == (0, H // 2, W, H)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 1000), st.tuples(st.floats(0.3, 2.0), st.floats(0.3, 2.0), st.floats(0.3, 2.0)))
def test_changed_share_ignores_light_changing_over_the_whole_view(seed: int, gains: tuple[float, float, float]) -> None:
    """Dusk, dawn and clouds scale every channel of the whole frame: no water in that."""
    base = np.random.default_rng(seed).uniform(40, 200, (H, W, 3)).astype(np.float32)
    assert changed_share(base * np.array(gains, np.float32), base, (0.0, 0.5, 1.0, 0.5), delta=30) == 0.0


def test_area_change_between_samples() -> None:
    a = np.zeros((H, W), np.float32)
    a[10:20, 10:20] = 1
    b = np.zeros((H, W), np.float32)
    b[10:20, 15:25] = 1  # half the flame area moved
    assert area_change(a, a) == 0.0
    assert area_change(a, b) == pytest.approx(100 / 150)
    assert area_change(np.zeros((H, W)), np.zeros((H, W))) == 0.0


def test_masked_motion_is_the_local_change_inside_the_mask() -> None:
    previous = np.zeros((H, W), np.float32)
    mask = np.zeros((H, W), np.float32)
    mask[:, : W // 4] = 1.0
    previous += 100.0
    assert masked_motion(previous * 0.8, previous, mask) == pytest.approx(0.0, abs=1e-4)  # dimmed: no motion
    now = previous.copy()
    now[:, : W // 4] = 108.0  # the masked quarter brightened by 8: frame gain 1.02
    assert masked_motion(now, previous, mask) == pytest.approx(108.0 - 1.02 * 100.0)
