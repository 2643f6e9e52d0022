"""The sampling schedule as pure functions: water-filling allocation, pacing, claims, re-planning, urgency.

Every run here is on a virtual clock: ``take_due(now, limit)`` is called once per
tick of ``TICK`` virtual seconds, and ``limit`` stands for what the sampler can
fetch (its capacity). Assertions are on what the scheduler decided: which
camera it handed out at which virtual time.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vision.schedule import (
    LATE_FACTOR,
    MIN_DEPTH_FRAMES,
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

TICK = 0.05
priorities = st.lists(st.sampled_from([0.0, 0.0, 0.0, 20.0, 50.0, 80.0, 100.0]), min_size=1, max_size=60)


class Run:
    """Drives a scheduler tick by tick and records, per watched camera, every gap between samples
    next to the longest interval it was planned at during that gap."""

    def __init__(self, scheduler: Scheduler, watched: Iterable[str], *, start: float = 0.0) -> None:
        self.scheduler = scheduler
        self.watched = list(watched)
        self.start = start
        self.previous = dict.fromkeys(self.watched, start)
        self.longest = dict.fromkeys(self.watched, 0.0)
        self.samples: dict[str, int] = {}
        self.gaps: list[tuple[str, float, float]] = []
        """(camera, gap, longest planned interval during it), for the watched cameras."""
        self.dispatched: list[float] = []

    def run(self, seconds: float, *, capacity_fps: float | None = None,
            each_tick: Callable[[int, float], None] | None = None) -> float:
        """``seconds`` of ticks; ``capacity_fps`` None = the sampler takes whatever the budget allows."""
        credit, steps, now = 0.0, round(seconds / TICK), self.start
        for step in range(steps):
            now = self.start + step * TICK
            if each_tick is not None:
                each_tick(step, now)
            if capacity_fps is None:
                limit = 1 << 30
            else:  # a sampler doing capacity_fps, with no more than one tick's work kept in hand
                credit = min(credit + capacity_fps * TICK, capacity_fps * TICK + 1)
                limit = int(credit)
            taken = self.scheduler.take_due(now, limit)
            credit -= len(taken)
            for camera in self.watched:
                self.longest[camera] = max(self.longest[camera], self.scheduler.intervals[camera])
            for camera, _ in taken:
                self.samples[camera] = self.samples.get(camera, 0) + 1
                self.dispatched.append(now)
                if camera in self.previous:
                    self.gaps.append((camera, now - self.previous[camera], self.longest[camera]))
                    self.previous[camera] = now
                    self.longest[camera] = self.scheduler.intervals[camera]
        self.start = now + TICK
        # the wait still running at the end counts too
        self.gaps += [(c, self.start - self.previous[c], self.longest[c]) for c in self.watched]
        return now

    def over(self, bound: Callable[[float], float]) -> list[tuple[str, float, float]]:
        """The gaps longer than ``bound(longest planned interval)``."""
        return [g for g in self.gaps if g[1] > bound(g[2]) + 1e-9]


def starvation_bound(policy: SchedulePolicy) -> Callable[[float], float]:
    """The stated bound: LATE_FACTOR x the planned interval + the bucket's burst, plus the tick it falls in."""
    return lambda interval: LATE_FACTOR * interval + policy.burst_s + TICK


# -- allocation ------------------------------------------------------------------------------

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


def test_the_plan_keeps_a_headroom_above_the_max_interval_floor() -> None:
    # 900 cameras at 54 s (the floor) need 16.7 frames/s of the 100; 10 % of the other 83.3 stays spare
    scheduler = Scheduler(SchedulePolicy(budget_fps=100.0, max_interval_s=60.0))
    scheduler.set_cameras([f"c{i}" for i in range(900)], now=0.0)
    scheduler.replan(0.0)
    assert scheduler.health(0.0).planned_fps == pytest.approx(900 / 54 + 0.9 * (100 - 900 / 54))
    tight = Scheduler(SchedulePolicy(budget_fps=10.0, max_interval_s=60.0))
    tight.set_cameras([f"c{i}" for i in range(540)], now=0.0)  # exactly the floor: nothing to spare
    tight.replan(0.0)
    assert tight.feasible and set(tight.intervals.values()) == {54.0}


