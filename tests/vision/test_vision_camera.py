"""One camera over time (vision/analysis/camera.py), on frames of the simulated fleet with known truth.

The fleet (vision/fleet) renders each scripted event into the pixels; the cameras
here use panorama variant 2, which the detectors never saw in training
(vision/analysis/synthetic.py: TRAIN_VARIANTS = (0, 1)).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import cv2
import numpy as np
import pytest

from stream.schemas import FindingKind, VisionFinding, decode, encode
from vision.analysis.camera import (
    Finding,
    analyse_frame,
    needs_classifier,
    record_failure,
)
from vision.analysis.config import AnalysisConfig
from vision.analysis.decode import decode_frame
from vision.analysis.errors import AnalysisError
from vision.analysis.image import DETECTORS, Detector, look_at
from vision.analysis.state import CameraState, state_from_json, state_to_json
from vision.analysis.synthetic import EVAL_VARIANTS, HEIHE
from vision.analysis.wire import to_vision_finding
from vision.fleet.camera import FleetCamera
from vision.fleet.events import EventKind, ScriptedEvent
from vision.fleet.render import FrameRenderer, encode_jpeg
from vision.fleet.scene import SceneKind

NOON = datetime(2026, 6, 15, 4, 0, tzinfo=timezone.utc)  # 12:00 in Heihe (UTC+8)
ONSET = 6
"""Events start at this sample."""
CONFIG = AnalysisConfig()
RIVER_BANK = (0.0, 0.27, 1.0, 0.23)
"""The bank between the river's surface and the top of the gauge marker, as shares of the frame."""


@pytest.fixture(scope="module", params=sorted(DETECTORS))
def model(request: pytest.FixtureRequest) -> Detector:
    return DETECTORS[request.param]()  # each shipped detector, as the stream runs it (AMUR_VISION_DETECTOR)


def _camera(scene: SceneKind, width: int = 640, height: int = 360) -> FleetCamera:
    return FleetCamera(f"cam-{scene.value}", scene, width, height, EVAL_VARIANTS[0], 100, *HEIHE, None)


def _run(
    model: Detector,
    camera: FleetCamera,
    kind: EventKind | None,
    samples: int,
    *,
    step_s: float = 10.0,
    start: datetime = NOON,
    config: AnalysisConfig = CONFIG,
) -> list[tuple[Finding, ...]]:
    renderer = FrameRenderer(seed=11)
    event_start = start + timedelta(seconds=ONSET * step_s)
    events = () if kind is None else (ScriptedEvent("e1", kind, frozenset({camera.camera_id}), event_start, None),)
    state, out = CameraState(), []
    for i in range(samples):
        at = start + timedelta(seconds=i * step_s)
        jpeg = encode_jpeg(renderer.render(camera, at, tuple(e for e in events if e.active_at(at))))
        findings, state = analyse_frame(decode_frame(jpeg, ref=f"{camera.camera_id}/{i}"), state, at, config, model)
        out.append(findings)
    return out


def _kinds(findings: tuple[Finding, ...], confirmed_only: bool = False) -> set[FindingKind]:
    return {f.kind for f in findings if f.confirmed or not confirmed_only}


@pytest.mark.parametrize("scene", list(SceneKind))
def test_quiet_day_raises_nothing(model: Detector, scene: SceneKind) -> None:
    assert all(not findings for findings in _run(model, _camera(scene), None, 16))


@pytest.mark.parametrize("scene", [SceneKind.FOREST, SceneKind.SQUARE])
def test_dusk_and_night_raise_no_storm(model: Detector, scene: SceneKind) -> None:
    """From 18:30 to 23:30 Heihe time in June the view fades to night: no fault, no fire, no water."""
    config = replace(CONFIG, water_roi=RIVER_BANK)
    dusk = _run(model, _camera(scene), None, 100, step_s=180, start=datetime(2026, 6, 15, 10, 30, tzinfo=timezone.utc), config=config)
    assert [f for findings in dusk for f in findings if f.confirmed] == []


