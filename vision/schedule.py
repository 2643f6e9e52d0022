"""Risk-driven sampling schedule: which cameras to fetch now, under a global frame budget.

Every decision takes the time as an argument (``now``, POSIX seconds) and reads
no clock, so a drill or a test replays it exactly.

- **Priorities.** A camera holds *claims*, one per reason (a red cell it sees,
  an open incident, a crest forecast, an operator's request), each with a
  priority 0-100 and an optional expiry; its priority is the highest live claim.
- **Intervals.** Weight = 2 ** (priority / 10). Rates are shared out by
  water-filling: rate_i = clamp(k * w_i, 1/max_interval, 1/min_interval) with k
  chosen (bisection) so the rates add up to the budget. Every camera is thus
  sampled at least once per ``max_interval_s`` (planned with a 10 % margin)
  and the budget is spent where the risk is; when ``n / max_interval_s`` exceeds the budget the guarantee
  cannot hold and :func:`allocate_intervals` says so (``feasible=False``).
- **Pacing.** A token bucket at the budget rate caps what is dispatched
  (never more than ``burst + budget * T`` in any window ``T``); due cameras go
  most-overdue first, so a backlog is served fairly.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

#: Priority of the cameras that see a cell of this colour (CellRisk); others drop back to 0.
PRIORITY_BY_COLOUR: Mapping[str, float] = {"red": 80.0, "orange": 50.0}
PRIORITY_OPEN_INCIDENT = 100.0
PRIORITY_CREST_FORECAST = 70.0


@dataclass(frozen=True)
class SchedulePolicy:
    budget_fps: float
    max_interval_s: float
    min_interval_s: float = 1.0
    burst_s: float = 0.5
    """Bucket depth in seconds of budget (how much a late tick may catch up at once)."""
    margin: float = 0.9
    """Cameras are planned at least every ``margin x max_interval_s``, so pacing jitter and a
    full budget never push a sample past ``max_interval_s``."""

    def __post_init__(self) -> None:
        if self.budget_fps <= 0:
            raise ValueError(f"budget_fps: must be > 0, got {self.budget_fps}")
        if not 0 < self.min_interval_s <= self.max_interval_s * self.margin:
            raise ValueError(f"min_interval_s: must be in (0, margin x max_interval_s="
                             f"{self.max_interval_s * self.margin}], got {self.min_interval_s}")


@dataclass(frozen=True)
class Claim:
    priority: float
    until: float | None = None
    """POSIX seconds after which the claim no longer counts (None = until withdrawn)."""


def effective_priority(claims: Iterable[Claim], now: float) -> float:
    """The highest priority among claims still live at ``now`` (0 if none)."""
    return max((c.priority for c in claims if c.until is None or now < c.until), default=0.0)


def weight_of(priority: float) -> float:
    """Sampling weight: doubles every 10 points of priority (0 -> 1, 50 -> 32, 100 -> 1024)."""
    if not 0.0 <= priority <= 100.0:
        raise ValueError(f"priority: must be in [0, 100], got {priority}")
    return 2.0 ** (priority / 10.0)


@dataclass(frozen=True)
class Allocation:
    intervals: dict[str, float]
    """Seconds between samples per camera."""
    feasible: bool
    """False when even max_interval for everyone exceeds the budget."""


def allocate_intervals(weights: Mapping[str, float], budget_fps: float, max_interval_s: float,
                       min_interval_s: float) -> Allocation:
    """Share ``budget_fps`` out over cameras in proportion to ``weights``, within the interval bounds."""
    if not weights:
        return Allocation({}, True)
    lo, hi = 1.0 / max_interval_s, 1.0 / min_interval_s
    n = len(weights)
    if n * lo >= budget_fps:
        return Allocation({c: max_interval_s for c in weights}, n * lo <= budget_fps * (1 + 1e-9))
    if n * hi <= budget_fps:
        return Allocation({c: min_interval_s for c in weights}, True)
    ws = list(weights.values())

    def total(k: float) -> float:
        return sum(min(hi, max(lo, k * w)) for w in ws)

    k_low, k_high = 0.0, hi / min(ws)
    for _ in range(60):
        k = (k_low + k_high) / 2
        if total(k) > budget_fps:
            k_high = k
        else:
            k_low = k
    return Allocation({c: 1.0 / min(hi, max(lo, k_low * w)) for c, w in weights.items()}, True)


@dataclass(frozen=True)
class Bucket:
    tokens: float
    updated: float


def refill(bucket: Bucket, now: float, rate: float, depth: float) -> Bucket:
    elapsed = max(0.0, now - bucket.updated)
    return Bucket(min(depth, bucket.tokens + elapsed * rate), max(now, bucket.updated))


def first_due(camera_id: str, interval_s: float, now: float) -> float:
    """A new camera's first sample, spread over one interval by a hash of its id (no thundering herd)."""
    phase = int.from_bytes(hashlib.blake2b(camera_id.encode(), digest_size=4).digest(), "big") / 2.0**32
    return now + phase * interval_s


