"""The patch head fitted by multiple-instance learning (vision/analysis/head.py)."""

from __future__ import annotations

import numpy as np

from vision.analysis.head import fit_head
from vision.analysis.network import pool_logits


def _bags(rng: np.random.Generator, n: int, k: int = 20, c: int = 48) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Images of k cells; a fire image has one cell whose channels 0-3 are lit, a smoke image channels 4-7."""
    features = rng.normal(0, 1, (n, k, c))
    fire, smoke = rng.random(n) < 0.4, rng.random(n) < 0.4
    for i in np.nonzero(fire)[0]:
        features[i, rng.integers(k), 0:4] += 3.0
    for i in np.nonzero(smoke)[0]:
        features[i, rng.integers(k), 4:8] += 3.0
    return features.astype(np.float16), fire, smoke


def test_one_small_cell_per_image_is_learnt_and_located() -> None:
    rng = np.random.default_rng(0)
    train, fire, smoke = _bags(rng, 300)
    head = fit_head(train, fire, smoke, dims=24, steps=300)
    test, fire_t, smoke_t = _bags(rng, 200)
    logits = head.cell_logits(test)
    pooled = pool_logits(logits, 4.0)
    for k, truth in ((0, fire_t), (1, smoke_t)):
        accuracy = ((pooled[:, k] > 0) == truth).mean()
        assert accuracy > 0.9, f"finding {k}: accuracy {accuracy:.2f}"
    lit = np.nonzero(fire_t)[0]
    strongest = logits[lit, 0].argmax(axis=1)
    assert all(test[i, strongest[j], 0:4].astype(float).mean() > 1.5 for j, i in enumerate(lit[:30]))


def test_the_same_inputs_give_the_same_head() -> None:
    train, fire, smoke = _bags(np.random.default_rng(1), 80)
    a = fit_head(train, fire, smoke, dims=8, steps=50)
    b = fit_head(train, fire, smoke, dims=8, steps=50)
    assert np.array_equal(a.weights, b.weights) and np.array_equal(a.bias, b.bias)


def test_centring_a_head_moves_each_threshold_to_one_half_and_flags_the_same_frames() -> None:
    from vision.analysis.network import pool_logits, sigmoid
    from vision.network_train import centred

    features, fire, smoke = _bags(np.random.default_rng(4), 120)
    head = fit_head(features, fire, smoke, dims=8, steps=60)
    thresholds = (0.83, 0.31)
    before = sigmoid(pool_logits(head.cell_logits(features), 4.0))
    after = sigmoid(pool_logits(centred(head, thresholds).cell_logits(features), 4.0))
    for k, t in enumerate(thresholds):
        assert np.array_equal(before[:, k] >= t, after[:, k] >= 0.5)
        assert np.allclose(after[:, k], sigmoid(np.log(before[:, k] / (1 - before[:, k])) - np.log(t / (1 - t))), atol=1e-4)
