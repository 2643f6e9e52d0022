"""The command token bucket."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from command_ui.ratelimit import RateLimit


def test_burst_then_refill_at_the_rate() -> None:
    limit = RateLimit(per_second=0.5, burst=3)
    bucket = limit.full(0.0)
    results = []
    for now in (0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 2.1):
        ok, bucket = limit.take(bucket, now)
        results.append(ok)
    assert results == [True, True, True, False, False, True, False]


@given(st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=200),
       st.floats(0.01, 10), st.integers(1, 20))
def test_never_more_than_burst_plus_rate_times_elapsed(times: list[float], rate: float, burst: int) -> None:
    times.sort()
    limit = RateLimit(per_second=rate, burst=burst)
    bucket = limit.full(times[0])
    accepted = 0
    for now in times:
        ok, bucket = limit.take(bucket, now)
        accepted += ok
    assert accepted <= burst + rate * (times[-1] - times[0]) + 1e-9
