"""Risk-driven sampling schedule: which cameras to fetch now, under a global frame budget.

Every decision takes the time as an argument (``now``, POSIX seconds) and reads
no clock, so a drill or a test replays it exactly.

- **Priorities.** A camera holds *claims*, one per reason (a red cell it sees,
  an open incident, a crest forecast, an operator's request), each with a
  priority 0-100 and an optional expiry; its priority is the highest live claim.
  A camera with a live claim is *claimed*.
- **Intervals.** Weight = 2 ** (priority / 10). Rates are shared out by
  water-filling: rate_i = clamp(k * w_i, 1/max_interval, 1/min_interval) with k
  chosen (bisection) so the rates add up to the plan. Every camera is thus
  planned at least once per ``max_interval_s`` (with a 10 % margin) and the
  budget is spent where the risk is. The plan is the budget less a *headroom*
  (10 % of what the budget gives above that floor), so a burst of raises or a
  cluster of due cameras drains instead of leaving the lowest priorities behind
  for good. When ``n / (margin x max_interval_s)`` exceeds the budget the
  guarantee cannot hold: the scheduler says so (``feasible=False``) and plans
  every camera at that longest interval.
- **Pacing and urgency.** A token bucket at the budget rate caps what is
  dispatched (never more than ``depth + budget * T`` in any window ``T``). Due
  cameras are served by urgency: the highest priority first, then the most
  overdue. So when the sampler can do less than the plan (``take_due``'s
  ``limit``), the claimed cameras keep their planned intervals as long as the
  capacity covers them, and the unclaimed ones share what is left, round robin.
- **Re-plans.** Claim changes re-plan once, on the next
  :meth:`Scheduler.take_due` (a claim re-sent unchanged is no change). A
  re-plan never makes a camera due later than it already was: a new interval
  moves its due time to ``last + interval`` only if that is earlier.
- **Starvation-freedom.** While the sampler takes what the budget allows (its
  capacity covers the plan and its headroom), no camera waits longer than
  ``LATE_FACTOR`` x its planned interval + ``burst_s``, and none longer than
  ``max_interval_s``; :meth:`Scheduler.health` counts the cameras that do when
  it is not.
"""

from __future__ import annotations

import hashlib
import heapq
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

#: Priority of the cameras that see a cell of this colour (CellRisk); others drop back to 0.
PRIORITY_BY_COLOUR: Mapping[str, float] = {"red": 80.0, "orange": 50.0}
PRIORITY_OPEN_INCIDENT = 100.0
PRIORITY_CREST_FORECAST = 70.0
LATE_FACTOR = 1.5
"""While capacity covers the plan, no camera waits longer than this x its planned interval + ``burst_s``."""
MIN_DEPTH_FRAMES = 10.0
"""The bucket holds at least this many frames, so a lull between due cameras does not waste a small budget."""
RATE_WINDOW_S = 10.0
"""Window over which :meth:`Scheduler.health` measures the dispatched rate."""


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
    headroom: float = 0.1
    """Share of the budget above the max-interval floor left out of the plan, for catching up."""

    def __post_init__(self) -> None:
        if self.budget_fps <= 0:
            raise ValueError(f"budget_fps: must be > 0, got {self.budget_fps}")
        if not 0 < self.min_interval_s <= self.max_interval_s * self.margin:
            raise ValueError(f"min_interval_s: must be in (0, margin x max_interval_s="
                             f"{self.max_interval_s * self.margin}], got {self.min_interval_s}")
        if not 0 <= self.headroom < 1:
            raise ValueError(f"headroom: must be in [0, 1), got {self.headroom}")


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
    groups = Counter(weights.values())  # few distinct weights: the bisection costs nothing per camera

    def total(k: float) -> float:
        return sum(count * min(hi, max(lo, k * w)) for w, count in groups.items())

    k_low, k_high = 0.0, hi / min(groups)
    for _ in range(60):
        k = (k_low + k_high) / 2
        if total(k) > budget_fps:
            k_high = k
        else:
            k_low = k
    interval_of = {w: 1.0 / min(hi, max(lo, k_low * w)) for w in groups}
    return Allocation({c: interval_of[w] for c, w in weights.items()}, True)


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
    """When a camera is due after its interval changed: ``last + interval`` (``now + interval`` if
    never sampled), but never later than it was already due — a re-plan never delays a camera."""
    start = now if last_sampled is None else last_sampled
    return min(current_due, start + interval_s)


