"""`amur bench incidents` runs end to end on a few inputs (no timing assertions)."""

import re

import pytest

from stream.cli.main import main as amur


def test_bench_incidents_prints_each_area_size_against_the_plain_hop(capsys):
    assert amur(["bench", "incidents", "-n", "20"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].startswith("plain hop (decode + encode one evidence event): ") and lines[0].endswith(" µs")
    steps = [re.fullmatch(r"fusion step, +(\d+) incidents in the area \( *[\d.]+ KiB state\): +[\d.]+ µs = +\d+ "
                          r"evidence/s = +[\d.]+ x plain hop", line) for line in lines[1:]]
    assert all(steps) and [int(m[1]) for m in steps if m] == [1, 10, 100]
    assert captured.err == ""  # no progress and no table off a terminal


def test_help_lists_the_options(capsys):
    assert amur(["bench", "incidents", "--help"]) == 0
    assert "-n INTEGER" in capsys.readouterr().out


@pytest.mark.parametrize("args,named", [(["-n", "0"], "'-n'"), (["-n", "many"], "'-n'")])
def test_usage_error_is_one_line_naming_the_option(capsys, args, named):
    assert amur(["bench", "incidents", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.splitlines()) == 1 and named in captured.err
