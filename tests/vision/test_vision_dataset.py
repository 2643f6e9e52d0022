"""The labelled fire/smoke set and its split by source and scene (vision/analysis/dataset.py)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import FIRE_SMOKE, needs_fire_smoke_dataset
from vision.analysis.dataset import (
    DEFAULT_DATASET_DIR,
    load_dataset,
    scene_of,
    split_held_out,
)
from vision.analysis.errors import DatasetError

DATASET = FIRE_SMOKE
ABONIA = "Abonia1/YOLOv8-Fire-and-Smoke-Detection"


@pytest.mark.parametrize(
    ("name", "source", "scene"),
    [
        ("smoke/newsmoke2_mp4-31_jpg.rf.abc.jpg", ABONIA, "video:newsmoke2"),
        ("smoke/pexels-alan-w-8365989_mp4-12_jpg.rf.x.jpg", ABONIA, "video:pexels-alan-w-8365989"),
        ("fire/img_240_jpg.rf.d6e.jpg", ABONIA, "run:9"),
        ("fire/img_249_jpg.rf.d6e.jpg", ABONIA, "run:9"),  # nearby frame numbers: same scene
        ("fire/cair_burning-house2.jpg", "cair/Fire-Detection-Image-Dataset", "photo:cair_burning-house"),
        ("fire/cair_burning-house.jpg", "cair/Fire-Detection-Image-Dataset", "photo:cair_burning-house"),
        ("normal/mwd_sunrise12.jpg", "talalahmad27/x", "photo:mwd_sunrise12"),
    ],
)
def test_scene_groups_frames_of_one_video(name: str, source: str, scene: str) -> None:
    assert scene_of(name, source) == scene


def test_default_dir_is_beside_the_repository() -> None:
    assert DEFAULT_DATASET_DIR.resolve() == DATASET.resolve()


def test_missing_dataset_is_an_error_naming_the_dir(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=str(tmp_path)):
        load_dataset(tmp_path)


@needs_fire_smoke_dataset
def test_split_never_shares_a_scene_and_holds_out_every_label() -> None:
    images = load_dataset(DATASET)
    assert len(images) == 736  # README: 111 fire, 84 smoke, 10 fire_smoke, 531 normal
    assert Counter(i.label for i in images) == {"fire": 111, "smoke": 84, "fire_smoke": 10, "normal": 531}
    training, held_out = split_held_out(images)
    assert len(training) + len(held_out) == len(images)
    assert not {(i.source, i.scene) for i in training} & {(i.source, i.scene) for i in held_out}
    assert {i.label for i in held_out} == {"fire", "smoke", "fire_smoke", "normal"}
    assert {i.source for i in held_out} == {i.source for i in images}
    assert 0.25 <= len(held_out) / len(images) <= 0.40
    # The split depends on scene names only, not on the order images come in.
    assert {i.path for i in split_held_out(list(reversed(images)))[1]} == {i.path for i in held_out}
