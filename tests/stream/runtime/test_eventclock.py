"""Which "now" timed decisions read (stream/runtime/eventclock.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from stream.runtime.eventclock import advanced, decision_time, event_clock_on

T0 = datetime(2021, 7, 12, 8, tzinfo=timezone.utc)
WALL = datetime(2026, 11, 26, 7, tzinfo=timezone.utc)


@pytest.mark.parametrize(("mode", "drill_id", "expected"), [
    ("auto", None, False), ("auto", "crest5", True), ("wall", "crest5", False), ("event", None, True),
])
def test_the_event_clock_is_on_in_drills_unless_told(mode: str, drill_id: str | None, expected: bool) -> None:
    assert event_clock_on(mode, drill_id) is expected


def test_an_unknown_mode_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="'virtual'"):
        event_clock_on("virtual", None)


def test_the_watermark_never_goes_back() -> None:
    mark = advanced(None, T0)
    mark = advanced(mark, T0 + timedelta(minutes=5))
    assert advanced(mark, T0 + timedelta(minutes=1)) == T0 + timedelta(minutes=5)


def test_now_is_the_wall_clock_live_and_the_watermark_in_a_drill() -> None:
    assert decision_time(False, WALL, T0) == WALL
    assert decision_time(True, WALL, T0) == T0
    assert decision_time(True, WALL, None) is None  # no event yet: no time to decide at
