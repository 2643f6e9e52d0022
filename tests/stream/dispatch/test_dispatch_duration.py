"""ISO 8601 durations of the responsibility list's deadlines (ISO 8601-1:2019 §5.5.2, exact units only)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stream.dispatch.duration import format_duration, parse_duration


@pytest.mark.parametrize(("text", "expected"), [
    ("PT30M", timedelta(minutes=30)), ("PT2H", timedelta(hours=2)), ("P1D", timedelta(days=1)),
    ("P1DT12H", timedelta(days=1, hours=12)), ("P2W", timedelta(weeks=2)), ("PT1.5S", timedelta(seconds=1.5)),
    ("PT24H", timedelta(days=1)), (" PT5M ", timedelta(minutes=5)),
])
def test_exact_durations_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(("text", "words"), [
    ("30 minutes", "not an ISO 8601 duration"), ("P", "not an ISO 8601 duration"), ("PT", "not an ISO 8601"),
    ("P1M", "years and months are not fixed lengths"), ("P1Y", "years and months"), ("PT0S", "is zero"),
    ("P1DT", "not an ISO 8601"), ("-PT5M", "not an ISO 8601"), ("pt5m", "not an ISO 8601"),
])
def test_anything_else_is_refused_saying_why(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_duration(text)


@given(st.integers(1, 400 * 86400))
def test_format_then_parse_gives_the_same_duration(seconds: int) -> None:
    assert parse_duration(format_duration(timedelta(seconds=seconds))) == timedelta(seconds=seconds)


def test_format_is_the_shortest_form() -> None:
    assert [format_duration(timedelta(seconds=s)) for s in (900, 3600, 86400, 90000, 86461)] == [
        "PT15M", "PT1H", "P1D", "P1DT1H", "P1DT1M1S"]