@pytest.mark.parametrize("scene", list(SceneKind))
def test_flame_is_confirmed_where_it_burns(model: Detector, scene: SceneKind) -> None:
    camera = _camera(scene)
    history = _run(model, camera, EventKind.FLAME, ONSET + CONFIG.confirm_n)
    assert all(FindingKind.FIRE not in _kinds(f) for f in history[:ONSET])
    confirmed = [f for f in history[-1] if f.kind is FindingKind.FIRE and f.confirmed]
    assert confirmed, history
    # Where the fleet drew the flame: pixels that differ strongly from the same instant without it.
    at = NOON + timedelta(seconds=10 * (len(history) - 1))
    renderer = FrameRenderer(seed=11)
    flame = ScriptedEvent("e1", EventKind.FLAME, frozenset({camera.camera_id}), NOON, None)
    diff = cv2.absdiff(renderer.render(camera, at, (flame,)), renderer.render(camera, at, ())).max(axis=2)
    ys, xs = np.nonzero(diff > 80)
    x, y, w, h = confirmed[0].region
    assert x <= xs.mean() <= x + w and y <= ys.mean() <= y + h
    assert w * h < 0.25 * camera.width * camera.height
    assert confirmed[0].evidence_ref == f"{camera.camera_id}/{len(history) - 1}"


@pytest.mark.parametrize("scene", [SceneKind.FOREST, SceneKind.RIVER])
def test_smoke_plume_is_confirmed(model: Detector, scene: SceneKind) -> None:
    history = _run(model, _camera(scene), EventKind.SMOKE, ONSET + CONFIG.confirm_n)
    assert all(FindingKind.SMOKE not in _kinds(f) for f in history[:ONSET])
    assert FindingKind.SMOKE in _kinds(history[-1], confirmed_only=True)


def test_classifier_is_needed_only_when_a_weight_can_reach_its_threshold(model: Detector) -> None:
    card = model.card
    assert CONFIG.static_weight < min(card.fire_threshold, card.smoke_threshold)  # what the cascade relies on
    assert not needs_classifier((CONFIG.static_weight, CONFIG.static_weight), model, CONFIG)
    assert needs_classifier((card.fire_threshold, 0.0), model, CONFIG)
    assert needs_classifier((0.0, card.smoke_threshold), model, CONFIG)
    assert needs_classifier((0.0, 0.0), model, replace(CONFIG, classifier_cascade=False))


@pytest.mark.parametrize(("kind", "scene"), [(EventKind.FLAME, SceneKind.STREET), (EventKind.SMOKE, SceneKind.FOREST), (None, SceneKind.SQUARE)])
def test_skipping_the_classifier_changes_no_finding(model: Detector, kind: EventKind | None, scene: SceneKind) -> None:
    """The cascade is exact: every finding (kind, score, region, confirmed) is what the classifier-always path gives."""
    camera = _camera(scene)
    always = _run(model, camera, kind, ONSET + CONFIG.confirm_n, config=replace(CONFIG, classifier_cascade=False))
    assert _run(model, camera, kind, ONSET + CONFIG.confirm_n) == always
    if kind is not None:
        assert any(f.confirmed for f in always[-1])  # the runs compared do contain detections


@pytest.mark.parametrize(
    ("fault", "kind", "scene"),
    [
        (EventKind.DEFOCUSED, FindingKind.BLURRED, SceneKind.STREET),
        (EventKind.DEFOCUSED, FindingKind.BLURRED, SceneKind.FOREST),
        (EventKind.COVERED, FindingKind.COVERED, SceneKind.SQUARE),
        (EventKind.BLACK, FindingKind.DARK, SceneKind.RIVER),
        (EventKind.OVEREXPOSED, FindingKind.OVEREXPOSED, SceneKind.STREET),
        (EventKind.TURNED_AWAY, FindingKind.MOVED, SceneKind.FOREST),
        (EventKind.TURNED_AWAY, FindingKind.MOVED, SceneKind.RIVER),
    ],
)
def test_camera_fault_is_confirmed_after_k_samples(model: Detector, fault: EventKind, kind: FindingKind, scene: SceneKind) -> None:
    history = _run(model, _camera(scene), fault, ONSET + CONFIG.fault_confirm_n)
    assert all(not findings for findings in history[:ONSET])
    first_confirmed = next(i for i, findings in enumerate(history) if kind in _kinds(findings, confirmed_only=True))
    assert first_confirmed == ONSET + CONFIG.fault_confirm_k - 1
    fault = next(f for f in history[-1] if f.kind is kind)
    assert fault.region == (0, 0, 640, 360) and 0.0 < fault.score <= 1.0
    assert fault.evidence_ref == f"cam-{scene.value}/{len(history) - 1}"
    assert not {FindingKind.FIRE, FindingKind.SMOKE} & _kinds(history[-1], confirmed_only=True)


