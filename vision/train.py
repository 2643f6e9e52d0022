"""``amur vision train``: fit the fire/smoke classifier and write it as ONNX for ``cv2.dnn``.

Needs the training extra (``pip install -e '.[train]'``: scikit-learn and onnx);
the runtime only needs OpenCV. Reproducible from ``--seed``: the same seed and
images give the same weights. Hyper-parameters are chosen by cross-validation
grouped by scene on the training side only; the held-out scenes are touched once,
at the end, to print the precision/recall table. On a terminal the command shows
each step (features, every cross-validation fold, the final fit, the evaluation) as
progress on stderr; the table goes to stdout.
"""

from __future__ import annotations

import itertools
import json
import logging
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import click
import numpy as np
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from vision.analysis.config import AnalysisConfig
from vision.analysis.dataset import (
    DEFAULT_DATASET_DIR,
    LabelledImage,
    load_dataset,
    split_held_out,
)
from vision.analysis.errors import AnalysisError
from vision.analysis.evaluation import evaluate, features_of, frame_features
from vision.analysis.features import FEATURE_NAMES, FIRE_SHARE, SMOKE_SHARE
from vision.analysis.metrics import score_detections
from vision.analysis.model import DEFAULT_MODEL_PATH, FireSmokeModel, card_path
from vision.analysis.synthetic import (
    EVAL_VARIANTS,
    TRAIN_VARIANTS,
    SyntheticFrame,
    synthetic_frames,
)

log = logging.getLogger(__name__)

_HIDDEN_SIZES = (16, 32)
_ALPHAS = (1e-2, 1e-1, 1.0)
_FOLDS = 5
_SYNTHETIC_PER_CASE = 6
"""Rendered frames per scene x panorama variant x (nothing, flame, smoke)."""

Step = Callable[[str], None]
"""Told what training starts next, once per step (:func:`training_steps` counts them)."""


def _quiet(_: str) -> None:
    pass


def training_steps(limit: int | None) -> int:
    """How many times :func:`train` calls its ``step``: features, each CV fold, the final fit, the evaluation."""
    folds = len(_HIDDEN_SIZES) * len(_ALPHAS) * _FOLDS
    if limit is not None:  # photos only, no evaluation
        return 1 + folds + 1
    return 2 + folds + 1 + 2


def best_threshold(scores: np.ndarray, truth: np.ndarray) -> float:
    """The cut on ``scores`` with the highest F1 against ``truth`` (midpoint between neighbours)."""
    order = np.unique(scores)
    cuts = np.concatenate([[order[0]], (order[1:] + order[:-1]) / 2]) if len(order) > 1 else order
    best, best_f1 = float(cuts[0]), -1.0
    for cut in cuts:
        flagged = scores >= cut
        tp = float(np.sum(flagged & truth))
        f1 = 2 * tp / (flagged.sum() + truth.sum()) if flagged.sum() + truth.sum() else 0.0
        if f1 > best_f1:
            best, best_f1 = float(cut), f1
    return best


def _weights(y: np.ndarray) -> np.ndarray:
    """Per-sample weights that balance positives and negatives of each output."""
    weights = np.ones(len(y))
    for column in range(y.shape[1]):
        positives = y[:, column].sum()
        if 0 < positives < len(y):
            weights += y[:, column] * (len(y) - positives) / positives - y[:, column]
    return weights


_ENSEMBLE = 5
"""Networks per model, from seeds seed..seed+4; their logits are averaged (one wider net in ONNX)."""


@dataclass(frozen=True, eq=False)
class Network:
    """Standardisation plus one hidden ReLU layer; the ensemble is folded into its weights."""

    mean: np.ndarray
    scale: np.ndarray
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The same arithmetic as the exported ONNX graph, in numpy."""
        hidden = np.maximum(((x - self.mean) / self.scale) @ self.w1 + self.b1, 0.0)
        return 1.0 / (1.0 + np.exp(-(hidden @ self.w2 + self.b2)))


def fit_network(x: np.ndarray, y: np.ndarray, hidden: int, alpha: float, seed: int) -> Network:
    """Fit ``_ENSEMBLE`` MLPs on standardised features and fold them into one network."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from threadpoolctl import threadpool_limits

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    xs = (x - mean) / scale
    # One BLAS thread: multi-threaded sums round differently run to run, and thousands of
    # optimiser steps turn that into different weights; one thread makes a seed reproducible.
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter is the training budget
        members = [
            MLPClassifier(hidden_layer_sizes=(hidden,), alpha=alpha, max_iter=3000, random_state=seed + i,
                          tol=1e-5).fit(xs, y, sample_weight=_weights(y))
            for i in range(_ENSEMBLE)
        ]
    return Network(
        mean=mean,
        scale=scale,
        w1=np.hstack([m.coefs_[0] for m in members]),
        b1=np.concatenate([m.intercepts_[0] for m in members]),
        w2=np.vstack([m.coefs_[1] for m in members]) / _ENSEMBLE,
        b2=np.mean([m.intercepts_[1] for m in members], axis=0),
    )


