"""Training (vision/train.py): reproducible from a seed, writes an ONNX file cv2.dnn runs."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="training extra (scikit-learn) not installed")
pytest.importorskip("onnx", reason="training extra (onnx) not installed")

from stream.cli.main import main as amur  # noqa: E402
from vision import train as training  # noqa: E402
from vision.analysis.dataset import DEFAULT_DATASET_DIR  # noqa: E402
from vision.analysis.model import FireSmokeModel  # noqa: E402
from vision.train import Network, best_threshold, export_onnx, fit_network  # noqa: E402

needs_dataset = pytest.mark.skipif(not DEFAULT_DATASET_DIR.is_dir(), reason="labelled set not in ../shared/datasets")


def _toy(seed: int) -> tuple[np.ndarray, np.ndarray]:
    from vision.analysis.features import FEATURE_NAMES

    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (60, len(FEATURE_NAMES))).astype(np.float32)
    y = np.stack([x[:, 0] > 0.3, x[:, 1] > 0.5], axis=1).astype(int)
    return x, y


def test_same_seed_same_weights_other_seed_other_weights() -> None:
    x, y = _toy(0)
    a, b, c = (fit_network(x, y, hidden=8, alpha=0.1, seed=s) for s in (7, 7, 8))
    assert np.array_equal(a.w1, b.w1) and np.array_equal(a.w2, b.w2)
    assert not np.array_equal(a.w1, c.w1)


def test_exported_onnx_computes_what_the_network_computes(tmp_path: Path) -> None:
    import json

    x, y = _toy(1)
    network: Network = fit_network(x, y, hidden=8, alpha=0.1, seed=7)
    path = tmp_path / "m.onnx"
    export_onnx(network, path)
    from vision.analysis.features import FEATURE_NAMES

    card = {"features": list(FEATURE_NAMES), "fire_threshold": 0.5, "smoke_threshold": 0.5, "baseline_fire_frac": 0.1,
            "baseline_smoke_frac": 0.1, "work_width": 160, "seed": 7}
    path.with_suffix(".json").write_text(json.dumps(card))
    loaded = FireSmokeModel.load(path)
    assert np.allclose(loaded.predict(x), network.predict(x), atol=1e-5)
    # It learnt the toy rule (labels are thresholds on two features).
    assert ((loaded.predict(x) >= 0.5) == (y > 0)).mean() > 0.9


def test_best_threshold_maximises_f1() -> None:
    scores = np.array([0.1, 0.2, 0.35, 0.4, 0.8, 0.9])
    truth = np.array([False, False, True, False, True, True])
    # Cut between 0.4 and 0.8 -> P = 1, R = 2/3, F1 = 0.8; cut at 0.275 -> P = 3/4, R = 1, F1 = 0.857.
    assert best_threshold(scores, truth) == pytest.approx(0.275)


def _quick_network(x: np.ndarray, y: np.ndarray, hidden: int, alpha: float, seed: int) -> Network:
    """A random network of the right shape: the command's plumbing without minutes of fitting."""
    rng = np.random.default_rng(seed)
    features = x.shape[1]
    return Network(mean=x.mean(axis=0), scale=np.ones(features), w1=rng.normal(size=(features, hidden)),
                   b1=np.zeros(hidden), w2=rng.normal(size=(hidden, 2)), b2=np.zeros(2))


@needs_dataset
def test_train_tells_as_many_steps_as_it_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(training, "fit_network", _quick_network)
    steps: list[str] = []
    training.train(DEFAULT_DATASET_DIR, tmp_path / "m.onnx", seed=7, limit=30, step=steps.append)
    assert len(steps) == training.training_steps(30)
    assert steps[0] == "features of 30 training images" and steps[-1].startswith("final fit")


@needs_dataset
def test_command_writes_the_model_and_its_card(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(training, "fit_network", _quick_network)
    out = tmp_path / "models" / "m.onnx"
    assert amur(["vision", "train", "--limit", "30", "--seed", "3", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == "trained on 30 images (limit); held-out not evaluated"
    assert FireSmokeModel.load(out).card.seed == 3


def test_without_the_training_extra_it_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)
    assert amur(["vision", "train", "--limit", "30", "--dataset", str(tmp_path)]) == 2
    assert "needs the training extra (onnx missing)" in capsys.readouterr().err


def test_help_lists_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert amur(["vision", "train", "--help"]) == 0
    out = capsys.readouterr().out
    assert all(option in out for option in ("--seed", "--dataset", "--out", "--limit"))


@pytest.mark.parametrize("argv, option", [
    (["--limit", "0"], "'--limit'"),
    (["--dataset", "/nonexistent/fire-smoke"], "'--dataset'"),
    (["--seed", "seven"], "'--seed'"),
])
def test_bad_values_are_one_line_usage_errors(argv: list[str], option: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert amur(["vision", "train", *argv]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("amur vision train: error:") and option in lines[0]
