"""The screen benchmark's statistics."""

from __future__ import annotations

import pytest

from command_ui.bench import percentile
from stream.cli.main import main as amur


@pytest.mark.parametrize("q, expected", [(5, 15), (30, 20), (40, 20), (50, 35), (60, 35), (100, 50)])
def test_nearest_rank_percentile_matches_the_textbook_example(q: float, expected: float) -> None:
    # Nearest-rank method, worked example on {15, 20, 35, 40, 50} (Wikipedia, "Percentile", nearest-rank method)
    assert percentile([50, 15, 40, 35, 20], q) == expected


def test_help_lists_the_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert amur(["bench", "screen", "--help"]) == 0
    out = capsys.readouterr().out
    assert "Usage: amur bench screen" in out and "--samples" in out


def test_no_samples_is_a_one_line_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert amur(["bench", "screen", "--samples", "0"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("amur bench screen: error:") and "'--samples'" in lines[0]
