"""Leave-one-source-out figures (vision/analysis/loso.py)."""

from __future__ import annotations

import numpy as np

from vision.analysis.loso import leave_one_source_out, per_source, rates, threshold_for


def test_rates_count_recall_precision_and_false_alarms_on_normal_images() -> None:
    flagged = np.array([1, 1, 0, 1, 0, 0], bool)
    truth = np.array([1, 1, 1, 0, 0, 0], bool)
    normal = np.array([0, 0, 0, 1, 1, 0], bool)  # the last image has the other finding: not normal
    r = rates(flagged, truth, normal)
    assert (r.recall, r.precision, r.false_alarm_rate) == (2 / 3, 2 / 3, 1 / 2)
    empty = rates(np.zeros(2, bool), np.zeros(2, bool), np.zeros(2, bool))
    assert empty.recall is None and empty.precision is None and empty.false_alarm_rate is None


def test_threshold_flags_at_most_the_allowed_share_of_normal_images() -> None:
    rng = np.random.default_rng(2)
    scores, normal = rng.random(500), rng.random(500) < 0.5
    for share in (0.0, 0.04, 0.2):
        t = threshold_for(scores, normal, share)
        assert (scores[normal] >= t).mean() <= share
        assert (scores[normal] >= np.nextafter(t, 0) - 1e-6).mean() > share or share == 0.0 or t <= scores.min()


def test_per_source_has_every_source_and_overall() -> None:
    table = per_source(np.array([1, 0, 1], bool), np.array([1, 1, 0], bool), np.array([0, 0, 1], bool), ["a", "b", "b"])
    assert set(table) == {"a", "b", "overall"} and table["overall"].positives == 2 and table["b"].false_alarms == 1


def test_a_source_is_judged_by_a_head_that_never_saw_it() -> None:
    """Source 'odd' carries its fire signal in other channels than the rest: held out, it is not learnt."""
    rng = np.random.default_rng(3)
    n, k, c = 240, 6, 24
    features = rng.normal(0, 1, (n, k, c))
    sources = np.array(["a", "b", "odd"] * (n // 3))
    fire = rng.random(n) < 0.5
    smoke = np.zeros(n, bool)
    for i in np.nonzero(fire)[0]:
        features[i, 0, (10 if sources[i] == "odd" else 0):(14 if sources[i] == "odd" else 4)] += 4.0
    held = leave_one_source_out(features.astype(np.float16), fire, smoke, list(sources), 4.0)
    accuracy = {s: ((held[sources == s, 0] > 0.5) == fire[sources == s]).mean() for s in ("a", "b", "odd")}
    assert accuracy["a"] > 0.9 and accuracy["b"] > 0.9 and accuracy["odd"] < 0.8
