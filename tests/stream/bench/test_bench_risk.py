"""`amur bench risk` runs end to end, one timed call per figure (no timing assertions)."""

import pytest

from stream.cli.main import main as amur


def test_bench_risk_prints_its_figures_and_limits(capsys):
    assert amur(["bench", "risk", "--repeat", "1"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].startswith("machine: ") and lines[1].startswith("grid and registries loaded in ")
    assert lines[2].startswith("inputs: 40 gauges, 40 forecasts, ")
    assert lines[3].startswith("rescoring (flood + fire, whole grid): ")
    assert lines[4].startswith("  limit: 1.0 s budget -> ") and "rescoring interval" in lines[4]
    assert lines[5].startswith("changes: nothing published yet ") and len(lines) == 6
    assert captured.err == ""  # no progress off a terminal


def test_help_lists_the_options(capsys):
    assert amur(["bench", "risk", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--repeat" in out and "--seed" in out


@pytest.mark.parametrize("args,named", [(["--repeat", "0"], "'--repeat'"), (["--seed", "x"], "'--seed'")])
def test_usage_error_is_one_line_naming_the_option(capsys, args, named):
    assert amur(["bench", "risk", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.splitlines()) == 1 and named in captured.err
