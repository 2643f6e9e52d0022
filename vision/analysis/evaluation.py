"""Precision and recall of the colour-rule baseline and the classifier on labelled images."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vision.analysis.config import AnalysisConfig
from vision.analysis.dataset import LabelledImage
from vision.analysis.decode import decode_frame, read_frame
from vision.analysis.features import FEATURE_NAMES, FIRE_SHARE, SMOKE_SHARE
from vision.analysis.image import image_features
from vision.analysis.metrics import DetectionScores, score_detections
from vision.analysis.model import FireSmokeModel



@dataclass(frozen=True)
class Evaluation:
    images: int
    baseline_fire: DetectionScores
    baseline_smoke: DetectionScores
    model_fire: DetectionScores
    model_smoke: DetectionScores

    def table(self) -> str:
        """A Markdown table of precision and recall per detector and finding."""
        rows = ["| detector | finding | precision | recall | F1 | TP | FP | FN |", "|---|---|---:|---:|---:|---:|---:|---:|"]
        for name, finding, s in (
            ("colour rule", "fire", self.baseline_fire),
            ("classifier", "fire", self.model_fire),
            ("colour rule", "smoke", self.baseline_smoke),
            ("classifier", "smoke", self.model_smoke),
        ):
            rows.append(
                f"| {name} | {finding} | {s.precision:.2f} | {s.recall:.2f} | {s.f1:.2f} "
                f"| {s.true_pos} | {s.false_pos} | {s.false_neg} |"
            )
        return "\n".join(rows)


def features_of(images: Sequence[LabelledImage], config: AnalysisConfig) -> np.ndarray:
    """(N, F) feature matrix of labelled images, decoded exactly as the analysis decodes frames."""
    rows = [image_features(read_frame(image.path, target_width=config.decode_width), config)[1] for image in images]
    return np.vstack(rows) if rows else np.zeros((0, len(FEATURE_NAMES)), np.float32)


def frame_features(jpegs: Sequence[bytes], config: AnalysisConfig) -> np.ndarray:
    """(N, F) feature matrix of encoded frames (e.g. rendered by the simulated fleet)."""
    rows = [image_features(decode_frame(data, target_width=config.decode_width), config)[1] for data in jpegs]
    return np.vstack(rows) if rows else np.zeros((0, len(FEATURE_NAMES)), np.float32)


def evaluate(model: FireSmokeModel, truth: Sequence[tuple[bool, bool]], features: np.ndarray) -> Evaluation:
    """Score both detectors on images with (fire, smoke) ``truth`` whose feature rows are ``features``."""
    card = model.card
    fire_truth = [fire for fire, _ in truth]
    smoke_truth = [smoke for _, smoke in truth]
    probabilities = model.predict(features) if len(truth) else np.zeros((0, 2))
    return Evaluation(
        images=len(truth),
        baseline_fire=score_detections(list(features[:, FIRE_SHARE] >= card.baseline_fire_frac), fire_truth),
        baseline_smoke=score_detections(list(features[:, SMOKE_SHARE] >= card.baseline_smoke_frac), smoke_truth),
        model_fire=score_detections(list(probabilities[:, 0] >= card.fire_threshold), fire_truth),
        model_smoke=score_detections(list(probabilities[:, 1] >= card.smoke_threshold), smoke_truth),
    )
