"""``amur bench vision`` runs and prints every figure (the speed itself is not a pass/fail test)."""

from __future__ import annotations

import pytest

from vision.bench import main


def test_bench_prints_a_row_per_size_and_a_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--seconds", "0.05", "--frames", "2", "--processes", "1"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith(("| 640x360 |", "| 960x540 |", "| 1280x720 |"))]
    assert len(rows) == 3
    for row in rows:
        rates = [float(cell) for cell in row.strip("|").split("|")[2:5]]
        assert all(rate > 0 for rate in rates)
    assert all(f"{size}: analysis" in out for size in ("640x360", "960x540", "1280x720"))