# -- pacing and the max-interval guarantee ------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(priorities, st.floats(min_value=2.0, max_value=40.0), st.integers(min_value=0, max_value=10_000))
def test_simulated_run_samples_every_camera_within_max_interval_and_under_budget(
        prios: list[float], budget: float, raise_at_tick: int) -> None:
    max_interval = 30.0
    policy = SchedulePolicy(budget_fps=max(budget, len(prios) / (0.9 * max_interval)), max_interval_s=max_interval)
    scheduler = Scheduler(policy)
    cameras = [f"c{i}" for i in range(len(prios))]
    scheduler.set_cameras(cameras, now=0.0)

    def raise_once(step: int, now: float) -> None:
        if step == raise_at_tick % 1800:  # risk changes mid-run
            for camera, p in zip(cameras, prios):
                scheduler.set_claim(camera, "cell x", Claim(p))

    run = Run(scheduler, cameras)
    run.run(3 * max_interval, each_tick=raise_once)
    assert run.over(lambda _: max_interval + 2 * TICK) == []
    # never more than the bucket depth plus budget x window, over any 1 s window
    depth = max(MIN_DEPTH_FRAMES, policy.budget_fps * policy.burst_s)
    for i, t in enumerate(run.dispatched):
        in_window = sum(1 for u in run.dispatched[i:] if u < t + 1.0)
        assert in_window <= depth + policy.budget_fps * 1.0 + 1


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from([0.0, 0.0, 0.0, 20.0, 50.0, 80.0, 99.0, 100.0]), min_size=1, max_size=80),
       st.floats(min_value=1.0, max_value=60.0), st.sampled_from([10.0, 30.0, 60.0]),
       st.floats(min_value=0.0, max_value=1.0), st.floats(min_value=0.0, max_value=0.2), st.integers(0, 2**32))
def test_starvation_freedom_while_capacity_covers_the_budget(
        prios: list[float], budget: float, max_interval: float, raise_at: float, churn: float, seed: int) -> None:
    """No camera waits longer than LATE_FACTOR x its interval + burst, nor past max_interval,
    through a raise of many cameras at once and claims flipping by one point afterwards."""
    policy = SchedulePolicy(budget_fps=max(budget, len(prios) / (0.9 * max_interval)), max_interval_s=max_interval)
    scheduler = Scheduler(policy)
    cameras = [f"c{i}" for i in range(len(prios))]
    scheduler.set_cameras(cameras, now=0.0)
    claimed = [(c, p) for c, p in zip(cameras, prios) if p > 0]
    rnd = random.Random(seed)
    raise_step = round(raise_at * 2 * max_interval / TICK)

    def change(step: int, now: float) -> None:
        if step == raise_step:
            for camera, p in claimed:
                scheduler.set_claim(camera, "incident 1", Claim(p))
        elif step > raise_step and claimed and rnd.random() < churn:
            camera, p = rnd.choice(claimed)
            scheduler.set_claim(camera, "incident 1", Claim(rnd.choice([p, p - 1])))

    run = Run(scheduler, cameras)
    run.run(4 * max_interval, each_tick=change)
    assert run.over(starvation_bound(policy)) == []
    assert run.over(lambda _: max_interval + 3 * TICK) == []


# -- urgency under overload ---------------------------------------------------------------------

