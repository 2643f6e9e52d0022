"""The patch network: a pretrained EfficientNet-Lite0 backbone and a linear head per grid cell,
run inside OpenCV (``cv2.dnn`` over an ONNX file; no torch at run time).

The frame is resized to the network's input (320 x 192) and the backbone's last feature map
(1280 channels at stride 32, a 10 x 6 grid of cells) is classified cell by cell by a 1 x 1
convolution: a fire logit and a smoke logit per cell. A frame's score pools the cells with a
smooth maximum (log-mean-exp with sharpness ``pool_sharpness``), so a plume covering one or two
cells is not averaged away by the rest of the frame, and the cells that reach the threshold give
the evidence box (where, not only whether).

The ONNX file has two outputs: ``cells`` (1, 2, rows, cols logits) used at run time, and
``features`` (1, 1280, rows, cols) used by ``amur vision evaluate`` to refit heads leave-one-
source-out. A JSON card beside it holds the thresholds, the input size, the sources the shipped
head was trained on and its documented held-out figures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from vision.analysis.errors import ModelError

DEFAULT_NETWORK_PATH = Path(__file__).resolve().parents[1] / "models" / "fire_smoke_net.onnx"
INPUT_SIZE = (320, 192)
"""(width, height) the backbone sees; both multiples of 32, so the cells are 32 x 32 input pixels."""
MEAN, SCALE = 127.0, 1.0 / 128.0
"""EfficientNet-Lite's input normalisation: (RGB - 127) / 128."""

PEAK_MARGIN = 1.0
"""A region's cells are those within this many logits of the best cell (odds within e ~ 2.7x):
the receptive field spreads a plume's evidence to its neighbours, more weakly."""

BOX_PAD = 0.5
"""Cells are widened by half a cell on every side: a cell's evidence comes from a receptive field
wider than the cell, and the fleet's flames sit up to half a cell off their strongest cell."""

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class NetworkCard:
    """What the sidecar JSON says about a trained patch network."""

    fire_threshold: float
    smoke_threshold: float
    pool_sharpness: float
    """r of the log-mean-exp pooling of cell logits (large r -> max, small r -> mean)."""
    input_width: int
    input_height: int
    sources: tuple[str, ...]
    """The data sources the shipped head was trained on."""
    held_out_fire_threshold: float
    held_out_smoke_threshold: float
    """The thresholds chosen on the leave-one-source-out heads' scores; the shipped head's biases are
    shifted so that they become its 0.5 (``fire_threshold``, ``smoke_threshold``)."""
    held_out: dict[str, dict[str, float]]
    """Documented leave-one-source-out figures ("overall" and per source): fire/smoke recall and false alarms."""


@dataclass(frozen=True)
class NetworkVerdict:
    """P(fire), P(smoke) of a frame and where: the cells that reach the threshold, in original pixels."""

    fire_probability: float
    smoke_probability: float
    fire_region: Box | None
    smoke_region: Box | None
    fire_cells: np.ndarray
    """(rows, cols) per-cell fire probabilities."""
    smoke_cells: np.ndarray


