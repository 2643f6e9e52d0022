"""Per-camera circuit breaker and retry back-off: pure functions of state and time.

Closed: requests flow, consecutive failures are counted. After ``threshold``
failures in a row the breaker opens for a cool-down; the cool-down doubles on
each re-open (capped), so a dead camera costs a request every few minutes, not
every interval. When the cool-down has passed one trial request is let through
(half-open): success closes the breaker, failure re-opens it.

Back-off is "full jitter" (Brooker, "Exponential Backoff And Jitter", AWS
Architecture Blog, 2015): sleep = uniform(0, min(cap, base * 2**attempt)).

Kept by hand: pybreaker (like aiobreaker and purgatory) wraps a call, counts
raised exceptions and lets a trial through after a fixed reset timeout on its own
clock, whereas here a breaker is a value kept per camera, failures are outcomes,
time is passed in and the cool-down doubles on each re-open.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace


class BreakerPhase(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class BreakerPolicy:
    threshold: int = 3
    """Consecutive failures that open the breaker."""
    cooldown_s: float = 15.0
    """First open period."""
    max_cooldown_s: float = 300.0

    def __post_init__(self) -> None:
        if self.threshold < 1:
            raise ValueError(f"threshold: must be >= 1, got {self.threshold}")
        if not 0 < self.cooldown_s <= self.max_cooldown_s:
            raise ValueError(f"cooldown_s: must be in (0, max_cooldown_s={self.max_cooldown_s}], got {self.cooldown_s}")


@dataclass(frozen=True)
class Breaker:
    phase: BreakerPhase = BreakerPhase.CLOSED
    failures: int = 0
    """Consecutive failures."""
    opens: int = 0
    """Consecutive times it opened (drives the growing cool-down)."""
    retry_at: float = 0.0
    """Monotonic time when an open breaker lets a trial through."""


def allows(breaker: Breaker, now: float) -> bool:
    """May a request go to the camera at ``now``?"""
    return breaker.phase is not BreakerPhase.OPEN or now >= breaker.retry_at


def on_attempt(breaker: Breaker, now: float) -> Breaker:
    """A request is sent: an open breaker whose cool-down passed becomes half-open."""
    if breaker.phase is BreakerPhase.OPEN and now >= breaker.retry_at:
        return replace(breaker, phase=BreakerPhase.HALF_OPEN)
    return breaker


def on_result(breaker: Breaker, success: bool, now: float, policy: BreakerPolicy) -> Breaker:
    """The new state after a request finished (``success`` = the camera answered with a frame)."""
    if success:
        return Breaker()
    failures = breaker.failures + 1
    if breaker.phase is BreakerPhase.HALF_OPEN or failures >= policy.threshold:
        opens = breaker.opens + 1
        cooldown = min(policy.max_cooldown_s, policy.cooldown_s * 2 ** (opens - 1))
        return Breaker(BreakerPhase.OPEN, failures, opens, now + cooldown)
    return replace(breaker, failures=failures)


def backoff_s(attempt: int, uniform: float, *, base_s: float = 0.1, cap_s: float = 2.0) -> float:
    """Full-jitter delay before retry number ``attempt`` (0 = first retry); ``uniform`` in [0, 1)."""
    if attempt < 0 or not 0.0 <= uniform < 1.0:
        raise ValueError(f"attempt={attempt}, uniform={uniform}: need attempt >= 0 and 0 <= uniform < 1")
    return uniform * min(cap_s, base_s * 2**attempt)
