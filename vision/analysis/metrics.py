"""Precision and recall of yes/no detections against labels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class DetectionScores:
    true_pos: int
    false_pos: int
    false_neg: int
    true_neg: int

    @property
    def precision(self) -> float:
        """TP / (TP + FP); 1.0 when nothing was flagged (no false alarm was made)."""
        flagged = self.true_pos + self.false_pos
        return self.true_pos / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        """TP / (TP + FN); 1.0 when there was nothing to find."""
        actual = self.true_pos + self.false_neg
        return self.true_pos / actual if actual else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score_detections(predicted: Sequence[bool], actual: Sequence[bool]) -> DetectionScores:
    if len(predicted) != len(actual):
        raise ValueError(f"predicted has {len(predicted)} items, actual has {len(actual)}")
    pairs = list(zip(predicted, actual))
    return DetectionScores(
        true_pos=sum(p and a for p, a in pairs),
        false_pos=sum(p and not a for p, a in pairs),
        false_neg=sum(a and not p for p, a in pairs),
        true_neg=sum(not p and not a for p, a in pairs),
    )
