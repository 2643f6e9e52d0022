"""``amur bench vision`` runs and prints every figure (the speed itself is not a pass/fail test)."""

from __future__ import annotations

import pytest

from stream.cli.main import main as amur


def test_bench_prints_a_row_per_size_and_a_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    assert amur(["bench", "vision", "--seconds", "0.05", "--frames", "2", "--processes", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("amur bench vision: fleet frames,")
    assert "| size | processes | decode full (f/s) |" in out and "|---|---:|" in out
    rows = [line for line in out.splitlines() if line.startswith(("| 640x360 |", "| 960x540 |", "| 1280x720 |"))]
    assert len(rows) == 3
    for row in rows:
        rates = [float(cell) for cell in row.strip("|").split("|")[2:5]]
        assert all(rate > 0 for rate in rates)
    assert all(f"{size}: analysis" in out for size in ("640x360", "960x540", "1280x720"))
    assert "network alone" in out and "% of frames reached the network" in out
    header = next(line for line in out.splitlines() if line.startswith("| size |"))
    share = header.strip("|").split("|").index(" share reaching the network ")
    assert all(0.0 <= float(row.strip("|").split("|")[share]) <= 1.0 for row in rows)


def test_both_sources_at_640x360_in_one_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert amur(["bench", "vision", "--seconds", "0.05", "--frames", "2", "--processes", "1", "--source", "both",
                 "--sizes", "640x360"]) == 0
    out = capsys.readouterr().out
    assert "fleet frames:" in out and "photos frames:" in out
    assert sum(line.startswith("| 640x360 |") for line in out.splitlines()) == 2


def test_repeated_processes_measure_each_count(capsys: pytest.CaptureFixture[str]) -> None:
    assert amur(["bench", "vision", "--seconds", "0.05", "--frames", "2", "--processes", "1",
                 "--processes", "2"]) == 0
    rows = [line.split(" | ")[:2] for line in capsys.readouterr().out.splitlines() if line.startswith("| 640x360 |")]
    assert rows == [["| 640x360", "1"], ["| 640x360", "2"]]


def test_help_lists_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert amur(["bench", "vision", "--help"]) == 0
    out = capsys.readouterr().out
    assert all(option in out for option in ("--seconds", "--frames", "--processes", "--source"))


@pytest.mark.parametrize("argv, option", [
    (["--source", "webcams"], "'--source'"),
    (["--seconds", "0"], "'--seconds'"),
    (["--processes", "0"], "'--processes'"),
])
def test_bad_values_are_one_line_usage_errors(argv: list[str], option: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert amur(["bench", "vision", *argv]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("amur bench vision: error:") and option in lines[0]