@dataclass(frozen=True)
class ScheduleHealth:
    """How far sampling keeps up with the plan, at one moment (:meth:`Scheduler.health`)."""

    cameras: int
    claimed: int
    planned_fps: float
    """What the plan dispatches per second (the budget share, when it is spent)."""
    served_fps: float
    """What was dispatched per second over the last ``RATE_WINDOW_S``."""
    claimed_behind: int
    """Claimed cameras waiting longer than ``LATE_FACTOR`` x their planned interval + ``burst_s``."""
    past_max_interval: int
    """Cameras waiting longer than ``max_interval_s`` (the guarantee broken)."""
    worst_wait_s: float
    """The longest any camera has waited since its last sample (or since it was added)."""
    feasible: bool
    """False when the budget cannot give every camera ``max_interval_s``."""

    @property
    def short(self) -> bool:
        """Sampling does not keep the plan's promises (reported as a metric and on the wall)."""
        return self.claimed_behind > 0 or self.past_max_interval > 0 or not self.feasible


class Scheduler:
    """The sampling plan of one worker's cameras: deterministic, driven by ``now`` arguments.

    Holds mutable state (claims, due times, the bucket) but reads no clock and
    does no I/O; the sampler calls :meth:`take_due` every tick.
    """

    def __init__(self, policy: SchedulePolicy) -> None:
        self.policy = policy
        self.budget_fps = policy.budget_fps
        self.claims: dict[str, dict[str, Claim]] = {}
        self.priorities: dict[str, float] = {}
        """Effective priority of each claimed owned camera at the last plan (others: 0)."""
        self.intervals: dict[str, float] = {}
        self.last: dict[str, float | None] = {}
        self.since: dict[str, float] = {}
        """When each camera was last sampled, or added if never."""
        self.due: dict[str, float] = {}
        self.feasible = True
        self.plans = 0
        """Re-plans so far (claim updates between two ticks make one)."""
        self._waiting: list[tuple[float, str]] = []
        """(due, camera) of cameras not yet due: a timer."""
        self._ready: list[tuple[float, float, str]] = []
        """(-priority, due, camera) of due cameras: served most urgent first."""
        self._served: deque[tuple[float, int]] = deque()
        self._bucket = Bucket(0.0, 0.0)
        self._dirty = True
        self._added = True
        self._unclaimed_interval: float | None = None
        self._next_expiry: float | None = None

    # -- inputs --------------------------------------------------------------------------
    def set_cameras(self, camera_ids: Iterable[str], now: float, budget_share: float = 1.0) -> None:
        """The cameras this worker owns now (after a rebalance) and its share of the global budget."""
        wanted = set(camera_ids)
        for gone in set(self.last) - wanted:
            for table in (self.last, self.since, self.due, self.intervals, self.priorities):
                table.pop(gone, None)
        for new in wanted - set(self.last):
            self.last[new] = None
            self.since[new] = now
            self._added = True
        self.budget_fps = self.policy.budget_fps * max(0.0, min(1.0, budget_share))
        self._bucket = Bucket(min(self._bucket.tokens, self._depth()), self._bucket.updated or now)
        self._dirty = True

    def set_claim(self, camera_id: str, reason: str, claim: Claim | None) -> None:
        """Add, replace or (``claim=None`` or priority 0) withdraw one reason's claim on a camera.

        Re-sending the claim a camera already holds changes nothing (no re-plan).
        """
        held = self.claims.get(camera_id, {})
        if claim is None or claim.priority <= 0:
            if reason not in held:
                return
            del held[reason]
            if not held:
                del self.claims[camera_id]
        elif held.get(reason) == claim:
            return
        else:
            self.claims.setdefault(camera_id, held)[reason] = claim
        self._dirty = True

    def priority(self, camera_id: str, now: float) -> float:
        return effective_priority(self.claims.get(camera_id, {}).values(), now)

    def urgency(self, camera_id: str) -> tuple[float, float]:
        """A camera's place in the queue once due, as planned: (-priority, due time); lower goes first."""
        return -self.priorities.get(camera_id, 0.0), self.due[camera_id]

    # -- decisions -----------------------------------------------------------------------
    def _depth(self) -> float:
        return max(MIN_DEPTH_FRAMES, self.budget_fps * self.policy.burst_s)

    def replan(self, now: float) -> None:
        """Re-share the budget after claims, cameras or the budget changed (``take_due`` calls it)."""
        priorities = {c: p for c in self.claims if c in self.last and (p := self.priority(c, now)) > 0}
        weights = dict.fromkeys(self.last, 1.0) | {c: weight_of(p) for c, p in priorities.items()}
        longest = self.policy.max_interval_s * self.policy.margin
        floor = len(weights) / longest  # every camera at the longest planned interval
        plan = min(self.budget_fps, floor + (1 - self.policy.headroom) * max(0.0, self.budget_fps - floor))
        allocation = allocate_intervals(weights, plan, longest, self.policy.min_interval_s)
        self.feasible = allocation.feasible
        unclaimed = next((allocation.intervals[c] for c in self.last if c not in priorities), None)
        if unclaimed == self._unclaimed_interval and not self._added:
            touched: Iterable[str] = priorities.keys() | self.priorities.keys()  # nobody else changed
        else:
            touched = allocation.intervals
        for camera_id in touched:
            interval = allocation.intervals.get(camera_id)
            priority, was = priorities.get(camera_id, 0.0), self.priorities.get(camera_id, 0.0)
            if interval is None or (self.intervals.get(camera_id) == interval and priority == was):
                continue  # gone, or unchanged
            self.intervals[camera_id] = interval
            current = self.due.get(camera_id)
            self.due[camera_id] = first_due(camera_id, interval, now) if current is None else \
                next_due(self.last[camera_id], interval, current, now)
            heapq.heappush(self._waiting, (self.due[camera_id], camera_id))  # released by urgency when due
        self.priorities, self._unclaimed_interval, self._added = priorities, unclaimed, False
        expiries = [c.until for held in self.claims.values() for c in held.values()
                    if c.until is not None and c.until > now]
        self._next_expiry = min(expiries, default=None)
        self._dirty = False
        self.plans += 1

    def take_due(self, now: float, limit: int) -> list[tuple[str, float]]:
        """(camera, due time) to fetch now, most urgent first (highest priority, then most overdue),
        at most ``limit`` and what the budget allows."""
        if self._dirty or (self._next_expiry is not None and now >= self._next_expiry):
            self.replan(now)
        self._bucket = refill(self._bucket, now, self.budget_fps, self._depth())
        allowed = min(limit, int(self._bucket.tokens))
        while self._waiting and self._waiting[0][0] <= now:
            due, camera_id = heapq.heappop(self._waiting)
            if self.due.get(camera_id) == due:
                heapq.heappush(self._ready, (-self.priorities.get(camera_id, 0.0), due, camera_id))
        taken: list[tuple[str, float]] = []
        while self._ready and len(taken) < allowed:
            negative, due, camera_id = heapq.heappop(self._ready)
            if self.due.get(camera_id) != due or self.priorities.get(camera_id, 0.0) != -negative:
                continue  # stale entry: re-planned since, or no longer owned
            taken.append((camera_id, due))
            self.last[camera_id] = self.since[camera_id] = now
            self.due[camera_id] = now + self.intervals[camera_id]
            heapq.heappush(self._waiting, (self.due[camera_id], camera_id))
        self._bucket = Bucket(self._bucket.tokens - len(taken), self._bucket.updated)
        self._count_served(now, len(taken))
        if len(self._waiting) + len(self._ready) > 4 * len(self.due) + 64:
            self._compact(now)
        return taken

    def _count_served(self, now: float, n: int) -> None:
        if n:
            self._served.append((now, n))
        while self._served and self._served[0][0] <= now - RATE_WINDOW_S:
            self._served.popleft()

    def _compact(self, now: float) -> None:
        """Drop stale heap entries so memory stays bounded."""
        self._waiting = [(d, c) for c, d in self.due.items() if d > now]
        self._ready = [(-self.priorities.get(c, 0.0), d, c) for c, d in self.due.items() if d <= now]
        heapq.heapify(self._waiting)
        heapq.heapify(self._ready)

    def overdue(self, now: float) -> int:
        """Cameras whose due time has passed (a backlog the budget or concurrency did not serve)."""
        return sum(1 for d in self.due.values() if d < now)

    def health(self, now: float) -> ScheduleHealth:
        """Whether sampling keeps the plan at ``now``: what it should and did dispatch, who waits too long."""
        self._count_served(now, 0)
        waits = {c: now - t for c, t in self.since.items()}
        slack = self.policy.burst_s
        behind = sum(1 for c in self.priorities if waits[c] > LATE_FACTOR * self.intervals[c] + slack)
        return ScheduleHealth(
            cameras=len(self.last), claimed=len(self.priorities),
            planned_fps=sum(1.0 / v for v in self.intervals.values()),
            served_fps=sum(n for _, n in self._served) / RATE_WINDOW_S,
            claimed_behind=behind,
            past_max_interval=sum(1 for w in waits.values() if w > self.policy.max_interval_s),
            worst_wait_s=max(waits.values(), default=0.0), feasible=self.feasible)


def cameras_for_cells(cells: Iterable[str], coverage: Mapping[str, Iterable[str]]) -> set[str]:
    """Every camera that sees any of ``cells`` (``coverage``: cell code -> camera ids)."""
    return {camera for cell in cells for camera in coverage.get(cell, ())}
