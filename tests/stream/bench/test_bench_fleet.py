"""`amur bench fleet`: its options, what makes a step sustained, a step's plain line, and the flood rise.

A real run (the 5,000-camera fleet, broker, Redis and a worker) takes about a
minute per budget; it is not run here. The flood rise's script and its summary
are run against the schedule on a virtual clock.
"""

import math

import pytest

from stream.bench.fleet import StepResult, percentile
from stream.bench.rise import INCIDENT, Dispatches, achieved, claim_level, flood_rise
from stream.cli.main import main as amur
from vision.schedule import Claim, SchedulePolicy, Scheduler


def step(**changes: float) -> StepResult:
    figures = dict(budget_fps=500.0, planned_fps=459.0, interval_s=10.9, published_fps=478.9, sampler_cpu_ms=2.16, fleet_cpu_ms=1.08,
                   age_p50_ms=23.0, age_p99_ms=150.0, late_p99_ms=980.0, late_max_ms=1200.0, late_over_interval=0,
                   dropped=0.0, rss_worker_mb=160.0, rss_fleet_mb=280.0, rss_broker_mb=19.0)
    return StepResult(**{**figures, **changes})


def test_a_step_is_sustained_at_95_percent_of_the_plan_without_drops_or_late_samples():
    assert step().sustained
    assert not step(published_fps=430.0).sustained
    assert not step(dropped=1.0).sustained
    assert not step(late_over_interval=1).sustained


def test_the_plain_line_keeps_every_figure():
    assert step().line() == (
        "budget    500/s  planned    459/s  interval  10.9 s  published  478.9/s  age p50   23.0 ms p99   150.0 ms"
        "  lateness p99   980.0 max  1200.0 ms  late>interval 0  dropped 0  cpu/frame sampler 2.16 ms fleet 1.08 ms"
        "  rss MiB worker 160 fleet 280 broker 19")
    assert step().cells()[4] == "23.0 / 150.0" and len(step().cells()) == 11


def test_percentile():
    assert math.isnan(percentile([], 50)) and percentile([3.0], 99) == 3.0
    assert percentile([float(v) for v in range(1, 102)], 50) == 51.0
    assert percentile([float(v) for v in range(1, 102)], 99) == 100.0


def test_help_lists_the_options(capsys):
    assert amur(["bench", "fleet", "--help"]) == 0
    out = capsys.readouterr().out
    assert all(option in out for option in ("--budgets", "--step-seconds", "--rise-budget", "--rise-seconds",
                                            "--rise-cameras"))


@pytest.mark.parametrize("args,named", [(["--budgets", "100,lots"], "'--budgets'"), (["--budgets", "0"], "'--budgets'"),
                                        (["--step-seconds", "0"], "'--step-seconds'"),
                                        (["--rise-cameras", "0"], "'--rise-cameras'"),
                                        (["--rise-seconds", "-1"], "'--rise-seconds'")])
def test_usage_error_is_one_line_naming_the_option(capsys, args, named):
    assert amur(["bench", "fleet", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.splitlines()) == 1 and named in captured.err


def test_the_flood_rise_turns_cells_orange_then_red_and_churns_the_incident():
    cameras = [f"cam{i:02d}" for i in range(30)]
    script = flood_rise(cameras, {c: f"cell-{c}" for c in cameras}, 60.0)
    assert script == sorted(script) and script[-1].at_s < 60.0
    for camera in cameras:
        own = [(c.priority, c.reason.split()[0]) for c in script if c.camera_id == camera][:3]
        assert own == [(50.0, "cell"), (80.0, "cell"), (100.0, "incident")]
    joined: set[str] = set()
    churn = 0
    for claim in script:
        if claim.reason.startswith("incident") and claim.camera_id in joined:
            churn += 1
            assert claim.priority in (99.0, 100.0) and claim.reason == f"incident {INCIDENT} red"
        elif claim.reason.startswith("incident"):
            joined.add(claim.camera_id)
    assert churn == pytest.approx(10 * (60 - 60 / 3 - 60 / 9), abs=10)  # ten a second once the incident is up


def test_the_summary_shows_the_claimed_cameras_keeping_their_interval_through_the_rise():
    """The bench's rise, applied to the schedule on a virtual clock with the sampler doing 40 of 100 frames/s."""
    policy = SchedulePolicy(100.0, 60.0, 1.0)
    scheduler = Scheduler(policy)
    cameras = [f"cam{i:04d}" for i in range(5000)]
    claimed = cameras[:50]
    scheduler.set_cameras(cameras, now=0.0)
    script = flood_rise(claimed, {c: f"cell-{c}" for c in claimed}, 90.0)
    dispatches = Dispatches(scheduler, claimed + cameras[50::50])
    tick, credit, pending = 0.05, 0.0, list(reversed(script))
    for step in range(round(90.0 / tick)):
        now = step * tick
        while pending and pending[-1].at_s <= now:
            claim = pending.pop()
            scheduler.set_claim(claim.camera_id, " ".join(claim.reason.split()[:2]), Claim(claim.priority))
        credit = min(credit + 40.0 * tick, 40.0 * tick + 1)
        credit -= len(scheduler.take_due(now, int(credit)))
        dispatches.poll(now)
    rows = {row.claim: row for row in achieved("rise", dispatches, policy.burst_s)}
    incident, unclaimed = rows["incident 100"], rows["unclaimed"]
    assert incident.over_bound == 0 and incident.samples > 100 and incident.cameras == 50
    assert incident.p95_s <= 1.5 * incident.planned_s + 0.5
    assert incident.per_camera_s <= 1.2 * incident.planned_s  # nothing like issue 23's 0.02 samples in 180 s
    # the unclaimed absorb the shortfall: planned at 54 s, none sampled twice in 90 s
    assert unclaimed.cameras >= 99 and unclaimed.planned_s == pytest.approx(54.0)
    assert unclaimed.per_camera_s > 90.0 and math.isnan(unclaimed.p50_s)
    assert incident.line().startswith("rise  incident 100   cameras   50  samples")
    assert [claim_level(p) for p in (100.0, 99.0, 80.0, 50.0, 0.0)] == [
        "incident 100", "incident 100", "red cell 80", "orange cell 50", "unclaimed"]