@pytest.mark.parametrize("churn", [True, False], ids=["claims-churning", "claims-steady"])
def test_issue_23_claimed_cameras_keep_their_interval_when_the_sampler_falls_behind(churn: bool) -> None:
    """Issue 23's reproduction: 5,000 cameras, 50 claimed at ~100, the sampler doing 40 of the planned
    100 frames/s and ten claim updates a second flipping them between 99 and 100."""
    policy = SchedulePolicy(100.0, 60.0, 1.0)
    scheduler = Scheduler(policy)
    cameras = [f"c{i:04d}" for i in range(5000)]
    claimed, unclaimed = cameras[:50], cameras[50:]
    scheduler.set_cameras(cameras, now=0.0)
    for camera in claimed:
        scheduler.set_claim(camera, "incident 231102-flood-1", Claim(100.0))
    rnd = random.Random(23)

    def flip(step: int, now: float) -> None:
        if churn and step % 2 == 0:  # ten updates a second
            scheduler.set_claim(rnd.choice(claimed), "incident 231102-flood-1", Claim(rnd.choice([99.0, 100.0])))

    run = Run(scheduler, claimed)
    end = run.run(180.0, capacity_fps=40.0, each_tick=flip)
    planned = scheduler.intervals[claimed[0]]
    assert planned < 7.0  # what the plan gives a claimed camera (the unclaimed: 54 s)
    assert run.over(starvation_bound(policy)) == []
    assert min(run.samples[c] for c in claimed) >= int(180 / (LATE_FACTOR * planned + policy.burst_s))
    # the unclaimed absorb the shortfall, round robin: nobody gets two samples before everyone got one
    got = [run.samples.get(c, 0) for c in unclaimed]
    assert max(got) - min(got) <= 1
    assert sum(run.samples.values()) == pytest.approx(40.0 * 180, rel=0.01)  # capacity fully used
    health = scheduler.health(end)
    assert health.claimed_behind == 0 and health.past_max_interval > 1000 and health.short
    assert health.served_fps == pytest.approx(40.0, rel=0.05) and health.planned_fps > 90.0


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(min_value=1.0, max_value=100.0), min_size=1, max_size=8),
       st.integers(min_value=5, max_value=80), st.floats(min_value=5.0, max_value=40.0),
       st.floats(min_value=0.0, max_value=1.0), st.booleans(), st.integers(0, 2**32))
def test_under_overload_claimed_cameras_first_and_the_unclaimed_share_what_is_left(
        claimed_priorities: list[float], n_unclaimed: int, budget: float, spare: float, churn: bool,
        seed: int) -> None:
    max_interval = 30.0
    policy = SchedulePolicy(budget_fps=max(budget, (len(claimed_priorities) + n_unclaimed) / 27.0),
                            max_interval_s=max_interval)
    scheduler = Scheduler(policy)
    claimed = {f"k{i}": p for i, p in enumerate(claimed_priorities)}
    unclaimed = [f"u{i}" for i in range(n_unclaimed)]
    scheduler.set_cameras([*claimed, *unclaimed], now=0.0)
    for camera, p in claimed.items():
        scheduler.set_claim(camera, "cell 1", Claim(p))
    scheduler.replan(0.0)
    plan = scheduler.health(0.0).planned_fps
    claimed_fps = sum(1 / scheduler.intervals[c] for c in claimed)
    # capacity covers the claimed set (with 25 % and 2 frames/s to spare) but stays under the plan: an overload
    covered = 1.25 * claimed_fps + 2.0
    capacity = covered + spare * max(0.0, 0.9 * plan - covered)
    if capacity >= 0.95 * plan:
        return
    rnd = random.Random(seed)

    def flip(step: int, now: float) -> None:
        if churn and rnd.random() < 0.2:
            camera = rnd.choice(list(claimed))
            scheduler.set_claim(camera, "cell 1", Claim(rnd.choice([claimed[camera], max(1.0, claimed[camera] - 1)])))

    run = Run(scheduler, [*claimed, *unclaimed])
    run.run(3 * max_interval, capacity_fps=capacity, each_tick=flip)
    assert [g for g in run.over(starvation_bound(policy)) if g[0] in claimed] == []
    got = [run.samples.get(c, 0) for c in unclaimed]
    assert max(got) - min(got) <= 1 + 0.05 * max(got)  # shared evenly (round robin while they stay behind)
    share = capacity - 1.05 * sum(1 / scheduler.intervals[c] for c in claimed)
    if n_unclaimed / share <= 0.9 * max_interval:  # capacity allows the guarantee: the unclaimed keep it
        assert run.over(lambda _: max_interval + 2 * TICK) == []


