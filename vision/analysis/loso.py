"""Leave one source out: fit the patch head on every source but one, judge the one left out.

A source is one public repository of the labelled sets, so the frames of one video (or one
camera) never sit on both sides. Figures per source and overall: recall, precision and the
false-alarm rate on *normal* images (no fire, no smoke: the look-alikes), for fire and smoke.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vision.analysis.head import fit_head
from vision.analysis.network import pool_logits, sigmoid


@dataclass(frozen=True)
class Rates:
    """One detector's figures for one finding on a set of images."""

    positives: int
    detected: int
    """True positives."""
    flagged: int
    """Images flagged (true and false positives)."""
    normals: int
    false_alarms: int
    """Normal images (no fire and no smoke) flagged."""

    @property
    def recall(self) -> float | None:
        return self.detected / self.positives if self.positives else None

    @property
    def precision(self) -> float | None:
        return self.detected / self.flagged if self.flagged else None

    @property
    def false_alarm_rate(self) -> float | None:
        return self.false_alarms / self.normals if self.normals else None


def rates(flagged: np.ndarray, truth: np.ndarray, normal: np.ndarray) -> Rates:
    flagged, truth, normal = (np.asarray(a, dtype=bool) for a in (flagged, truth, normal))
    return Rates(int(truth.sum()), int((flagged & truth).sum()), int(flagged.sum()), int(normal.sum()),
                 int((flagged & normal).sum()))


@dataclass(frozen=True)
class Extra:
    """Training images that are no source of the table (the simulated fleet's frames): always trained on."""

    features: np.ndarray
    fire: np.ndarray
    smoke: np.ndarray


def training_set(features: np.ndarray, fire: np.ndarray, smoke: np.ndarray, keep: np.ndarray,
                 mirrored: np.ndarray | None, extra: Extra | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, fire, smoke) a head trains on: the kept images, their mirror images, the extra frames."""
    parts = [(features[keep], fire[keep], smoke[keep])]
    if mirrored is not None:
        parts.append((mirrored[keep], fire[keep], smoke[keep]))
    if extra is not None:
        parts.append((extra.features, extra.fire, extra.smoke))
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))  # type: ignore[return-value]


def leave_one_source_out(features: np.ndarray, fire: np.ndarray, smoke: np.ndarray, sources: Sequence[str],
                         sharpness: float, seed: int = 7, mirrored: np.ndarray | None = None,
                         extra: Extra | None = None) -> np.ndarray:
    """(N, 2) held-out P(fire), P(smoke): each image judged by a head fitted without its source
    (on the other sources, their ``mirrored`` images and the ``extra`` frames, as the shipped head is)."""
    names = np.asarray(sources)
    out = np.zeros((len(names), 2))
    for source in sorted(set(sources)):
        test = names == source
        head = fit_head(*training_set(features, fire, smoke, ~test, mirrored, extra), seed=seed, sharpness=sharpness)
        out[test] = sigmoid(pool_logits(head.cell_logits(features[test]), sharpness))
    return out


def threshold_for(scores: np.ndarray, normal: np.ndarray, max_false_alarm: float) -> float:
    """The lowest threshold that flags at most ``max_false_alarm`` of the normal images."""
    negatives = np.sort(np.asarray(scores)[np.asarray(normal, dtype=bool)])[::-1]
    allowed = int(np.floor(max_false_alarm * len(negatives)))
    if allowed >= len(negatives):
        return 0.5
    return float(np.nextafter(negatives[allowed], 1.0))


def per_source(flagged: np.ndarray, truth: np.ndarray, normal: np.ndarray, sources: Sequence[str]) -> dict[str, Rates]:
    """Figures for each source and ``overall``."""
    names = np.asarray(sources)
    table = {s: rates(flagged[names == s], truth[names == s], normal[names == s]) for s in sorted(set(sources))}
    table["overall"] = rates(flagged, truth, normal)
    return table
