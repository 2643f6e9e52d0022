"""A token bucket for operator commands: pure, with the time passed in.

Kept by hand: aiolimiter's leaky bucket reads the event loop's clock and waits for
capacity instead of refusing, and limits and pyrate-limiter count windows rather
than refill a bucket, so none gives this burst-then-refill refusal at a time the
gateway passes in (tests/command_ui/test_ui_ratelimit.py pins both down).
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class Bucket:
    """``tokens`` available at time ``at`` (seconds, any monotonic origin)."""

    tokens: float
    at: float


@dataclass(frozen=True, slots=True)
class RateLimit:
    per_second: float
    burst: int

    def full(self, now: float) -> Bucket:
        return Bucket(float(self.burst), now)

    def available(self, bucket: Bucket, now: float) -> float:
        """Tokens in ``bucket`` at ``now`` (refilled since it was last used)."""
        return min(float(self.burst), bucket.tokens + max(0.0, now - bucket.at) * self.per_second)

    def take(self, bucket: Bucket, now: float) -> tuple[bool, Bucket]:
        """Whether one command may pass at ``now``, and the bucket after it."""
        elapsed = max(0.0, now - bucket.at)
        tokens = min(float(self.burst), bucket.tokens + elapsed * self.per_second)
        if tokens >= 1.0:
            return True, Bucket(tokens - 1.0, now)
        return False, replace(bucket, tokens=tokens, at=now)
