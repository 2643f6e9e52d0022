"""One frame on its own: fire and smoke scores, their regions, and the health metrics.

This is the stateless half of the analysis (what ``amur vision analyze`` prints);
:mod:`vision.analysis.camera` adds the per-camera history on top.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from vision.analysis.config import AnalysisConfig
from vision.analysis.decode import Frame
from vision.analysis.features import (
    FIRE_SHARE,
    SMOKE_SHARE,
    Planes,
    feature_vector,
    planes_of,
    work_image,
)
from vision.analysis.health import (
    HealthFlags,
    HealthMetrics,
    health_flags,
    health_metrics,
)
from vision.analysis.model import FireSmokeModel
from vision.analysis.network import PatchNetwork

Detector = FireSmokeModel | PatchNetwork
"""What gives P(fire) and P(smoke): the patch network or the 85-feature classifier."""

DETECTORS: dict[str, Callable[..., Detector]] = {"network": PatchNetwork.load, "classifier": FireSmokeModel.load}
"""The shipped detectors by the name a setting or an option gives (``vision_detector``, ``--detector``);
each loads its shipped file, or the file it is given."""

Box = tuple[int, int, int, int]
_MIN_BLOB = 3
"""Working-size pixels a colour blob needs to count towards a region."""
_STANDALONE_REACH = 2.0
"""Without a camera's change weights, a region is located from half the detection threshold."""


@dataclass(frozen=True, eq=False)
class ImageAnalysis:
    fire_probability: float
    """Classifier P(fire) for this frame alone, 0-1."""
    smoke_probability: float
    fire_colour_share: float
    """Share of the frame passing the flame-colour rules (the baseline detector's input)."""
    smoke_colour_share: float
    fire_region: Box | None
    """x, y, w, h of the flame-coloured pixels, in original-frame pixels."""
    smoke_region: Box | None
    health: HealthMetrics
    flags: HealthFlags
    """Stateless health flags (no camera baseline)."""
    planes: Planes
    """Working-size planes, kept for the comparisons with earlier samples."""
    to_original: float
    """Multiply a working-size coordinate by this to get an original-frame coordinate."""


def region_of(mask: np.ndarray, to_original: float) -> Box | None:
    """Bounding box (original pixels) of the mask's blobs of at least a few pixels."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8)
    blobs = stats[1:][stats[1:, cv2.CC_STAT_AREA] >= _MIN_BLOB] if count > 1 else stats[:0]
    if not len(blobs):
        return None
    x0 = int(blobs[:, cv2.CC_STAT_LEFT].min())
    y0 = int(blobs[:, cv2.CC_STAT_TOP].min())
    x1 = int((blobs[:, cv2.CC_STAT_LEFT] + blobs[:, cv2.CC_STAT_WIDTH]).max())
    y1 = int((blobs[:, cv2.CC_STAT_TOP] + blobs[:, cv2.CC_STAT_HEIGHT]).max())
    return (round(x0 * to_original), round(y0 * to_original), round((x1 - x0) * to_original), round((y1 - y0) * to_original))


def image_features(frame: Frame, config: AnalysisConfig) -> tuple[Planes, np.ndarray]:
    """Working-size planes and the classifier's feature vector of a frame."""
    planes = planes_of(work_image(frame.pixels, config.work_width), config.rules)
    return planes, feature_vector(planes)


@dataclass(frozen=True, eq=False)
class FrameLook:
    """What a frame shows before the classifier runs: planes, masks and health (the cheap half)."""

    planes: Planes
    health: HealthMetrics
    flags: HealthFlags
    to_original: float
    pixels: np.ndarray
    """The decoded frame (BGR, reduced size): what the patch network reads."""
    original_size: tuple[int, int]
    """(width, height) of the frame the camera sent."""


