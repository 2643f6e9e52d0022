"""One camera over time: ``analyse_frame(frame, state, now, config, model) -> (findings, new_state)``.

Adds to the single-frame analysis what only history can say: flicker of flame
areas and slow motion of smoke between samples, frozen images, a scene that
moved or a riverside region that changed against the camera's slowly adapting
baseline, and k-of-n confirmation per finding kind. Night (too little light)
suspends the blur, move and water tests and the baseline's learning, so dusk
does not raise a storm of camera faults; a frozen picture (no changing sensor
noise) and a lost signal (flat black) are still found at night.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime

import cv2
import numpy as np

from stream.schemas import FindingKind
from vision.analysis.config import AnalysisConfig
from vision.analysis.decode import Frame
from vision.analysis.errors import AnalysisError
from vision.analysis.image import Box, Detector, FrameLook, ImageAnalysis, classify, look_at
from vision.analysis.scene import (
    BASELINE_SIZE,
    area_change,
    changed_share,
    masked_motion,
    mean_abs_difference,
    roi_pixels,
    shift_share,
    structure_correlation,
    thumbnail,
)
from vision.analysis.state import (
    Baseline,
    CameraState,
    pack,
    pack_exact,
    pack_share,
    push_history,
    seen_count,
    unpack,
    unpack_exact,
    unpack_share,
)

HAZARDS = (FindingKind.FIRE, FindingKind.SMOKE, FindingKind.WATER_RISE)
FRAME_FAULTS = (
    FindingKind.FROZEN,
    FindingKind.DARK,
    FindingKind.OVEREXPOSED,
    FindingKind.BLURRED,
    FindingKind.COVERED,
    FindingKind.MOVED,
)
SAMPLE_FAULTS = (FindingKind.OFFLINE, FindingKind.CORRUPT)
BLANK_FAULTS = (FindingKind.DARK, FindingKind.OVEREXPOSED, FindingKind.COVERED)
"""The faults judged in a blank frame (dark, white or covered): nothing else shows in it."""


@dataclass(frozen=True)
class Finding:
    """What one sample showed for one kind; maps onto ``stream.schemas.VisionFinding``."""

    kind: FindingKind
    score: float
    """0-1; for fire and smoke, the classifier's probability weighted by the change between samples."""
    confirmed: bool
    """Seen in at least k of the last n samples of this camera."""
    region: Box | None
    """x, y, w, h in original-frame pixels; the whole frame for frame faults; None when there was no frame."""
    evidence_ref: str | None


@dataclass(frozen=True)
class _Thumbs:
    gray: np.ndarray
    """Luma at THUMB_SIZE (compared with the previous sample)."""
    fire: np.ndarray
    smoke: np.ndarray
    """Flame- and smoke-coloured densities (0..1) at THUMB_SIZE."""
    base_gray: np.ndarray
    base_edges: np.ndarray
    colour: np.ndarray
    """Luma, edges and BGR at BASELINE_SIZE (compared with the baseline)."""


def _whole(frame: Frame) -> Box:
    """The region of a whole-frame finding: the full original frame."""
    width, height = frame.original_size
    return (0, 0, width, height)


def _clip(value: float) -> float:
    return float(min(1.0, max(0.0, value)))


def _change_weight(evidence: float, config: AnalysisConfig) -> float:
    """Score multiplier: ``static_weight`` for an unchanged region, 1 for full flicker or motion."""
    return config.static_weight + (1.0 - config.static_weight) * _clip(evidence)


def _window(config: AnalysisConfig, kind: FindingKind) -> tuple[int, int]:
    if kind in HAZARDS:
        return config.confirm_k, config.confirm_n
    return config.fault_confirm_k, config.fault_confirm_n


