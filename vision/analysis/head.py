"""The patch network's head: a linear classifier per grid cell, fitted with numpy only.

Labels are per image (fire? smoke?), not per cell, so the head is fitted as multiple-instance
learning: the image's logit is the log-mean-exp pool of its cells' logits (a smooth maximum,
:func:`vision.analysis.network.pool_logits`), and the loss is the class-balanced logistic loss of
that pooled logit. The backbone's 1280 channels are first reduced by PCA (fitted on the training
images only) and standardised; the projection folds back into one (2, 1280) weight matrix, which
is the ONNX head's 1 x 1 convolution. Plain full-batch Adam, a fixed number of steps: the same
inputs give the same head. ``amur vision evaluate`` refits it leave-one-source-out with this code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


PCA_DIMS = 96
L2 = 3e-3
STEPS = 300
LEARNING_RATE = 0.03
POOL_SHARPNESS = 4.0


@dataclass(frozen=True)
class Head:
    """Cell logits = weights @ features + bias, for fire (row 0) and smoke (row 1)."""

    weights: np.ndarray
    """(2, C) float32."""
    bias: np.ndarray
    """(2,) float32."""

    def cell_logits(self, features: np.ndarray) -> np.ndarray:
        """(N, 2, K) logits from (N, K, C) cell features."""
        return np.einsum("nkc,jc->njk", features.astype(np.float32), self.weights) + self.bias[None, :, None]


def _projection(features: np.ndarray, dims: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean (C,), components (C, d), scale (d,)) of PCA on a sample of the cells, standardised."""
    cells = features.reshape(-1, features.shape[-1])
    sample = cells[rng.choice(len(cells), size=min(len(cells), 20_000), replace=False)].astype(np.float64)
    mean = sample.mean(axis=0)
    _, _, vt = np.linalg.svd(sample - mean, full_matrices=False)
    components = vt[:dims].T
    scale = ((sample - mean) @ components).std(axis=0) + 1e-6
    return mean, components, scale


def _fit(x: np.ndarray, y: np.ndarray, sharpness: float, l2: float, steps: int, lr: float) -> tuple[np.ndarray, np.ndarray]:
    """Weights (d, J) and biases (J,) of J findings' cell classifiers from (N, K, d) features and (N, J) labels.

    The findings are fitted side by side (independent losses; one pass over the features per step).
    """
    n, k, d = x.shape
    flat = x.reshape(n * k, d)
    positives = np.maximum(1, y.sum(axis=0))
    negatives = np.maximum(1, n - y.sum(axis=0))
    sample_weight = np.where(y > 0, 0.5 / positives, 0.5 / negatives)  # (N, J): classes weigh the same
    w, b = np.zeros((d, y.shape[1]), x.dtype), np.zeros(y.shape[1])
    m, v = np.zeros((d + 1, y.shape[1])), np.zeros((d + 1, y.shape[1]))
    for step in range(1, steps + 1):
        z = (flat @ w).reshape(n, k, -1) + b  # (N, K, J)
        top = z.max(axis=1, keepdims=True)
        attention = np.exp(sharpness * (z - top))
        total = attention.sum(axis=1, keepdims=True)
        pooled = top[:, 0] + np.log(total[:, 0] / k) / sharpness  # log-mean-exp, as pool_logits
        attention /= total  # d pooled / d z
        residual = sample_weight * (1.0 / (1.0 + np.exp(-pooled)) - y)  # (N, J)
        grad_w = flat.T @ (residual[:, None, :] * attention).reshape(n * k, -1).astype(x.dtype) + 2 * l2 * w
        grad = np.vstack([grad_w, residual.sum(axis=0)])
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad**2
        update = lr * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
        w = w - update[:-1].astype(x.dtype)
        b = b - update[-1]
    return w, b


def fit_head(features: np.ndarray, fire: np.ndarray, smoke: np.ndarray, *, seed: int = 7,
             sharpness: float = POOL_SHARPNESS, dims: int = PCA_DIMS, l2: float = L2,
             steps: int = STEPS, lr: float = LEARNING_RATE) -> Head:
    """A fire/smoke head from (N, K, C) cell features and per-image labels."""
    mean, components, scale = _projection(features, dims, np.random.default_rng(seed))
    project = (components / scale).astype(np.float32)  # float32: the projection is most of a fit's cost
    offset = (mean @ components / scale).astype(np.float32)
    reduced = np.concatenate([chunk.astype(np.float32) @ project - offset
                              for chunk in np.array_split(features, max(1, len(features) // 100))])
    w, b = _fit(reduced, np.stack([fire, smoke], axis=1).astype(np.float64), sharpness, l2, steps, lr)
    folded = components @ (w.astype(np.float64) / scale[:, None])  # (C, 2): w . ((f - mean) P / s) = (P w/s) . f - ...
    weights, biases = folded.T, b - mean @ folded
    return Head(np.asarray(weights, np.float32), np.asarray(biases, np.float32))