def _out_of_fold(x: np.ndarray, y: np.ndarray, groups: list[str], hidden: int, alpha: float, seed: int,
                 step: Step = _quiet) -> np.ndarray:
    from sklearn.model_selection import GroupKFold

    predictions = np.zeros(y.shape, dtype=float)
    for fold, (train_idx, test_idx) in enumerate(GroupKFold(n_splits=_FOLDS).split(x, y, groups), 1):
        step(f"cross-validation hidden={hidden} alpha={alpha:g} fold {fold}/{_FOLDS}")
        predictions[test_idx] = fit_network(x[train_idx], y[train_idx], hidden, alpha, seed).predict(x[test_idx])
    return predictions


def fit(x: np.ndarray, y: np.ndarray, groups: list[str], seed: int,
        step: Step = _quiet) -> tuple[Network, tuple[float, float], dict[str, float]]:
    """Pick size and regularisation by grouped CV, fit on all training rows, pick thresholds out of fold."""
    best: tuple[float, int, float, np.ndarray] | None = None
    for hidden in _HIDDEN_SIZES:
        for alpha in _ALPHAS:
            oof = _out_of_fold(x, y, groups, hidden, alpha, seed, step)
            cut_f, cut_s = best_threshold(oof[:, 0], y[:, 0] > 0), best_threshold(oof[:, 1], y[:, 1] > 0)
            f1 = sum(_f1(oof[:, c] >= cut, y[:, c] > 0) for c, cut in ((0, cut_f), (1, cut_s)))
            log.info("cv hidden=%s alpha=%s f1_sum=%.3f", hidden, alpha, f1)
            if best is None or f1 > best[0]:
                best = (f1, hidden, alpha, oof)
    assert best is not None
    _, hidden, alpha, oof = best
    step(f"final fit hidden={hidden} alpha={alpha:g}")
    network = fit_network(x, y, hidden, alpha, seed)
    thresholds = (best_threshold(oof[:, 0], y[:, 0] > 0), best_threshold(oof[:, 1], y[:, 1] > 0))
    return network, thresholds, {"hidden": hidden, "alpha": alpha, "cv_f1_sum": best[0]}


def _f1(flagged: np.ndarray, truth: np.ndarray) -> float:
    return score_detections(flagged.tolist(), truth.tolist()).f1