def sigmoid(x: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def pool_logits(cells: np.ndarray, sharpness: float) -> np.ndarray:
    """Frame logits from (..., K) cell logits: log-mean-exp, a smooth maximum over the cells."""
    scaled = sharpness * np.asarray(cells, dtype=np.float64)
    top = scaled.max(axis=-1, keepdims=True)
    return (top[..., 0] + np.log(np.exp(scaled - top).mean(axis=-1))) / sharpness


def input_blob(pixels: np.ndarray, size: tuple[int, int] = INPUT_SIZE) -> np.ndarray:
    """(1, 3, H, W) float32 network input from a BGR frame (any size)."""
    return cv2.dnn.blobFromImage(pixels, SCALE, size, (MEAN, MEAN, MEAN), swapRB=True, crop=False)


def cells_box(mask: np.ndarray, frame_size: tuple[int, int], pad: float = 0.0) -> Box | None:
    """Bounding box, in original pixels of a (width, height) frame, of the True cells of a (rows, cols) mask,
    widened by ``pad`` cells on every side (clipped to the frame)."""
    rows, cols = np.nonzero(mask)
    if not len(rows):
        return None
    width, height = frame_size
    cell_w, cell_h = width / mask.shape[1], height / mask.shape[0]
    x0, y0 = max(0, round((cols.min() - pad) * cell_w)), max(0, round((rows.min() - pad) * cell_h))
    x1 = min(width, round((cols.max() + 1 + pad) * cell_w))
    y1 = min(height, round((rows.max() + 1 + pad) * cell_h))
    return (x0, y0, x1 - x0, y1 - y0)


def card_path(model_path: Path) -> Path:
    return model_path.with_suffix(".json")


class PatchNetwork:
    """A loaded patch network; build once per worker and pass it to the analysis."""

    def __init__(self, net: cv2.dnn.Net, card: NetworkCard) -> None:
        self._net = net
        self.card = card

    @classmethod
    def load(cls, path: Path = DEFAULT_NETWORK_PATH) -> "PatchNetwork":
        sidecar = card_path(path)
        if not path.is_file() or not sidecar.is_file():
            raise ModelError(f"network file {str(path)!r} or its card {sidecar.name!r} is missing")
        raw = json.loads(sidecar.read_text())
        try:
            net = cv2.dnn.readNetFromONNX(str(path))
            card = NetworkCard(
                fire_threshold=float(raw["fire_threshold"]),
                smoke_threshold=float(raw["smoke_threshold"]),
                pool_sharpness=float(raw["pool_sharpness"]),
                input_width=int(raw["input_width"]),
                input_height=int(raw["input_height"]),
                sources=tuple(raw["sources"]),
                held_out_fire_threshold=float(raw["held_out_fire_threshold"]),
                held_out_smoke_threshold=float(raw["held_out_smoke_threshold"]),
                held_out={k: {m: float(v) for m, v in row.items()} for k, row in raw.get("held_out", {}).items()},
            )
        except cv2.error as exc:
            raise ModelError(f"OpenCV cannot read network {str(path)!r}: {exc}") from exc
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"network card {str(sidecar)!r} is malformed: {exc!r}") from exc
        return cls(net, card)

    @property
    def input_size(self) -> tuple[int, int]:
        return self.card.input_width, self.card.input_height

    def cell_logits(self, pixels: np.ndarray) -> np.ndarray:
        """(2, rows, cols) fire and smoke logits per cell of a BGR frame."""
        self._net.setInput(input_blob(pixels, self.input_size))
        return self._net.forward("cells")[0]

    def features(self, pixels: np.ndarray) -> np.ndarray:
        """(C, rows, cols) backbone features of a BGR frame (what the head reads)."""
        self._net.setInput(input_blob(pixels, self.input_size))
        return self._net.forward("features")[0]

    def judge(self, pixels: np.ndarray, frame_size: tuple[int, int], reach: tuple[float, float] = (1.0, 1.0)) -> NetworkVerdict:
        """The network's verdict on a frame of original ``frame_size`` (width, height).

        A region is given for a finding whose frame probability x ``reach`` (the camera's change
        weight, 1 for a single image) reaches its threshold: the cells whose logit is within
        :data:`PEAK_MARGIN` of the best cell's.
        """
        return verdict_of(self.cell_logits(pixels), self.card, frame_size, reach)


def verdict_of(cells: np.ndarray, card: NetworkCard, frame_size: tuple[int, int],
               reach: tuple[float, float] = (1.0, 1.0)) -> NetworkVerdict:
    """:meth:`PatchNetwork.judge` from (2, rows, cols) cell logits."""
    flat = cells.reshape(2, -1)
    frame_p = sigmoid(pool_logits(flat, card.pool_sharpness))
    cell_p = sigmoid(cells)
    regions: list[Box | None] = []
    for k, threshold in enumerate((card.fire_threshold, card.smoke_threshold)):
        if frame_p[k] * reach[k] < threshold:
            regions.append(None)
            continue
        regions.append(cells_box(cells[k] >= cells[k].max() - PEAK_MARGIN, frame_size, BOX_PAD))
    return NetworkVerdict(float(frame_p[0]), float(frame_p[1]), regions[0], regions[1], cell_p[0], cell_p[1])