def test_frozen_image_is_confirmed_on_the_fourth_identical_sample(model: Detector) -> None:
    jpeg = encode_jpeg(FrameRenderer(seed=2).render(_camera(SceneKind.STREET), NOON))
    state, confirmed_at = CameraState(), []
    for i in range(6):
        findings, state = analyse_frame(decode_frame(jpeg), state, NOON + timedelta(seconds=10 * i), CONFIG, model)
        confirmed_at.append(FindingKind.FROZEN in _kinds(findings, confirmed_only=True))
    # Sample 0 has nothing to compare; samples 1-3 are identical to their predecessor: 3 of 4 at sample 3.
    assert confirmed_at == [False, False, False, True, True, True]


MIDNIGHT = datetime(2026, 6, 15, 16, 0, tzinfo=timezone.utc)  # 24:00 in Heihe


def test_frozen_night_picture_is_confirmed_on_the_fourth_identical_sample(model: Detector) -> None:
    """A night scene is dark (not a fault), yet its sensor noise changes every sample: the same bytes again do not."""
    jpeg = encode_jpeg(FrameRenderer(seed=2).render(_camera(SceneKind.FOREST), MIDNIGHT))
    state, found = CameraState(), []
    for i in range(6):
        findings, state = analyse_frame(decode_frame(jpeg), state, MIDNIGHT + timedelta(seconds=10 * i), CONFIG, model)
        found.append(_kinds(findings, confirmed_only=True))
    assert found == [set(), set(), set(), {FindingKind.FROZEN}, {FindingKind.FROZEN}, {FindingKind.FROZEN}]


@pytest.mark.parametrize("scene", list(SceneKind))
def test_signal_lost_at_night_is_dark_not_night(model: Detector, scene: SceneKind) -> None:
    """Flat black without sensor noise is told from a dark night scene: confirmed at sample 8, frozen not reported."""
    history = _run(model, _camera(scene), EventKind.BLACK, ONSET + CONFIG.fault_confirm_n, start=MIDNIGHT)
    assert all(not findings for findings in history[:ONSET])  # night itself is not a fault
    confirmed = [_kinds(findings, confirmed_only=True) for findings in history]
    assert confirmed[ONSET + CONFIG.fault_confirm_k - 1:] == [{FindingKind.DARK}] * 2
    assert all(FindingKind.FROZEN not in _kinds(findings) for findings in history)


def test_a_soft_view_is_its_cameras_normal_and_defocus_is_still_found(model: Detector) -> None:
    """A forest under a bright sky measures below the single-image blur limit, as 69 of the fleet's 1,482
    forest cameras do by day; a running camera is judged against its own sharpness, so it raises nothing."""
    camera = FleetCamera("cam-soft-forest", SceneKind.FOREST, 960, 540, 0, 8, *HEIHE, None)
    frame = decode_frame(encode_jpeg(FrameRenderer(seed=11).render(camera, NOON)))
    assert look_at(frame, CONFIG).health.sharpness < CONFIG.blur_sharpness  # what made it a false fault
    assert all(not findings for findings in _run(model, camera, None, 16))
    history = _run(model, camera, EventKind.DEFOCUSED, ONSET + CONFIG.fault_confirm_n)
    first = next(i for i, findings in enumerate(history) if FindingKind.BLURRED in _kinds(findings, confirmed_only=True))
    assert first == ONSET + CONFIG.fault_confirm_k - 1


