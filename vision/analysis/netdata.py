"""Backbone features of labelled images, decoded exactly as a camera frame is decoded at run time."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from vision.analysis.config import AnalysisConfig
from vision.analysis.dataset import LabelledImage
from vision.analysis.decode import decode_frame, read_frame
from vision.analysis.loso import Extra
from vision.analysis.synthetic import TRAIN_VARIANTS, synthetic_frames

FLEET_PER_CASE = 6
"""Fleet frames per scene x panorama variant x (nothing, flame, smoke) added to every head's training."""
FLEET_REPEAT = 8
"""Each fleet frame counts this many times (144 frames beside ~2,700 photos and mirror images): a drill's
flame and plume must be judged with confidence, since a running camera multiplies P by its change weight."""


def cell_features(images: Sequence[LabelledImage], forward: Callable[[np.ndarray], np.ndarray],
                  config: AnalysisConfig = AnalysisConfig(), flip: bool = False) -> np.ndarray:
    """(N, K, C) float16 cell features: ``forward(bgr) -> (C, rows, cols)`` on each decoded image.

    ``flip`` mirrors each image left-right first (training augmentation).
    """
    return _cells((read_frame(i.path, target_width=config.decode_width).pixels for i in images), forward, flip)


def jpeg_features(jpegs: Sequence[bytes], forward: Callable[[np.ndarray], np.ndarray],
                  config: AnalysisConfig = AnalysisConfig(), flip: bool = False) -> np.ndarray:
    """(N, K, C) float16 cell features of encoded frames (e.g. rendered by the simulated fleet)."""
    return _cells((decode_frame(j, target_width=config.decode_width).pixels for j in jpegs), forward, flip)


def _cells(frames: Iterable[np.ndarray], forward: Callable[[np.ndarray], np.ndarray], flip: bool) -> np.ndarray:
    rows = []
    for pixels in frames:
        out = forward(np.ascontiguousarray(pixels[:, ::-1]) if flip else pixels)
        rows.append(out.reshape(out.shape[0], -1).T.astype(np.float16))
    return np.stack(rows)


def labels(images: Sequence[LabelledImage]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """(fire, smoke, normal) boolean arrays and the short source names of images."""
    fire = np.array([i.fire for i in images])
    smoke = np.array([i.smoke for i in images])
    return fire, smoke, ~(fire | smoke), [i.short_source for i in images]


def fleet_extra(forward: Callable[[np.ndarray], np.ndarray], seed: int = 7,
                config: AnalysisConfig = AnalysisConfig()) -> Extra:
    """The simulated fleet's training frames (panorama variants 0-1) as cell features (once each)."""
    fleet = synthetic_frames(TRAIN_VARIANTS, FLEET_PER_CASE, seed)
    features = jpeg_features([f.jpeg for f in fleet], forward, config)
    return Extra(features, np.array([f.fire for f in fleet]), np.array([f.smoke for f in fleet]))


def repeated(extra: Extra, times: int = FLEET_REPEAT) -> Extra:
    """``extra`` with each frame counted ``times`` times."""
    return Extra(np.tile(extra.features, (times, 1, 1)), np.tile(extra.fire, times), np.tile(extra.smoke, times))
