"""`amur bench fleet`: its options, what makes a step sustained, and a step's plain line.

A real run (the 5,000-camera fleet, broker, Redis and a worker) takes about a
minute per budget; it is not run here.
"""

import math

import pytest

from stream.bench.fleet import StepResult, percentile
from stream.cli.main import main as amur


def step(**changes: float) -> StepResult:
    figures = dict(budget_fps=500.0, interval_s=10.0, published_fps=478.9, sampler_cpu_ms=2.16, fleet_cpu_ms=1.08,
                   age_p50_ms=23.0, age_p99_ms=150.0, late_p99_ms=980.0, late_max_ms=1200.0, late_over_interval=0,
                   dropped=0.0, rss_worker_mb=160.0, rss_fleet_mb=280.0, rss_broker_mb=19.0)
    return StepResult(**{**figures, **changes})


def test_a_step_is_sustained_at_95_percent_without_drops_or_late_samples():
    assert step().sustained
    assert not step(published_fps=470.0).sustained
    assert not step(dropped=1.0).sustained
    assert not step(late_over_interval=1).sustained


def test_the_plain_line_keeps_every_figure():
    assert step().line() == (
        "budget    500/s  interval  10.0 s  published  478.9/s  age p50   23.0 ms p99   150.0 ms"
        "  lateness p99   980.0 max  1200.0 ms  late>interval 0  dropped 0  cpu/frame sampler 2.16 ms fleet 1.08 ms"
        "  rss MiB worker 160 fleet 280 broker 19")
    assert step().cells()[3] == "23.0 / 150.0" and len(step().cells()) == 10


def test_percentile():
    assert math.isnan(percentile([], 50)) and percentile([3.0], 99) == 3.0
    assert percentile([float(v) for v in range(1, 102)], 50) == 51.0
    assert percentile([float(v) for v in range(1, 102)], 99) == 100.0


def test_help_lists_the_options(capsys):
    assert amur(["bench", "fleet", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--budgets" in out and "--step-seconds" in out


@pytest.mark.parametrize("args,named", [(["--budgets", "100,lots"], "'--budgets'"), (["--budgets", "0"], "'--budgets'"),
                                        (["--step-seconds", "0"], "'--step-seconds'")])
def test_usage_error_is_one_line_naming_the_option(capsys, args, named):
    assert amur(["bench", "fleet", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.splitlines()) == 1 and named in captured.err
