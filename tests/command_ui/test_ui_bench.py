"""The screen benchmark's statistics."""

from __future__ import annotations

import pytest

from command_ui.bench import percentile


@pytest.mark.parametrize("q, expected", [(5, 15), (30, 20), (40, 20), (50, 35), (60, 35), (100, 50)])
def test_nearest_rank_percentile_matches_the_textbook_example(q: float, expected: float) -> None:
    # Nearest-rank method, worked example on {15, 20, 35, 40, 50} (Wikipedia, "Percentile", nearest-rank method)
    assert percentile([50, 15, 40, 35, 20], q) == expected
