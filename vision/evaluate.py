"""``amur vision evaluate``: leave-one-source-out figures of the patch network, beside today's
classifier and the colour rules, in one run on the same images.

- **network**: for each source, the head is refitted (numpy, :mod:`vision.analysis.head`) on the
  backbone features of every other source (with their mirror images and the fleet's training
  frames, as the shipped head was) and judges the one left out, at the shipped
  thresholds of ``fire_smoke_net.json``. The backbone is the shipped one (frozen ImageNet weights,
  never trained on these images).
- **classifier**: the 85-feature classifier (``fire_smoke.onnx``) as shipped. It was trained on the
  training side of ``fire-smoke`` (sources abonia, cair, mwd), so its figures on those three are
  partly in-sample; on the other sources they are held out.
- **colour rules**: Chen/Celik flame colours and Chen smoke colours, flagged above the share
  thresholds in ``fire_smoke.json``.

Per source and overall: recall, precision and false alarms on normal images (no fire, no smoke).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import click
import numpy as np

from stream.schemas import FindingKind
from vision.analysis.config import AnalysisConfig
from vision.analysis.decode import read_frame
from vision.analysis.dataset import DEFAULT_DATASET_DIR, DEFAULT_MORE_DIR, LabelledImage, load_all
from vision.analysis.errors import AnalysisError
from vision.analysis.evaluation import features_of, replay
from vision.analysis.features import FIRE_SHARE, SMOKE_SHARE
from vision.analysis.loso import Rates, leave_one_source_out, per_source
from vision.analysis.model import FireSmokeModel
from vision.analysis.netdata import cell_features, fleet_extra, labels, repeated
from vision.analysis.network import PatchNetwork

DETECTORS = ("network", "classifier", "colour rules")
TARGETS = {"fire_recall": 0.90, "smoke_recall": 0.80, "false_alarm": 0.05}


@dataclass(frozen=True)
class SourceFigures:
    """Per detector, per source (and ``overall``): (fire, smoke) figures."""

    table: dict[str, dict[str, tuple[Rates, Rates]]]
    images: int

    def markdown(self) -> str:
        def fmt(x: float | None) -> str:
            return "–" if x is None else f"{x:.2f}"

        rows = ["| source | detector | fire n | fire recall | fire precision | false fire on normal "
                "| smoke n | smoke recall | smoke precision | false smoke on normal | normal n |",
                "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        sources = list(self.table["network"])
        for source in sources:
            for detector in DETECTORS:
                fire, smoke = self.table[detector][source]
                name = f"**{source}**" if source == "overall" else source
                rows.append(f"| {name} | {detector} | {fire.positives} | {fmt(fire.recall)} | {fmt(fire.precision)} "
                            f"| {fmt(fire.false_alarm_rate)} | {smoke.positives} | {fmt(smoke.recall)} "
                            f"| {fmt(smoke.precision)} | {fmt(smoke.false_alarm_rate)} | {fire.normals} |")
        return "\n".join(rows)

    def verdict(self) -> str:
        fire, smoke = self.table["network"]["overall"]
        checks = [
            ("fire recall", fire.recall or 0.0, ">=", TARGETS["fire_recall"]),
            ("smoke recall", smoke.recall or 0.0, ">=", TARGETS["smoke_recall"]),
            ("false fire on normal", fire.false_alarm_rate or 0.0, "<=", TARGETS["false_alarm"]),
            ("false smoke on normal", smoke.false_alarm_rate or 0.0, "<=", TARGETS["false_alarm"]),
        ]
        lines = []
        for name, value, op, target in checks:
            ok = value >= target if op == ">=" else value <= target
            lines.append(f"network, held-out {name}: {value:.3f} (target {op} {target:.2f}) {'met' if ok else 'NOT met'}")
        return "\n".join(lines)


def network_scores(images: Sequence[LabelledImage], network: PatchNetwork, config: AnalysisConfig,
                   seed: int = 7) -> np.ndarray:
    """(N, 2) leave-one-source-out P(fire), P(smoke) of the patch network."""
    fire, smoke, _, sources = labels(images)
    features = cell_features(images, network.features, config)
    mirrored = cell_features(images, network.features, config, flip=True)
    return leave_one_source_out(features, fire, smoke, sources, network.card.pool_sharpness, seed, mirrored,
                                repeated(fleet_extra(network.features, seed, config)))


def evaluate_sources(images: Sequence[LabelledImage], network: PatchNetwork, classifier: FireSmokeModel,
                     config: AnalysisConfig = AnalysisConfig()) -> SourceFigures:
    """The three detectors' figures per source on ``images``."""
    fire, smoke, normal, sources = labels(images)
    held = network_scores(images, network, config)
    colour = features_of(images, config)
    today = classifier.predict(colour)
    card, net = classifier.card, network.card
    flags = {
        "network": (held[:, 0] >= net.held_out_fire_threshold, held[:, 1] >= net.held_out_smoke_threshold),
        "classifier": (today[:, 0] >= card.fire_threshold, today[:, 1] >= card.smoke_threshold),
        "colour rules": (colour[:, FIRE_SHARE] >= card.baseline_fire_frac, colour[:, SMOKE_SHARE] >= card.baseline_smoke_frac),
    }
    table = {}
    for detector, (fire_flag, smoke_flag) in flags.items():
        f, s = per_source(fire_flag, fire, normal, sources), per_source(smoke_flag, smoke, normal, sources)
        table[detector] = {source: (f[source], s[source]) for source in f}
    return SourceFigures(table, len(images))