def _change_weights(
    thumbs: _Thumbs, previous: _Thumbs | None, baseline: Baseline | None, blurred: bool, config: AnalysisConfig
) -> tuple[float, float]:
    """Multipliers of P(fire) and P(smoke): evidence of flicker and of drift between samples.

    Since a probability is at most 1, a weight is also the highest score its finding can reach.
    """
    if previous is None:  # no recent sample to compare: no evidence of flicker or drift yet
        return config.static_weight, config.static_weight
    fire = _change_weight(area_change(thumbs.fire, previous.fire) / config.flicker_reference, config)
    motion = masked_motion(thumbs.gray, previous.gray, thumbs.smoke) / config.motion_reference
    contrast_drop = 0.0  # defocus lowers contrast everywhere; smoke only where it drifts
    if baseline is not None and baseline.edge_mean > 0 and not blurred:
        # Edges relative to brightness, so dusk dimming the whole view is not a contrast drop.
        then = baseline.edge_mean / max(1.0, cv2.mean(unpack_exact(baseline.gray))[0])
        now = cv2.mean(thumbs.base_edges)[0] / max(1.0, cv2.mean(thumbs.base_gray)[0])
        contrast_drop = 2.0 * (1.0 - now / then)
    return fire, _change_weight(max(motion, contrast_drop), config)


def _hazards(
    image: ImageAnalysis | None,
    weights: tuple[float, float],
    thumbs: _Thumbs,
    baseline: Baseline | None,
    model: Detector,
    frame: Frame,
    config: AnalysisConfig,
    night: bool,
) -> dict[FindingKind, tuple[float, bool, Box | None]]:
    """Score, detected?, region of fire, smoke and water for this sample.

    ``image`` is None when the classifier was skipped because neither weight can reach its
    threshold: the scores are then the weights themselves (upper bounds), never detections.
    """
    whole = _whole(frame)
    card = model.card
    if image is None:
        out = {FindingKind.FIRE: (weights[0], False, whole), FindingKind.SMOKE: (weights[1], False, whole)}
    else:
        fire = image.fire_probability * weights[0]
        smoke = image.smoke_probability * weights[1]
        out = {
            FindingKind.FIRE: (fire, fire >= card.fire_threshold, image.fire_region or whole),
            FindingKind.SMOKE: (smoke, smoke >= card.smoke_threshold, image.smoke_region or whole),
        }
    baseline_colour = unpack_exact(baseline.colour, channels=3) if baseline is not None else None
    if config.water_roi is not None and baseline_colour is not None and not night:
        share = changed_share(thumbs.colour, baseline_colour, config.water_roi, config.water_delta)
        width, height = frame.original_size
        x0, y0, x1, y1 = roi_pixels(config.water_roi, BASELINE_SIZE)
        sx, sy = width / BASELINE_SIZE[0], height / BASELINE_SIZE[1]
        region = (round(x0 * sx), round(y0 * sy), round((x1 - x0) * sx), round((y1 - y0) * sy))
        out[FindingKind.WATER_RISE] = (share, share >= config.water_share, region)
    return out


def needs_classifier(weights: tuple[float, float], model: Detector, config: AnalysisConfig) -> bool:
    """Whether P(fire) or P(smoke) could change this sample's findings.

    A finding's score is probability x weight with the probability in [0, 1], so when both
    weights are below their thresholds no detector output can give a detection: skipping it
    leaves the findings and the camera state exactly as they would have been.
    """
    card = model.card
    return not config.classifier_cascade or weights[0] >= card.fire_threshold or weights[1] >= card.smoke_threshold


def _dark_run(
    image: FrameLook, state: CameraState, now: datetime, recent: bool, config: AnalysisConfig
) -> tuple[datetime | None, bool, bool]:
    """(dark since, began suddenly, is a fault): dusk is not a fault, lights going out or the signal lost is."""
    if not image.flags.dark:
        return None, False, False
    since = state.dark_since or now
    was_lit = recent and state.luma is not None and state.luma >= config.night_luma
    sudden = state.dark_sudden or (state.dark_since is None and was_lit)
    lasting = (now - since).total_seconds() >= config.max_dark_s
    return since, sudden, sudden or lasting or image.flags.no_signal


def _blurred(image: FrameLook, baseline: Baseline | None, config: AnalysisConfig) -> tuple[bool, float]:
    """(blurred?, the sharpness limit): a running camera is judged against its own baseline sharpness.

    Not against the single-image limit: a smooth view (a forest under a bright sky, mist) is that
    camera's normal. No verdict before the camera has a baseline, nor at night, in the dark or
    through a cover, where sensor noise is most of the fine detail.
    """
    if baseline is None:
        return False, 0.0
    flags = image.flags
    limit = config.blur_baseline_ratio * baseline.sharpness
    return image.health.sharpness < limit and not (flags.night or flags.dark or flags.covered), limit


