"""The sampling schedule as pure functions: water-filling allocation, pacing, claims, re-planning."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vision.schedule import (
    Bucket,
    Claim,
    SchedulePolicy,
    Scheduler,
    allocate_intervals,
    cameras_for_cells,
    effective_priority,
    first_due,
    refill,
    weight_of,
)

priorities = st.lists(st.sampled_from([0.0, 0.0, 0.0, 20.0, 50.0, 80.0, 100.0]), min_size=1, max_size=60)


def test_equal_weights_share_the_budget_evenly() -> None:
    # the Heihe design point: 5,000 channels, 500 frames/s -> one frame per channel every 10 s
    allocation = allocate_intervals({f"c{i}": 1.0 for i in range(5000)}, 500.0, 60.0, 1.0)
    assert allocation.feasible
    assert all(abs(v - 10.0) < 1e-6 for v in allocation.intervals.values())


def test_risky_cameras_get_more_and_the_rest_still_meet_the_max_interval() -> None:
    weights = {f"c{i}": 1.0 for i in range(5000)} | {f"red{i}": weight_of(80.0) for i in range(100)}
    allocation = allocate_intervals(weights, 500.0, 60.0, 1.0)
    assert allocation.intervals["red0"] == 1.0  # capped at the minimum interval
    assert 10.0 < allocation.intervals["c0"] <= 60.0
    assert abs(sum(1 / v for v in allocation.intervals.values()) - 500.0) < 1e-6


def test_an_impossible_budget_is_reported_not_hidden() -> None:
    allocation = allocate_intervals({f"c{i}": 1.0 for i in range(1000)}, 10.0, 60.0, 1.0)
    assert not allocation.feasible
    assert set(allocation.intervals.values()) == {60.0}


@given(priorities, st.floats(min_value=0.5, max_value=2000.0))
def test_allocation_never_exceeds_the_budget_and_keeps_the_max_interval(prios: list[float], budget: float) -> None:
    weights = {f"c{i}": weight_of(p) for i, p in enumerate(prios)}
    max_interval = 60.0
    allocation = allocate_intervals(weights, budget, max_interval, 1.0)
    total_rate = sum(1 / v for v in allocation.intervals.values())
    if len(weights) / max_interval <= budget:
        assert allocation.feasible
        assert total_rate <= budget * (1 + 1e-9)
    assert all(1.0 - 1e-9 <= v <= max_interval + 1e-9 for v in allocation.intervals.values())
    # more weight never means a longer interval
    ranked = sorted(weights, key=weights.__getitem__)
    intervals = [allocation.intervals[c] for c in ranked]
    assert all(a >= b - 1e-9 for a, b in zip(intervals, intervals[1:]))


@settings(max_examples=25, deadline=None)
@given(priorities, st.floats(min_value=2.0, max_value=40.0), st.integers(min_value=0, max_value=10_000))
def test_simulated_run_samples_every_camera_within_max_interval_and_under_budget(
        prios: list[float], budget: float, raise_at_tick: int) -> None:
    max_interval, tick = 30.0, 0.05
    policy = SchedulePolicy(budget_fps=max(budget, len(prios) / (0.9 * max_interval)), max_interval_s=max_interval)
    scheduler = Scheduler(policy)
    cameras = [f"c{i}" for i in range(len(prios))]
    scheduler.set_cameras(cameras, now=0.0)
    last = {c: 0.0 for c in cameras}
    dispatched: list[float] = []
    worst_gap = 0.0
    for step in range(int(3 * max_interval / tick)):
        now = step * tick
        if step == raise_at_tick % 1800:  # risk changes mid-run
            for camera, p in zip(cameras, prios):
                scheduler.set_claim(camera, "cell x", Claim(p))
        for camera, _ in scheduler.take_due(now, limit=1000):
            worst_gap = max(worst_gap, now - last[camera])
            last[camera] = now
            dispatched.append(now)
    end = 3 * max_interval
    worst_gap = max([worst_gap] + [end - t for t in last.values()])
    assert worst_gap <= max_interval + 2 * tick
    # never more than the bucket depth plus budget x window, over any 1 s window
    depth = max(1.0, policy.budget_fps * policy.burst_s)
    for i, t in enumerate(dispatched):
        in_window = sum(1 for u in dispatched[i:] if u < t + 1.0)
        assert in_window <= depth + policy.budget_fps * 1.0 + 1


def test_a_raise_reschedules_the_camera_within_its_new_interval() -> None:
    scheduler = Scheduler(SchedulePolicy(budget_fps=10.0, max_interval_s=600.0))
    scheduler.set_cameras([f"c{i}" for i in range(1000)], now=0.0)
    for step in range(200):  # 10 s of sampling at 10 frames/s over 1,000 cameras: 100 s each
        scheduler.take_due(step * 0.05, 100)
    waiting = next(c for c, due in scheduler.due.items() if due > 50.0)
    assert scheduler.intervals[waiting] == pytest.approx(100.0)
    scheduler.set_claim(waiting, "incident 7", Claim(100.0))
    taken = [c for step in range(200, 242) for c, _ in scheduler.take_due(step * 0.05, 100)]
    assert waiting in taken and scheduler.intervals[waiting] == 1.0


def test_claims_expire_and_withdraw() -> None:
    assert effective_priority([Claim(80.0, until=100.0), Claim(20.0)], now=50.0) == 80.0
    assert effective_priority([Claim(80.0, until=100.0), Claim(20.0)], now=100.0) == 20.0
    scheduler = Scheduler(SchedulePolicy(budget_fps=10.0, max_interval_s=60.0))
    scheduler.set_cameras(["a"], now=0.0)
    scheduler.set_claim("a", "cell 1", Claim(80.0))
    scheduler.set_claim("a", "cell 1", Claim(0.0))
    assert scheduler.priority("a", 0.0) == 0.0 and scheduler.claims == {}


def test_rebalance_drops_and_adds_cameras_and_scales_the_budget() -> None:
    scheduler = Scheduler(SchedulePolicy(budget_fps=100.0, max_interval_s=60.0))
    scheduler.set_cameras(["a", "b", "c", "d"], now=0.0, budget_share=1.0)
    scheduler.take_due(0.0, 10)
    scheduler.set_cameras(["c", "d", "e"], now=1.0, budget_share=0.5)
    assert scheduler.budget_fps == 50.0
    taken = {c for step in range(20, 2000) for c, _ in scheduler.take_due(step * 0.05, 10)}
    assert taken == {"c", "d", "e"}


def test_bucket_and_phase_helpers() -> None:
    assert refill(Bucket(0.0, 0.0), now=2.0, rate=10.0, depth=5.0) == Bucket(5.0, 2.0)
    assert 0.0 <= first_due("cam", 10.0, now=0.0) < 10.0
    assert first_due("cam", 10.0, 0.0) == first_due("cam", 10.0, 0.0)
    assert cameras_for_cells(["x", "y"], {"x": ["a", "b"], "y": ["b"], "z": ["c"]}) == {"a", "b"}
