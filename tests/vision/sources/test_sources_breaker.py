"""The per-camera circuit breaker and retry back-off as pure functions of state and time."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vision.sources.breaker import (
    Breaker,
    BreakerPhase,
    BreakerPolicy,
    allows,
    backoff_s,
    on_attempt,
    on_result,
)

POLICY = BreakerPolicy(threshold=3, cooldown_s=10.0, max_cooldown_s=80.0)


def test_breaker_cooldown_doubles_and_is_capped() -> None:
    policy = BreakerPolicy(threshold=1, cooldown_s=10.0, max_cooldown_s=25.0)
    b = on_result(Breaker(), False, 0.0, policy)
    assert (b.phase, b.retry_at) == (BreakerPhase.OPEN, 10.0)
    b = on_result(on_attempt(b, 10.0), False, 10.0, policy)
    assert b.retry_at == 30.0
    b = on_result(on_attempt(b, 30.0), False, 30.0, policy)
    assert b.retry_at == 55.0  # capped at 25 s
    assert on_result(b, True, 60.0, policy) == Breaker()
    assert backoff_s(0, 0.999, base_s=0.1, cap_s=2.0) < 0.1 and backoff_s(10, 0.5, base_s=0.1, cap_s=2.0) == 1.0
    with pytest.raises(ValueError, match="threshold"):
        BreakerPolicy(threshold=0)


@given(st.lists(st.booleans(), min_size=1, max_size=200), st.floats(min_value=0.1, max_value=30.0))
def test_breaker_never_calls_an_open_camera_and_opens_after_threshold_failures(outcomes: list[bool],
                                                                             step_s: float) -> None:
    breaker, failures_in_row, now = Breaker(), 0, 0.0
    for success in outcomes:
        now += step_s
        if not allows(breaker, now):
            assert breaker.phase is BreakerPhase.OPEN and now < breaker.retry_at
            continue
        was_trial = on_attempt(breaker, now).phase is BreakerPhase.HALF_OPEN
        breaker = on_result(on_attempt(breaker, now), success, now, POLICY)
        failures_in_row = 0 if success else failures_in_row + 1
        if success:
            assert breaker == Breaker()
        elif was_trial or failures_in_row >= POLICY.threshold:
            assert breaker.phase is BreakerPhase.OPEN
            assert now + POLICY.cooldown_s <= breaker.retry_at <= now + POLICY.max_cooldown_s
        else:
            assert breaker.phase is BreakerPhase.CLOSED


@given(st.integers(min_value=0, max_value=60), st.floats(min_value=0.0, max_value=0.999))
def test_backoff_is_full_jitter_under_the_cap(attempt: int, uniform: float) -> None:
    delay = backoff_s(attempt, uniform, base_s=0.1, cap_s=2.0)
    assert 0.0 <= delay <= min(2.0, 0.1 * 2**attempt)
