"""`amur bench grid` runs end to end on a small point count (no timing assertions)."""

import pytest

from stream.cli.main import main as amur


def test_bench_grid_prints_its_figures_and_limits(capsys):
    assert amur(["bench", "grid", "--points", "20000", "--repeat", "1"]) == 0
    captured = capsys.readouterr()
    out = captured.out
    assert "points/s" in out and "limit: bounding-box-only" in out
    assert "flood rescoring: whole grid" in out and "one cell" in out
    assert out.count("limit: whole grid under 1.0 s") == 2
    assert out.splitlines()[0].startswith("machine: ") and captured.err == ""  # no progress off a terminal


def test_help_lists_the_options(capsys):
    assert amur(["bench", "grid", "--help"]) == 0
    out = capsys.readouterr().out
    assert all(option in out for option in ("--points", "--repeat", "--seed"))


@pytest.mark.parametrize("args,named", [(["--points", "0"], "'--points'"), (["--repeat", "many"], "'--repeat'")])
def test_usage_error_is_one_line_naming_the_option(capsys, args, named):
    assert amur(["bench", "grid", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.splitlines()) == 1 and named in captured.err