def export_onnx(network: Network, path: Path) -> None:
    """Write the network as an ONNX graph of Sub, Div, Gemm, Relu, Sigmoid (all run by cv2.dnn)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    arrays = {name: getattr(network, name).astype(np.float32) for name in ("mean", "scale", "w1", "b1", "w2", "b2")}
    nodes = [
        helper.make_node("Sub", ["features", "mean"], ["centred"]),
        helper.make_node("Div", ["centred", "scale"], ["scaled"]),
        helper.make_node("Gemm", ["scaled", "w1", "b1"], ["hidden_in"]),
        helper.make_node("Relu", ["hidden_in"], ["hidden"]),
        helper.make_node("Gemm", ["hidden", "w2", "b2"], ["logits"]),
        helper.make_node("Sigmoid", ["logits"], ["probabilities"]),
    ]
    graph = helper.make_graph(
        nodes,
        "amur_fire_smoke",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", len(FEATURE_NAMES)])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 2])],
        [numpy_helper.from_array(a, name) for name, a in arrays.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="amur-vision-train")
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))


def _labels(images: list[LabelledImage]) -> np.ndarray:
    return np.array([[i.fire, i.smoke] for i in images], dtype=int)


def train(dataset: Path, out: Path, seed: int, limit: int | None = None, step: Step = _quiet) -> str:
    """Train, write ``out`` and its card, and return the held-out precision/recall table.

    ``step`` is told each step as it starts (:func:`training_steps` of them).
    """
    config = AnalysisConfig()
    training, held_out = split_held_out(load_dataset(dataset))
    if limit is not None:
        rng = np.random.default_rng(seed)
        picked = rng.choice(len(training), size=min(limit, len(training)), replace=False)
        training = [training[i] for i in sorted(picked)]
    step(f"features of {len(training)} training images")
    x = features_of(training, config)
    synthetic: list[SyntheticFrame] = []
    if limit is None:  # the smoke test trains on the photos alone
        step("rendering and measuring synthetic fleet frames")
        synthetic = synthetic_frames(TRAIN_VARIANTS, _SYNTHETIC_PER_CASE, seed)
        x = np.vstack([x, frame_features([f.jpeg for f in synthetic], config)])
    log.info("training images=%d synthetic=%d held_out=%d", len(training), len(synthetic), len(held_out))
    y = np.vstack([_labels(training), np.array([[f.fire, f.smoke] for f in synthetic], dtype=int).reshape(-1, 2)])
    groups = [f"{i.source}/{i.scene}" for i in training] + [f"fleet/{f.group}" for f in synthetic]
    real = len(training)
    net, (fire_cut, smoke_cut), chosen = fit(x, y, groups, seed, step)
    export_onnx(net, out)
    card = {
        "features": list(FEATURE_NAMES),
        "fire_threshold": fire_cut,
        "smoke_threshold": smoke_cut,
        # The colour rule's one parameter, tuned on the real training photos (its best case there).
        "baseline_fire_frac": best_threshold(x[:real, FIRE_SHARE], y[:real, 0] > 0),
        "baseline_smoke_frac": best_threshold(x[:real, SMOKE_SHARE], y[:real, 1] > 0),
        "work_width": config.work_width,
        "seed": seed,
        "training_images": len(training),
        "synthetic_training_frames": len(synthetic),
        "chosen": chosen,
    }
    card_path(out).write_text(json.dumps(card, indent=2) + "\n")
    model = FireSmokeModel.load(out)
    if limit is not None:
        return f"trained on {len(training)} images (limit); held-out not evaluated"
    step(f"evaluating on {len(held_out)} held-out photos")
    real = evaluate(model, [(i.fire, i.smoke) for i in held_out], features_of(held_out, config))
    step("evaluating on unseen fleet panorama variants")
    fleet = synthetic_frames(EVAL_VARIANTS, _SYNTHETIC_PER_CASE // 2, seed + 1)
    rendered = evaluate(model, [(f.fire, f.smoke) for f in fleet], frame_features([f.jpeg for f in fleet], config))
    return (
        f"held-out photos: {real.images} images (scenes never seen in training)\n{real.table()}\n\n"
        f"simulated fleet, unseen panorama variants: {rendered.images} frames\n{rendered.table()}"
    )


@click.command(name="train", help=(
    "Fit the fire/smoke classifier and write it as ONNX for cv2.dnn.\n\n"
    "Needs the training extra (pip install -e '.[train]': scikit-learn and onnx). The same seed and images "
    "give the same weights. Hyper-parameters are chosen by cross-validation grouped by scene on the training "
    "side only; the held-out scenes are touched once, at the end, to print the precision/recall table."))
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--dataset", type=click.Path(exists=True, file_okay=False, path_type=Path), default=DEFAULT_DATASET_DIR,
              show_default="../shared/datasets/fire-smoke", help="labelled image set (MANIFEST.csv and images)")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_MODEL_PATH,
              show_default="vision/models/fire_smoke.onnx", help="ONNX file to write (its card JSON beside it)")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="train on this many images only (smoke test)")
def command(seed: int, dataset: Path, out: Path, limit: int | None) -> int:
    try:
        import onnx  # noqa: F401
        import sklearn  # noqa: F401
    except ImportError as exc:
        click.echo(f"amur vision train: needs the training extra ({exc.name} missing): pip install -e '.[train]'",
                   err=True)
        return 2
    console = Console(stderr=True)
    if console.is_terminal:  # log lines print above the progress bar
        logging.basicConfig(level=logging.INFO, format="%(name)s %(message)s",
                            handlers=[RichHandler(console=console, show_path=False)])
    else:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True, disable=not console.is_terminal,
                  redirect_stdout=sys.stdout.isatty()) as progress:
        task = progress.add_task("training", total=training_steps(limit))
        done = itertools.count()

        def step(what: str) -> None:
            progress.update(task, description=what, completed=next(done))

        try:
            table = train(dataset, out, seed, limit, step)
        except AnalysisError as exc:
            click.echo(f"amur vision train: {exc}", err=True)
            return 2
    click.echo(table)
    return 0
