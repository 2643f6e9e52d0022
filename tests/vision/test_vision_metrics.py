"""Precision and recall (vision/analysis/metrics.py)."""

from __future__ import annotations

import pytest

from vision.analysis.metrics import score_detections


def test_counts_and_ratios_by_hand() -> None:
    # predicted: T T T F F F ; actual: T F T T F F -> TP 2, FP 1, FN 1, TN 2
    scores = score_detections([True, True, True, False, False, False], [True, False, True, True, False, False])
    assert (scores.true_pos, scores.false_pos, scores.false_neg, scores.true_neg) == (2, 1, 1, 2)
    assert scores.precision == pytest.approx(2 / 3) and scores.recall == pytest.approx(2 / 3)
    assert scores.f1 == pytest.approx(2 / 3)


def test_nothing_flagged_is_perfect_precision_zero_recall() -> None:
    scores = score_detections([False, False], [True, False])
    assert scores.precision == 1.0 and scores.recall == 0.0 and scores.f1 == 0.0


def test_length_mismatch_is_refused() -> None:
    with pytest.raises(ValueError, match="3 items"):
        score_detections([True, False, True], [True])