def _faults(
    image: FrameLook,
    thumbs: _Thumbs,
    previous: _Thumbs | None,
    baseline: Baseline | None,
    config: AnalysisConfig,
    dark_fault: bool,
    blur: tuple[bool, float],
) -> dict[FindingKind, tuple[float, bool]]:
    """Score and detected? of each frame fault for this sample (``blur``: :func:`_blurred`'s verdict)."""
    m, flags = image.health, image.flags
    blurred, blur_limit = blur
    out = {
        FindingKind.DARK: (1.0 - m.luma_mean / 255.0, dark_fault),
        FindingKind.OVEREXPOSED: (m.clipped_share, flags.overexposed),
        FindingKind.BLURRED: (1.0 - m.sharpness / blur_limit if blur_limit else 0.0, blurred),
        FindingKind.COVERED: (1.0 - m.entropy / 8.0, flags.covered),
    }
    if previous is not None:
        diff = mean_abs_difference(thumbs.gray, previous.gray)
        out[FindingKind.FROZEN] = (1.0 - diff / (10 * config.frozen_max_diff), diff <= config.frozen_max_diff)
    if baseline is not None and not (flags.night or flags.dark or flags.covered):
        correlation = structure_correlation(thumbs.base_edges, unpack_exact(baseline.edges))
        shift = shift_share(thumbs.base_gray, unpack_exact(baseline.gray))
        moved = correlation < config.moved_correlation or shift > config.moved_shift
        out[FindingKind.MOVED] = (max(1.0 - correlation, shift / config.moved_shift / 2), moved)
    return {kind: (_clip(score), bool(detected)) for kind, (score, detected) in out.items()}


def _learn(
    baseline: Baseline | None, thumbs: _Thumbs, sharpness: float, config: AnalysisConfig, hold: bool, dt_s: float
) -> Baseline:
    """The baseline after this sample: EMA of healthy samples, held while something is detected."""
    edge_mean = cv2.mean(thumbs.base_edges)[0]  # cv2.mean: one C call, far cheaper than numpy's on small arrays
    fresh = Baseline(
        samples=1,
        gray=pack_exact(thumbs.base_gray),
        edges=pack_exact(thumbs.base_edges),
        sharpness=sharpness,
        edge_mean=edge_mean,
        colour=pack_exact(thumbs.colour),
    )
    if baseline is None:
        return fresh
    if hold:
        held = baseline.held + 1
        return fresh if held >= config.relearn_samples else replace(baseline, held=held)
    a = min(0.5, 1.0 - math.exp(-max(0.0, dt_s) / config.baseline_tau_s))
    return Baseline(
        samples=baseline.samples + 1,
        gray=pack_exact((1 - a) * unpack_exact(baseline.gray) + a * thumbs.base_gray),
        edges=pack_exact((1 - a) * unpack_exact(baseline.edges) + a * thumbs.base_edges),
        sharpness=(1 - a) * baseline.sharpness + a * sharpness,
        edge_mean=(1 - a) * baseline.edge_mean + a * edge_mean,
        colour=pack_exact((1 - a) * unpack_exact(baseline.colour, channels=3) + a * thumbs.colour),
    )


def _confirm(
    state: CameraState,
    detections: dict[FindingKind, tuple[float, bool, Box | None]],
    ref: str | None,
    config: AnalysisConfig,
) -> tuple[tuple[Finding, ...], tuple[tuple[FindingKind, int], ...]]:
    windows = {kind: _window(config, kind) for kind in detections}
    observed = {kind: seen for kind, (_, seen, _) in detections.items()}
    history = push_history(state.history, observed, {kind: n for kind, (_, n) in windows.items()})
    bits = dict(history)
    findings = tuple(
        Finding(kind, round(score, 4), seen_count(bits.get(kind, 0)) >= windows[kind][0], region, ref)
        for kind, (score, detected, region) in detections.items()
        if detected
    )
    return findings, history


