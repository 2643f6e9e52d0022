"""Training (vision/train.py): reproducible from a seed, writes an ONNX file cv2.dnn runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="training extra (scikit-learn) not installed")
pytest.importorskip("onnx", reason="training extra (onnx) not installed")

from vision.analysis.model import FireSmokeModel  # noqa: E402
from vision.train import Network, best_threshold, export_onnx, fit_network  # noqa: E402


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
