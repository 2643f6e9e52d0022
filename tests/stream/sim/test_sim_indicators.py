"""The generated registry categories as series: every one fed, at its cadence, in its range, and what it costs."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from stream.ingest.intake import Intake
from stream.ingest.inventory import Inventory
from stream.ingest.outcome import Outcome
from stream.ingest.registry import load_registry
from stream.ingest.validation import TimeLimits
from stream.schemas import SensorReading, decode
from stream.sim.feeds import STEP_S, FeedSimulator
from stream.sim.indicators import SILENT_SHARE, IndicatorFeed

REGISTRY = load_registry()
START = datetime(2026, 7, 1, 0, 0, tzinfo=timezone.utc)
SENSORS_PER_S = 1000.0
"""ARCHITECTURE.md's design point: 10,000 sensors, one reading per 10 s."""


def generated() -> list[str]:
    return [s.source_id for s in REGISTRY.sources.values() if s.sample]


def test_the_first_step_feeds_every_generated_category_once_and_ingest_accepts_all() -> None:
    sim = FeedSimulator(Inventory.from_sites([], [], []), 7, START, registry=REGISTRY)
    step = sim.step(0)
    readings = [decode(SensorReading, payload) for _, payload in step.messages]
    assert sorted(r.source for r in readings) == sorted(generated()) and len(generated()) == 1382
    assert all(key == r.source == r.sensor_id for (key, _), r in zip(step.messages, readings))
    intake = Intake(REGISTRY, Inventory.from_sites([], [], []), TimeLimits(300, 86400), readings_partitions=8,
                    dedupe_window_s=900, dedupe_max_keys=100_000)
    counts: Counter[Outcome] = Counter()
    for _, payload in step.messages:
        routed = intake.process(payload, 0, START.timestamp())
        assert routed.rejected == [], routed.rejected[0].error
        counts.update({outcome: n for (_, outcome), n in routed.counts.items()})
    assert counts[Outcome.ACCEPTED] == 1382


def test_values_are_in_the_registered_range_and_unit_and_never_a_sentinel() -> None:
    feed = IndicatorFeed.of(REGISTRY, 3)
    everyone = np.arange(len(feed.sources))
    for hour in range(0, 24, 3):
        at = START + timedelta(hours=hour)
        for reading in feed.readings(everyone, at, np.cos(hour), np.random.default_rng(hour)):
            source = REGISTRY.sources[reading.source]
            assert reading.unit == source.unit and reading.kind is source.kind
            assert source.min_value <= reading.value <= source.max_value
            assert reading.value not in (9999.0, 99999.0, 32767.0, -9999.0)
            if source.unit == "count":
                assert reading.value == int(reading.value)


def test_each_series_reports_at_its_registered_cadence_and_the_silent_ones_fall_silent() -> None:
    sim = FeedSimulator(Inventory.from_sites([], [], []), 5, START, registry=REGISTRY)
    feed = sim.indicators
    assert feed is not None
    steps = 2 * 3600 // STEP_S  # two simulated hours
    seen: Counter[str] = Counter()
    for k in range(1, steps + 1):
        seen.update(key for key, _ in sim.step(k).messages)
    silent = {s.source_id for s, quiet in zip(feed.sources, feed.silent) if quiet}
    assert 0 < len(silent) <= 2 * SILENT_SHARE * len(feed.sources)
    assert not silent & set(seen)
    for source in feed.sources:
        if source.source_id in silent:
            continue
        if source.cadence_s <= 7200:  # the sample's cadences (60 s .. 1 h) divide two hours
            assert seen[source.source_id] == 7200 // source.cadence_s, source
        else:  # 6 h and daily series: once at most in two hours
            assert seen[source.source_id] <= 1, source


def test_the_cost_is_a_small_share_of_the_design_load() -> None:
    feed = IndicatorFeed.of(REGISTRY, 7)
    expected = sum(1.0 / s.cadence_s for s, quiet in zip(feed.sources, feed.silent) if not quiet)
    assert feed.rate_per_s() == pytest.approx(expected)
    assert feed.rate_per_s() < 0.01 * SENSORS_PER_S  # ≈ 4.7 readings/s beside the sensors' 1,000


def test_same_seed_same_series() -> None:
    a, b = IndicatorFeed.of(REGISTRY, 9), IndicatorFeed.of(REGISTRY, 9)
    assert np.array_equal(a.level, b.level) and np.array_equal(a.silent, b.silent)
    assert not np.array_equal(a.level, IndicatorFeed.of(REGISTRY, 10).level)