def replay_table(images: Sequence[LabelledImage], network: PatchNetwork, config: AnalysisConfig = AnalysisConfig()) -> str:
    """What a running camera keeps of the shipped network's single-image verdicts on real photos.

    Each photo is sent as 6 samples 10 s apart (shaken by up to 2 px, sensor noise): how many of the
    photos the network flags on its own are reported in some sample, and confirmed (k of n), once the
    flicker / drift weights and confirmation apply; and the same for normal photos (false alarms).
    The shipped head has seen these photos, so this measures the cascade, not the network.
    """
    runs = replay(images, network, config)
    single = [network.judge(read_frame(i.path, target_width=config.decode_width).pixels, (1, 1)) for i in images]
    rows = ["| finding | photos | flagged by the network alone | of those, reported by a running camera "
            "| of those, confirmed | normal photos reported | normal photos confirmed |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    for kind, attr, threshold in ((FindingKind.FIRE, "fire", network.card.fire_threshold),
                                  (FindingKind.SMOKE, "smoke", network.card.smoke_threshold)):
        positives = [k for k, i in enumerate(images) if getattr(i, attr)]
        alone = [k for k in positives if getattr(single[k], f"{attr}_probability") >= threshold]
        seen = [k for k in alone if any(f.kind is kind for found in runs.findings[k] for f in found)]
        confirmed = [k for k in alone if any(f.kind is kind and f.confirmed for found in runs.findings[k] for f in found)]
        normals = [k for k, i in enumerate(images) if not (i.fire or i.smoke)]
        n_seen = sum(any(f.kind is kind for found in runs.findings[k] for f in found) for k in normals)
        n_conf = sum(any(f.kind is kind and f.confirmed for found in runs.findings[k] for f in found) for k in normals)
        rows.append(f"| {attr} | {len(positives)} | {len(alone)} | {len(seen)} | {len(confirmed)} "
                    f"| {n_seen} of {len(normals)} | {n_conf} of {len(normals)} |")
    return "\n".join(rows)


@click.command(name="evaluate", help=(
    "Leave-one-source-out precision, recall and false alarms per source and overall: the patch network "
    "(head refitted without each source, at the shipped thresholds) beside today's classifier and the "
    "colour rules, on the same images in one run."))
@click.option("--dataset", "datasets", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=(DEFAULT_DATASET_DIR, DEFAULT_MORE_DIR), show_default="fire-smoke and fire-smoke-more")
@click.option("--replay", "with_replay", is_flag=True,
              help="also replay every photo as a running camera (6 samples) with the shipped network: what the "
                   "flicker/drift weights and k-of-n confirmation keep of its verdicts (several minutes)")
def command(datasets: tuple[Path, ...], with_replay: bool) -> int:
    try:
        network, classifier = PatchNetwork.load(), FireSmokeModel.load()
        images = load_all(tuple(datasets))
        figures = evaluate_sources(images, network, classifier)
        click.echo(figures.markdown())
        click.echo("")
        click.echo(figures.verdict())
        if with_replay:
            click.echo("")
            click.echo(replay_table(images, network))
    except AnalysisError as exc:
        click.echo(f"amur vision evaluate: {exc}", err=True)
        return 2
    return 0
