"""The fire/smoke classifier, run inside OpenCV (``cv2.dnn`` over an ONNX file).

The network is a small multi-layer perceptron over :data:`FEATURE_NAMES` with
two sigmoid outputs, P(fire) and P(smoke). It is trained by ``amur vision train``
(``vision/train.py``); this module only loads and runs it, so the runtime needs
nothing beyond OpenCV. A JSON file beside the ONNX file carries the feature
order, the decision thresholds and the colour-rule baseline's thresholds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from vision.analysis.errors import ModelError
from vision.analysis.features import FEATURE_NAMES

DEFAULT_MODEL_PATH = Path(__file__).resolve().parents[1] / "models" / "fire_smoke.onnx"


@dataclass(frozen=True)
class ModelCard:
    """What the sidecar JSON says about a trained model."""

    fire_threshold: float
    smoke_threshold: float
    baseline_fire_frac: float
    """Colour-rule baseline: flame-coloured share of the frame above which it says fire."""
    baseline_smoke_frac: float
    work_width: int
    seed: int


def card_path(model_path: Path) -> Path:
    return model_path.with_suffix(".json")


class FireSmokeModel:
    """A loaded classifier; build once (e.g. in ``main()``) and pass it to the analysis."""

    def __init__(self, net: cv2.dnn.Net, card: ModelCard) -> None:
        self._net = net
        self.card = card

    @classmethod
    def load(cls, path: Path = DEFAULT_MODEL_PATH) -> "FireSmokeModel":
        sidecar = card_path(path)
        if not path.is_file() or not sidecar.is_file():
            raise ModelError(f"model file {str(path)!r} or its card {sidecar.name!r} is missing")
        raw = json.loads(sidecar.read_text())
        if tuple(raw.get("features", ())) != FEATURE_NAMES:
            raise ModelError(f"model {str(path)!r} was trained on other features ({len(raw.get('features', ()))} names)")
        try:
            net = cv2.dnn.readNetFromONNX(str(path))
        except cv2.error as exc:
            raise ModelError(f"OpenCV cannot read model {str(path)!r}: {exc}") from exc
        fields = ModelCard.__dataclass_fields__
        return cls(net, ModelCard(**{name: raw[name] for name in fields}))

    def predict(self, features: np.ndarray) -> np.ndarray:
        """(N, 2) probabilities [P(fire), P(smoke)] for (N, F) or (F,) features."""
        batch = np.atleast_2d(np.asarray(features, dtype=np.float32))
        if batch.shape[1] != len(FEATURE_NAMES):
            raise ModelError(f"features has {batch.shape[1]} columns, the model expects {len(FEATURE_NAMES)}")
        self._net.setInput(batch)
        return np.clip(self._net.forward().reshape(batch.shape[0], 2), 0.0, 1.0)
