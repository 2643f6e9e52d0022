"""The shipped classifier (vision/models/fire_smoke.onnx) against the colour-rule baseline.

Evaluated on the held-out scenes of the real labelled set (never used in training:
vision/analysis/dataset.py splits by source and scene). Fails if the shipped model
is not better than the plain colour rule, finding by finding.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import FIRE_SMOKE, needs_fire_smoke_dataset
from vision.analysis.config import AnalysisConfig
from vision.analysis.dataset import load_dataset, split_held_out
from vision.analysis.errors import ModelError
from vision.analysis.evaluation import evaluate, features_of, replay
from vision.analysis.features import FEATURE_NAMES
from vision.analysis.model import DEFAULT_MODEL_PATH, FireSmokeModel, card_path

DATASET = FIRE_SMOKE


@pytest.fixture(scope="module")
def model() -> FireSmokeModel:
    return FireSmokeModel.load()


def test_model_file_is_small_and_beside_its_card() -> None:
    assert DEFAULT_MODEL_PATH.stat().st_size < 5 * 2**20
    assert card_path(DEFAULT_MODEL_PATH).is_file()


def test_predictions_are_probabilities_for_a_batch(model: FireSmokeModel) -> None:
    rng = np.random.default_rng(0)
    batch = rng.uniform(0, 1, (7, len(FEATURE_NAMES))).astype(np.float32)
    out = model.predict(batch)
    assert out.shape == (7, 2) and ((out >= 0) & (out <= 1)).all()
    assert np.allclose(model.predict(batch[3]), out[3:4], atol=1e-6)  # batch rows are independent


def test_wrong_feature_count_is_refused(model: FireSmokeModel) -> None:
    with pytest.raises(ModelError, match="columns"):
        model.predict(np.zeros((1, 5), np.float32))


def test_missing_model_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="nope.onnx"):
        FireSmokeModel.load(tmp_path / "nope.onnx")


@needs_fire_smoke_dataset
def test_shipped_model_beats_the_colour_rule_on_held_out_scenes(model: FireSmokeModel) -> None:
    _, held_out = split_held_out(load_dataset(DATASET))
    result = evaluate(model, [(i.fire, i.smoke) for i in held_out], features_of(held_out, AnalysisConfig()))
    for finding, ours, rule in (("fire", result.model_fire, result.baseline_fire), ("smoke", result.model_smoke, result.baseline_smoke)):
        assert ours.f1 > rule.f1 + 0.05, f"{finding}: classifier F1 {ours.f1:.2f} vs colour rule {rule.f1:.2f}\n{result.table()}"
        assert ours.precision > rule.precision, f"{finding}: precision\n{result.table()}"


@needs_fire_smoke_dataset
def test_classifier_cascade_changes_no_finding_on_held_out_photos(model: FireSmokeModel) -> None:
    """Held-out photos as running cameras (shake, noise): skipping the classifier when no weight can reach
    its threshold gives exactly the findings of running it on every frame."""
    _, held_out = split_held_out(load_dataset(DATASET))
    subset = held_out[::5]
    cascade = replay(subset, model, AnalysisConfig(), samples=5)
    always = replay(subset, model, AnalysisConfig(classifier_cascade=False), samples=5)
    assert cascade.findings == always.findings
    assert cascade.fire.true_pos + cascade.smoke.true_pos > 0  # the runs compared do contain detections
