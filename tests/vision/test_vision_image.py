"""One frame on its own (vision/analysis/image.py): what ``amur vision analyze`` says about it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from vision.analysis.config import AnalysisConfig
from vision.analysis.decode import decode_frame
from vision.analysis.image import analyse_image
from vision.analysis.model import FireSmokeModel
from vision.analysis.synthetic import EVAL_VARIANTS, HEIHE
from vision.fleet.camera import FleetCamera
from vision.fleet.events import EventKind, ScriptedEvent
from vision.fleet.render import FrameRenderer, encode_jpeg
from vision.fleet.scene import SceneKind

CONFIG = AnalysisConfig()
EVENING = datetime(2026, 12, 7, 12, 20, tzinfo=timezone.utc)  # 20:20 in Heihe: night


@pytest.fixture(scope="module")
def model() -> FireSmokeModel:
    return FireSmokeModel.load()


def _frame(scene: SceneKind, kind: EventKind | None, at: datetime = EVENING):
    camera = FleetCamera("cam", scene, 640, 360, EVAL_VARIANTS[0], 100, *HEIHE, None)
    events = () if kind is None else (ScriptedEvent("e", kind, frozenset({"cam"}), at - timedelta(minutes=1), None),)
    return decode_frame(encode_jpeg(FrameRenderer(seed=7).render(camera, at, events)))


@pytest.mark.parametrize("scene", list(SceneKind))
def test_an_overexposed_camera_at_night_is_overexposed_not_smoke(model: FireSmokeModel, scene: SceneKind) -> None:
    """The fleet's overexposed frame once was a flat grey (mean 167, nothing above 240) that read as smoke 0.998."""
    result = analyse_image(_frame(scene, EventKind.OVEREXPOSED), model, CONFIG)
    assert result.flags.overexposed
    assert result.smoke_probability < model.card.smoke_threshold and result.fire_probability < model.card.fire_threshold


@pytest.mark.parametrize("kind", [EventKind.BLACK, EventKind.OVEREXPOSED, EventKind.COVERED])
def test_a_blank_frame_is_not_classified(model: FireSmokeModel, kind: EventKind) -> None:
    """Dark, white or covered: nothing but the fault shows, so no fire or smoke probability (as in a running camera)."""
    result = analyse_image(_frame(SceneKind.STREET, kind), model, CONFIG)
    assert result.flags.blank
    assert (result.fire_probability, result.smoke_probability, result.fire_region, result.smoke_region) == (0, 0, None, None)


def test_a_lit_frame_is_classified(model: FireSmokeModel) -> None:
    noon = datetime(2026, 6, 21, 4, 0, tzinfo=timezone.utc)
    result = analyse_image(_frame(SceneKind.FOREST, EventKind.FLAME, noon), model, CONFIG)
    assert not result.flags.blank and result.fire_probability >= model.card.fire_threshold
