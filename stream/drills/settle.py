"""When a drill is done: its worker has processed everything the drill fed it.

The drill's worker runs every agent module, and between them its agents consume
every topic of the drill's namespace (the projection alone reads each one). The
drill is done when the worker's consumer group has committed the end offset of
every partition of every one of those topics (consumer lag 0 on all of them),
and has kept it so, with nothing new produced on any of them, for a hold of at
least two intervals of the workers' timers. The timers act on what the agents
have already committed — the risk scorer rescores the grid, the ingest watch
judges source silence, the leader ticks the incident areas and the dispatch
partitions — so their output
comes after the lag first reaches 0; the hold gives each of them a full interval
to run, and anything they send starts the hold again. (The hold is the one
wall-clock part: a timer whose single run outlasts its interval could still
send after the drill ended; ``--settle`` lengthens it.) How quiet the incidents
topic has been says nothing: a worker that is late, or slow on a busy machine,
is quiet too.

A drill that is not done by its timeout stops anyway, and its report says so,
with the lag per topic it left.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum

from stream import schemas, topics
from stream.errors import AmurError
from stream.settings import Settings


class Verdict(Enum):
    WAITING = "waiting"
    DONE = "done"
    TIMED_OUT = "timed_out"


@dataclass(frozen=True, slots=True)
class Settling:
    """The wait for the pipeline, as a pure decision: times are the caller's clock, in seconds."""

    hold_s: float
    timeout_s: float
    started: float
    zero_since: float | None = None
    """Since when the lag has been 0 everywhere with nothing new produced (None: it is not)."""
    produced: Mapping[str, int] | None = None
    """The end offsets (summed per topic) at the previous measurement."""

    def observe(self, lag: Mapping[str, int] | None, produced: Mapping[str, int] | None,
                now: float) -> tuple[Settling, Verdict]:
        """One measurement at ``now``: lag and end offsets per topic (None: they could not be measured)."""
        drained = lag is not None and not any(lag.values())
        if not drained:
            zero_since = None
        elif produced is not None and produced == self.produced and self.zero_since is not None:
            zero_since = self.zero_since  # still 0, and nothing new since the last measurement
        else:
            zero_since = now
        state = replace(self, zero_since=zero_since, produced=produced)
        if state.zero_since is not None and now - state.zero_since >= self.hold_s:
            return state, Verdict.DONE
        if now - self.started >= self.timeout_s:
            return state, Verdict.TIMED_OUT
        return state, Verdict.WAITING


@dataclass(frozen=True, slots=True)
class CatchUp:
    """How the wait ended: ``complete`` unless it timed out; ``lag`` per topic at the last measurement."""

    complete: bool
    timeout_s: float
    lag: dict[str, int] = field(default_factory=dict)
    """Topic (short name, e.g. ``ingest.raw``) -> messages not processed; empty when never measured."""

    @property
    def unprocessed(self) -> int:
        return sum(self.lag.values())


def lag_note(lag: Mapping[str, int] | None, shown: int = 3) -> str:
    """The lag for a progress line: the total and the topics furthest behind."""
    if lag is None:
        return "lag unknown"
    behind = sorted(((n, name) for name, n in lag.items() if n), key=lambda item: (-item[0], item[1]))
    if not behind:
        return "lag 0"
    parts = ", ".join(f"{name} {n:,}" for n, name in behind[:shown])
    return f"lag {sum(n for n, _ in behind):,}: {parts}" + (", ..." if len(behind) > shown else "")


#: The settings of the worker timers that send after their input was committed (see the module docstring).
WORKER_TIMERS = ("incident_tick_s", "dispatch_tick_s", "gis_rescore_interval_s", "ingest_health_interval_s")


def hold_for(settle_s: float, settings: Settings) -> float:
    """The drill's ``--settle``, but at least two intervals of the slowest worker timer."""
    return max(settle_s, 2 * max(getattr(settings, name, 0.0) for name in WORKER_TIMERS))


async def catch_up(settings: Settings, *, hold_s: float, timeout_s: float, poll_s: float = 1.0,
                   on_lag: Callable[[dict[str, int] | None], None] | None = None) -> CatchUp:
    """Wait until the drill's worker has processed every message of its namespace, or ``timeout_s``.

    ``on_lag`` is told each measurement (None when the broker did not answer).
    """
    from aiokafka.errors import KafkaError

    from stream.runtime.admin import bootstrap_servers
    from stream.runtime.app import kafka_url
    from stream.runtime.kafkaauth import client_options
    from stream.runtime.offsets import GroupLag, lag_per_topic

    short = {topics.topic_name(spec, settings.drill_id): spec.name for spec in topics.ALL}
    state = Settling(hold_s, timeout_s, started=time.monotonic())
    last: dict[str, int] = {}
    async with GroupLag(bootstrap_servers(kafka_url(settings)), settings.effective_app_id, list(short),
                        options=client_options(settings)) as group:
        while True:
            try:
                committed, ends = await group.offsets()
                lag: dict[str, int] | None = {short[name]: n for name, n in lag_per_topic(committed, ends).items()}
                produced: dict[str, int] | None = {name: sum(n for tp, n in ends.items() if tp.topic == name)
                                                   for name in short}
            except (AmurError, KafkaError, asyncio.TimeoutError):
                lag = produced = None
            if on_lag is not None:
                on_lag(lag)
            last = lag if lag is not None else last
            state, verdict = state.observe(lag, produced, time.monotonic())
            if verdict is not Verdict.WAITING:
                return CatchUp(complete=verdict is Verdict.DONE, timeout_s=timeout_s, lag=last)
            await asyncio.sleep(poll_s)


async def settled_events(settings: Settings, *, hold_s: float, timeout_s: float, poll_s: float = 1.0,
                         on_lag: Callable[[dict[str, int] | None], None] | None = None,
                         ) -> tuple[CatchUp, list[schemas.IncidentChanged]]:
    """:func:`catch_up`, then every message of the drill's incidents topic (none if it has no topic yet)."""
    from stream.cli.alerts import read_incidents

    caught = await catch_up(settings, hold_s=hold_s, timeout_s=timeout_s, poll_s=poll_s, on_lag=on_lag)
    try:
        events = await read_incidents(settings, settings.drill_id)
    except AmurError:
        events = []
    return caught, events


async def settled_incidents(settings: Settings, *, hold_s: float, timeout_s: float, poll_s: float = 1.0,
                            on_lag: Callable[[dict[str, int] | None], None] | None = None,
                            ) -> tuple[CatchUp, list[schemas.IncidentChanged]]:
    """:func:`settled_events`, the latest revision of every incident."""
    from stream.cli.alerts import latest_revisions

    caught, events = await settled_events(settings, hold_s=hold_s, timeout_s=timeout_s, poll_s=poll_s, on_lag=on_lag)
    return caught, list(latest_revisions(events).values())