def next_due(last_sampled: float | None, interval_s: float, current_due: float, now: float) -> float:
    """When a camera is due after its interval changed: at last + interval, but never in the past."""
    if last_sampled is None:
        return min(current_due, now + interval_s)
    return max(now, last_sampled + interval_s)


class Scheduler:
    """The sampling plan of one worker's cameras: deterministic, driven by ``now`` arguments.

    Holds mutable state (claims, due times, the bucket) but reads no clock and
    does no I/O; the sampler calls :meth:`take_due` every tick.
    """

    def __init__(self, policy: SchedulePolicy) -> None:
        self.policy = policy
        self.budget_fps = policy.budget_fps
        self.claims: dict[str, dict[str, Claim]] = {}
        self.intervals: dict[str, float] = {}
        self.last: dict[str, float | None] = {}
        self.due: dict[str, float] = {}
        self.feasible = True
        self._heap: list[tuple[float, str]] = []
        self._bucket = Bucket(0.0, 0.0)
        self._dirty = True
        self._next_expiry: float | None = None

    # -- inputs --------------------------------------------------------------------------
    def set_cameras(self, camera_ids: Iterable[str], now: float, budget_share: float = 1.0) -> None:
        """The cameras this worker owns now (after a rebalance) and its share of the global budget."""
        wanted = set(camera_ids)
        for gone in set(self.last) - wanted:
            del self.last[gone]
            self.due.pop(gone, None)
            self.intervals.pop(gone, None)
        for new in wanted - set(self.last):
            self.last[new] = None
        self.budget_fps = self.policy.budget_fps * max(0.0, min(1.0, budget_share))
        self._bucket = Bucket(min(self._bucket.tokens, self._depth()), self._bucket.updated or now)
        self._dirty = True

    def set_claim(self, camera_id: str, reason: str, claim: Claim | None) -> None:
        """Add, replace or (``claim=None`` or priority 0) withdraw one reason's claim on a camera."""
        held = self.claims.setdefault(camera_id, {})
        if claim is None or claim.priority <= 0:
            held.pop(reason, None)
            if not held:
                del self.claims[camera_id]
        else:
            held[reason] = claim
        self._dirty = True

    def priority(self, camera_id: str, now: float) -> float:
        return effective_priority(self.claims.get(camera_id, {}).values(), now)

    # -- decisions -----------------------------------------------------------------------
    def _depth(self) -> float:
        return max(1.0, self.budget_fps * self.policy.burst_s)

    def _replan(self, now: float) -> None:
        weights = {c: weight_of(self.priority(c, now)) for c in self.last}
        allocation = allocate_intervals(weights, self.budget_fps, self.policy.max_interval_s * self.policy.margin,
                                        self.policy.min_interval_s)
        self.feasible = allocation.feasible
        for camera_id, interval in allocation.intervals.items():
            if self.intervals.get(camera_id) == interval and camera_id in self.due:
                continue
            self.intervals[camera_id] = interval
            current = self.due.get(camera_id)
            due = first_due(camera_id, interval, now) if current is None else \
                next_due(self.last[camera_id], interval, current, now)
            self.due[camera_id] = due
            heapq.heappush(self._heap, (due, camera_id))
        expiries = [c.until for held in self.claims.values() for c in held.values()
                    if c.until is not None and c.until > now]
        self._next_expiry = min(expiries, default=None)
        self._dirty = False

    def take_due(self, now: float, limit: int) -> list[tuple[str, float]]:
        """(camera, due time) to fetch now, most overdue first, at most ``limit`` and what the budget allows."""
        if self._dirty or (self._next_expiry is not None and now >= self._next_expiry):
            self._replan(now)
        self._bucket = refill(self._bucket, now, self.budget_fps, self._depth())
        allowed = min(limit, int(self._bucket.tokens))
        taken: list[tuple[str, float]] = []
        while self._heap and len(taken) < allowed and self._heap[0][0] <= now:
            due, camera_id = heapq.heappop(self._heap)
            if self.due.get(camera_id) != due:
                continue  # stale heap entry (rescheduled or no longer owned)
            taken.append((camera_id, due))
            self.last[camera_id] = now
            self.due[camera_id] = now + self.intervals[camera_id]
            heapq.heappush(self._heap, (self.due[camera_id], camera_id))
        self._bucket = Bucket(self._bucket.tokens - len(taken), self._bucket.updated)
        if len(self._heap) > 4 * len(self.due) + 64:  # drop stale entries so memory stays bounded
            self._heap = [(d, c) for c, d in self.due.items()]
            heapq.heapify(self._heap)
        return taken

    def overdue(self, now: float) -> int:
        """Cameras whose due time has passed (a backlog the budget or concurrency did not serve)."""
        return sum(1 for d in self.due.values() if d < now)


def cameras_for_cells(cells: Iterable[str], coverage: Mapping[str, Iterable[str]]) -> set[str]:
    """Every camera that sees any of ``cells`` (``coverage``: cell code -> camera ids)."""
    return {camera for cell in cells for camera in coverage.get(cell, ())}
