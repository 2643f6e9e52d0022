"""Precision and recall of the colour-rule baseline and the classifier on labelled images,
single images (:func:`evaluate`) and as a running camera would see them (:func:`replay`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import cv2
import numpy as np

from stream.schemas import FindingKind
from vision.analysis.camera import Finding, analyse_frame
from vision.analysis.config import AnalysisConfig
from vision.analysis.dataset import LabelledImage
from vision.analysis.decode import decode_frame, read_frame
from vision.analysis.errors import DatasetError
from vision.analysis.features import FEATURE_NAMES, FIRE_SHARE, SMOKE_SHARE
from vision.analysis.image import Detector, image_features
from vision.analysis.metrics import DetectionScores, score_detections
from vision.analysis.model import FireSmokeModel
from vision.analysis.state import CameraState


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


@dataclass(frozen=True)
class Replay:
    """A running camera's view of labelled photos: each photo as a short run of samples."""

    fire: DetectionScores
    smoke: DetectionScores
    """Per photo: did any sample of its run report the finding (confirmed or not)."""
    findings: tuple[tuple[tuple[Finding, ...], ...], ...]
    """Per photo, per sample: what :func:`analyse_frame` returned."""


def sample_run(path: Path, samples: int, rng: np.random.Generator, size: tuple[int, int] = (640, 360)) -> list[bytes]:
    """``samples`` JPEGs of one photo as a fixed camera would send them: shaken by up to 2 px, sensor noise sigma ~3."""
    pixels = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if pixels is None:
        raise DatasetError(f"cannot read labelled image {str(path)!r}")
    base = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
    run = []
    for _ in range(samples):
        dx, dy = (float(d) for d in rng.integers(-2, 3, 2))
        moved = cv2.warpAffine(base, np.float32([[1, 0, dx], [0, 1, dy]]), size, borderMode=cv2.BORDER_REFLECT)
        noise = rng.normal(0.0, 3.0, moved.shape) * (0.9 + 0.2 * rng.random())
        noisy = np.clip(moved + noise, 0, 255).astype(np.uint8)
        run.append(cv2.imencode(".jpg", noisy, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes())
    return run


def replay(
    images: Sequence[LabelledImage], model: Detector, config: AnalysisConfig, samples: int = 6, seed: int = 5
) -> Replay:
    """Run each photo through :func:`analyse_frame` as ``samples`` samples 10 s apart (same runs for a given seed)."""
    rng = np.random.default_rng(seed)
    start = datetime(2026, 6, 15, 4, 0, tzinfo=timezone.utc)
    runs = []
    for image in images:
        state, run = CameraState(), []
        for k, data in enumerate(sample_run(image.path, samples, rng)):
            found, state = analyse_frame(decode_frame(data, target_width=config.decode_width), state,
                                         start + timedelta(seconds=10 * k), config, model)
            run.append(found)
        runs.append(tuple(run))
    seen = [{f.kind for found in run for f in found} for run in runs]
    return Replay(
        fire=score_detections([FindingKind.FIRE in s for s in seen], [i.fire for i in images]),
        smoke=score_detections([FindingKind.SMOKE in s for s in seen], [i.smoke for i in images]),
        findings=tuple(runs),
    )