def test_due_cameras_go_by_priority_then_by_how_overdue() -> None:
    # a budget that gives every camera the longest interval (54 s) whatever its claim: at 60 s all four are
    # due, each since its own (hashed) phase, and the bucket lets them go in one tick
    scheduler = Scheduler(SchedulePolicy(budget_fps=4 / 54, max_interval_s=60.0))
    scheduler.set_cameras(["a", "b", "c", "d"], now=0.0)
    scheduler.set_claim("c", "incident 1", Claim(100.0))
    scheduler.set_claim("d", "cell 1", Claim(50.0))
    scheduler.replan(0.0)
    assert set(scheduler.intervals.values()) == {54.0}
    expected = sorted("abcd", key=lambda c: (-scheduler.priorities.get(c, 0.0), scheduler.due[c]))
    assert [c for c, _ in scheduler.take_due(60.0, 4)] == expected
    assert expected[:2] == ["c", "d"]


# -- re-plans -----------------------------------------------------------------------------------

claim_updates = st.lists(
    st.tuples(st.integers(min_value=0, max_value=11), st.sampled_from(["incident 1", "cell 9"]),
              st.sampled_from([0.0, 20.0, 50.0, 80.0, 99.0, 100.0]), st.sampled_from([None, 5.0, 40.0]),
              st.integers(min_value=0, max_value=60)),
    min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(claim_updates, st.floats(min_value=0.5, max_value=20.0))
def test_a_replan_never_moves_a_camera_backwards_in_the_queue(updates: list, budget: float) -> None:
    """After any claim change: no camera becomes due later, and none whose priority did not fall
    loses its place (urgency = (-priority, due) never grows)."""
    scheduler = Scheduler(SchedulePolicy(budget_fps=budget, max_interval_s=60.0))
    cameras = [f"c{i}" for i in range(12)]
    scheduler.set_cameras(cameras, now=0.0)
    scheduler.replan(0.0)
    now = 0.0
    for camera, reason, priority, hold, ticks in updates:
        for _ in range(ticks):  # sample a while
            now += TICK
            scheduler.take_due(now, 3)
        before = {c: (scheduler.priorities.get(c, 0.0), scheduler.urgency(c)) for c in cameras}
        scheduler.set_claim(cameras[camera], reason, Claim(priority, None if hold is None else now + hold))
        scheduler.replan(now)
        for c in cameras:
            was_priority, was = before[c]
            assert scheduler.due[c] <= was[1], c
            if scheduler.priorities.get(c, 0.0) >= was_priority:
                assert scheduler.urgency(c) <= was, c


def test_an_overdue_raised_camera_keeps_how_long_it_has_waited() -> None:
    # issue 23's cause: an overdue camera whose interval changed went back to `now`, behind every other
    scheduler = Scheduler(SchedulePolicy(budget_fps=100.0, max_interval_s=60.0))
    scheduler.set_cameras(["a", "b"], now=0.0)
    scheduler.replan(0.0)
    scheduler.last.update({"a": 0.0, "b": 0.0})
    scheduler.due.update({"a": 10.0, "b": 12.0})
    scheduler.set_claim("a", "incident 1", Claim(99.0))
    scheduler.replan(30.0)  # both overdue, "a" raised: its due time may only move earlier
    assert scheduler.due["a"] <= 10.0 and scheduler.due["b"] == 12.0


def test_an_unchanged_claim_resent_is_a_no_op_and_updates_between_ticks_coalesce() -> None:
    scheduler = Scheduler(SchedulePolicy(budget_fps=10.0, max_interval_s=60.0))
    scheduler.set_cameras(["a", "b"], now=0.0)
    scheduler.set_claim("a", "incident 1", Claim(80.0))
    scheduler.take_due(0.0, 10)
    plans, due = scheduler.plans, dict(scheduler.due)
    for _ in range(1000):
        scheduler.set_claim("a", "incident 1", Claim(80.0))
        scheduler.set_claim("b", "cell 9", None)  # withdrawing what is not held
    scheduler.take_due(TICK, 10)
    assert scheduler.plans == plans and scheduler.due == due
    for step in range(100):  # a hundred changes of one camera before the next tick: one re-plan
        scheduler.set_claim("a", "incident 1", Claim(100.0 if step % 2 else 99.0))
    scheduler.take_due(2 * TICK, 10)
    assert scheduler.plans == plans + 1 and scheduler.priorities == {"a": 100.0}


def test_a_raise_reschedules_the_camera_within_its_new_interval() -> None:
    scheduler = Scheduler(SchedulePolicy(budget_fps=10.0, max_interval_s=600.0, headroom=0.0))
    scheduler.set_cameras([f"c{i}" for i in range(1000)], now=0.0)
    for step in range(200):  # 10 s of sampling at 10 frames/s over 1,000 cameras: 100 s each
        scheduler.take_due(step * TICK, 100)
    waiting = next(c for c, due in scheduler.due.items() if due > 50.0)
    assert scheduler.intervals[waiting] == pytest.approx(100.0)
    scheduler.set_claim(waiting, "incident 7", Claim(100.0))
    taken = [c for step in range(200, 242) for c, _ in scheduler.take_due(step * TICK, 100)]
    assert waiting in taken and scheduler.intervals[waiting] == 1.0


def test_claims_expire_and_withdraw() -> None:
    assert effective_priority([Claim(80.0, until=100.0), Claim(20.0)], now=50.0) == 80.0
    assert effective_priority([Claim(80.0, until=100.0), Claim(20.0)], now=100.0) == 20.0
    scheduler = Scheduler(SchedulePolicy(budget_fps=10.0, max_interval_s=60.0))
    scheduler.set_cameras(["a"], now=0.0)
    scheduler.set_claim("a", "cell 1", Claim(80.0))
    scheduler.set_claim("a", "cell 1", Claim(0.0))
    assert scheduler.priority("a", 0.0) == 0.0 and scheduler.claims == {}
    scheduler.set_claim("a", "crest 1", Claim(70.0, until=5.0))
    scheduler.take_due(1.0, 10)
    assert scheduler.priorities == {"a": 70.0}
    scheduler.take_due(5.0, 10)  # the expiry re-plans by itself
    assert scheduler.priorities == {}


def test_rebalance_drops_and_adds_cameras_and_scales_the_budget() -> None:
    scheduler = Scheduler(SchedulePolicy(budget_fps=100.0, max_interval_s=60.0))
    scheduler.set_cameras(["a", "b", "c", "d"], now=0.0, budget_share=1.0)
    scheduler.take_due(0.0, 10)
    scheduler.set_cameras(["c", "d", "e"], now=1.0, budget_share=0.5)
    assert scheduler.budget_fps == 50.0
    taken = {c for step in range(20, 2000) for c, _ in scheduler.take_due(step * TICK, 10)}
    assert taken == {"c", "d", "e"}


def test_health_says_who_waits_too_long_and_what_was_served() -> None:
    scheduler = Scheduler(SchedulePolicy(budget_fps=10.0, max_interval_s=60.0))
    scheduler.set_cameras([f"c{i}" for i in range(20)], now=0.0)
    scheduler.set_claim("c0", "incident 1", Claim(100.0))
    run = Run(scheduler, [])
    run.run(30.0)
    health = scheduler.health(30.0)
    assert (health.cameras, health.claimed, health.claimed_behind, health.past_max_interval) == (20, 1, 0, 0)
    assert not health.short and health.served_fps == pytest.approx(sum(
        1 for t in run.dispatched if t > 30.0 - 10.0) / 10.0)
    starved = scheduler.health(30.0 + 61.0)  # nothing taken for 61 s
    assert starved.served_fps == 0.0 and starved.past_max_interval == 20 and starved.claimed_behind == 1
    assert starved.short and starved.worst_wait_s > 61.0


def test_bucket_and_phase_helpers() -> None:
    assert refill(Bucket(0.0, 0.0), now=2.0, rate=10.0, depth=5.0) == Bucket(5.0, 2.0)
    assert 0.0 <= first_due("cam", 10.0, now=0.0) < 10.0
    assert first_due("cam", 10.0, 0.0) == first_due("cam", 10.0, 0.0)
    assert cameras_for_cells(["x", "y"], {"x": ["a", "b"], "y": ["b"], "z": ["c"]}) == {"a", "b"}
    with pytest.raises(ValueError, match="headroom"):
        SchedulePolicy(budget_fps=10.0, max_interval_s=60.0, headroom=1.0)