def analyse_frame(
    frame: Frame, state: CameraState, now: datetime, config: AnalysisConfig, model: Detector,
    *, look_closer: bool = False,
) -> tuple[tuple[Finding, ...], CameraState]:
    """Analyse one sample of one camera: the findings it shows and the camera's next state.

    ``now`` is the sample's time (not the wall clock); samples more than
    ``config.max_gap_s`` apart are not compared with each other.

    ``look_closer`` (the camera's first sample after its cell's fire risk rose): the detector runs
    whatever the cascade says, and its P(fire), P(smoke) count at full weight for this sample, with
    no flicker or drift evidence needed. A finding so made still needs k of n samples to be confirmed.
    """
    image = look_at(frame, config)
    planes = image.planes
    # Luma and both densities shrunk in one 3-channel resize (same values as three single ones, fewer calls).
    gray, fire, smoke = cv2.split(thumbnail(cv2.merge([planes.gray, planes.fire.view(np.uint8), planes.smoke.view(np.uint8)])))
    stored = pack(gray), pack_share(fire), pack_share(smoke)  # what the next sample compares with
    thumbs = _Thumbs(  # read back from storage, so an identical frame compares as identical
        gray=unpack(stored[0]),
        fire=unpack_share(stored[1]),
        smoke=unpack_share(stored[2]),
        base_gray=thumbnail(planes.gray, BASELINE_SIZE),
        base_edges=thumbnail(planes.edges, BASELINE_SIZE),
        colour=thumbnail(planes.bgr, BASELINE_SIZE),
    )
    previous = None
    if state.seen_at is not None and state.gray and 0 <= (now - state.seen_at).total_seconds() <= config.max_gap_s:
        previous = _Thumbs(unpack(state.gray), unpack_share(state.fire), unpack_share(state.smoke),
                           thumbs.base_gray, thumbs.base_edges, thumbs.colour)  # baseline-size fields: unused
    baseline = state.baseline if state.baseline and state.baseline.samples >= config.baseline_min_samples else None
    flags = image.flags
    night = flags.night or flags.dark
    blur = _blurred(image, baseline, config)
    detections: dict[FindingKind, tuple[float, bool, Box | None]] = {}
    if not flags.blank:  # no hazard shows in a dark, white or covered frame
        weights = (1.0, 1.0) if look_closer else _change_weights(thumbs, previous, baseline, blur[0], config)
        verdict = classify(image, model, weights) if needs_classifier(weights, model, config) else None
        detections = _hazards(verdict, weights, thumbs, baseline, model, frame, config, night)
    dark_since, dark_sudden, dark_fault = _dark_run(image, state, now, previous is not None, config)
    faults = _faults(image, thumbs, previous, baseline, config, dark_fault, blur)
    if flags.blank:  # the frame shows only its fault; a dark scene (night) also whether it is frozen
        judged = BLANK_FAULTS if dark_fault or flags.overexposed or flags.covered else (*BLANK_FAULTS, FindingKind.FROZEN)
        faults = {k: v for k, v in faults.items() if k in judged}
    detections.update({kind: (score, seen, _whole(frame)) for kind, (score, seen) in faults.items()})
    detections.update({kind: (0.0, False, None) for kind in SAMPLE_FAULTS})
    findings, history = _confirm(state, detections, frame.ref, config)
    anything = any(seen for _, seen, _ in detections.values())
    dt_s = (now - state.seen_at).total_seconds() if state.seen_at else 0.0
    learnt = state.baseline if night else _learn(state.baseline, thumbs, image.health.sharpness, config, anything, dt_s)
    new_state = replace(
        state,
        seen_at=now,
        gray=stored[0],
        fire=stored[1],
        smoke=stored[2],
        baseline=learnt,
        history=history,
        luma=image.health.luma_mean,
        dark_since=dark_since,
        dark_sudden=dark_sudden,
    )
    return findings, new_state


def record_failure(
    kind: FindingKind, state: CameraState, now: datetime, config: AnalysisConfig, ref: str | None = None
) -> tuple[tuple[Finding, ...], CameraState]:
    """A sample that gave no frame (OFFLINE: no answer or timeout; CORRUPT: bytes that do not decode)."""
    if kind not in SAMPLE_FAULTS:
        raise AnalysisError(f"record_failure takes OFFLINE or CORRUPT, got kind={kind.value!r}")
    detections = {k: (1.0 if k is kind else 0.0, k is kind, None) for k in SAMPLE_FAULTS}
    findings, history = _confirm(state, detections, ref, config)
    return findings, replace(state, history=history)