def test_samples_far_apart_are_not_compared(model: Detector) -> None:
    jpeg = encode_jpeg(FrameRenderer(seed=2).render(_camera(SceneKind.STREET), NOON))
    state = CameraState()
    for i in range(4):
        findings, state = analyse_frame(decode_frame(jpeg), state, NOON + timedelta(seconds=i * (CONFIG.max_gap_s + 1)), CONFIG, model)
        assert FindingKind.FROZEN not in _kinds(findings)


def test_water_rising_over_the_bank_is_confirmed(model: Detector) -> None:
    config = replace(CONFIG, water_roi=RIVER_BANK)
    camera = _camera(SceneKind.RIVER)
    history = _run(model, camera, EventKind.WATER_RISE, 120, config=config)  # rises over 10 min from sample 6
    assert all(FindingKind.WATER_RISE not in _kinds(f) for f in history[:ONSET + 6])
    water = [f for f in history[-1] if f.kind is FindingKind.WATER_RISE]
    assert water and water[0].confirmed
    # ROI rows int(0.27 * 18) = 4 to round(0.50 * 18) = 9 of the 18-row colour thumbnail, 20 px each.
    assert water[0].region == (0, 80, 640, 100)


def test_camera_dark_from_its_first_sample_is_a_fault_only_after_max_dark(model: Detector) -> None:
    """No lit sample before it, so it may be night: dark counts once it lasts longer than any night.

    (A camera that goes dark after a lit sample is a fault at once: the BLACK case above.)
    """
    config = replace(CONFIG, max_dark_s=120.0)
    black = encode_jpeg(np.random.default_rng(1).integers(0, 7, (360, 640, 3), dtype=np.uint8))
    state, seen = CameraState(), []
    for i in range(20):
        findings, state = analyse_frame(decode_frame(black), state, NOON + timedelta(seconds=10 * i), config, model)
        seen.append(FindingKind.DARK in _kinds(findings))
    assert seen.index(True) == 12  # 120 s after the first dark sample


def test_offline_samples_are_confirmed_k_of_n() -> None:
    state, confirmed = CameraState(), []
    for i in range(4):
        findings, state = record_failure(FindingKind.OFFLINE, state, NOON + timedelta(seconds=10 * i), CONFIG)
        confirmed.append(findings[0].confirmed)
    assert confirmed == [False, False, True, True]
    with pytest.raises(AnalysisError, match="kind='fire'"):
        record_failure(FindingKind.FIRE, state, NOON, CONFIG)


def test_state_survives_serialisation_between_samples(model: Detector) -> None:
    camera = _camera(SceneKind.FOREST)
    renderer = FrameRenderer(seed=5)
    flame = ScriptedEvent("e1", EventKind.FLAME, frozenset({camera.camera_id}), NOON, None)
    kept, stored = CameraState(), CameraState()
    for i in range(6):
        at = NOON + timedelta(seconds=10 * i)
        frame = decode_frame(encode_jpeg(renderer.render(camera, at, (flame,))), ref=str(i))
        direct, kept = analyse_frame(frame, kept, at, CONFIG, model)
        via_table, stored = analyse_frame(frame, stored, at, CONFIG, model)
        stored = state_from_json(state_to_json(stored))
        assert direct == via_table
    assert kept == stored


def test_finding_becomes_a_valid_wire_event() -> None:
    finding = Finding(FindingKind.FIRE, 0.91, True, (10, 20, 30, 40), "frames/cam-1/0001.jpg")
    event = to_vision_finding(finding, camera_id="cam-1", source="vision-worker-1", event_time=NOON)
    assert decode(VisionFinding, encode(event)) == event
    assert (event.kind, event.score, event.confirmed, event.bbox, event.evidence_ref) == (
        FindingKind.FIRE, 0.91, True, (10, 20, 30, 40), "frames/cam-1/0001.jpg"
    )