def look_at(frame: Frame, config: AnalysisConfig = AnalysisConfig()) -> FrameLook:
    """Planes, colour masks and health metrics of a frame, without features or classifier."""
    planes = planes_of(work_image(frame.pixels, config.work_width), config.rules)
    same_size = frame.pixels.shape[:2] == planes.gray.shape
    gray_full = planes.gray if same_size else cv2.cvtColor(frame.pixels, cv2.COLOR_BGR2GRAY)
    metrics = health_metrics(gray_full, planes.gray, planes.edges, config, planes.gray_hist)
    return FrameLook(
        planes=planes,
        health=metrics,
        flags=health_flags(metrics, config),
        to_original=frame.original_size[0] / planes.gray.shape[1],
        pixels=frame.pixels,
        original_size=frame.original_size,
    )


def classify(look: FrameLook, model: Detector, weights: tuple[float, float] | None = None) -> ImageAnalysis:
    """The detector's verdict on a looked-at frame: P(fire), P(smoke) and their regions.

    A region is located only for a probability that can make a finding: with a camera's change
    ``weights`` where probability x weight reaches the threshold. Without them, the patch network
    locates it where P reaches the threshold (the cells that do), the 85-feature classifier from half
    the threshold (its colour blobs; what ``amur vision analyze`` reported before the network).
    """
    if isinstance(model, PatchNetwork):
        return _network_verdict(look, model, weights)
    planes = look.planes
    features = feature_vector(planes)
    fire_p, smoke_p = (float(x) for x in model.predict(features)[0])
    card = model.card
    fire_reach, smoke_reach = weights or (_STANDALONE_REACH, _STANDALONE_REACH)
    return ImageAnalysis(
        fire_probability=fire_p,
        smoke_probability=smoke_p,
        fire_colour_share=float(features[FIRE_SHARE]),
        smoke_colour_share=float(features[SMOKE_SHARE]),
        fire_region=region_of(planes.fire, look.to_original) if fire_p * fire_reach >= card.fire_threshold else None,
        smoke_region=region_of(planes.smoke, look.to_original) if smoke_p * smoke_reach >= card.smoke_threshold else None,
        health=look.health,
        flags=look.flags,
        planes=planes,
        to_original=look.to_original,
    )


def _network_verdict(look: FrameLook, network: PatchNetwork, weights: tuple[float, float] | None) -> ImageAnalysis:
    """The patch network's verdict: P(fire), P(smoke) and the cells where they are."""
    verdict = network.judge(look.pixels, look.original_size, weights or (1.0, 1.0))
    planes = look.planes
    return ImageAnalysis(
        fire_probability=verdict.fire_probability,
        smoke_probability=verdict.smoke_probability,
        fire_colour_share=cv2.countNonZero(planes.fire.view(np.uint8)) / planes.fire.size,
        smoke_colour_share=cv2.countNonZero(planes.smoke.view(np.uint8)) / planes.smoke.size,
        fire_region=verdict.fire_region,
        smoke_region=verdict.smoke_region,
        health=look.health,
        flags=look.flags,
        planes=planes,
        to_original=look.to_original,
    )


def analyse_image(frame: Frame, model: Detector, config: AnalysisConfig = AnalysisConfig()) -> ImageAnalysis:
    """Everything one frame says by itself (no history, no baseline).

    A blank frame (dark, overexposed or covered) shows nothing but that: the classifier does not
    run on it (as in a running camera), and its probabilities are 0.
    """
    look = look_at(frame, config)
    if look.flags.blank:
        return _unjudged(look)
    return classify(look, model)


def _unjudged(look: FrameLook) -> ImageAnalysis:
    """A frame in which no fire or smoke can be judged: probabilities 0, no regions."""
    features = feature_vector(look.planes)
    return ImageAnalysis(
        fire_probability=0.0,
        smoke_probability=0.0,
        fire_colour_share=float(features[FIRE_SHARE]),
        smoke_colour_share=float(features[SMOKE_SHARE]),
        fire_region=None,
        smoke_region=None,
        health=look.health,
        flags=look.flags,
        planes=look.planes,
        to_original=look.to_original,
    )
