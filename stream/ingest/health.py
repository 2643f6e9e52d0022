"""Source health: a source silent for more than ``factor`` x its cadence is stale.

Pure decisions with ``now`` passed in (epoch seconds of arrival, the worker's
clock: "silent" means nothing arrived, whatever the readings' event times say).
A worker evaluates the sources whose raw-ingest partition it owns and publishes
a :class:`SourceHealth` only when a source's state changes (and once for every
source it starts watching, so a new owner of a partition states what it sees).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from stream.schemas import SourceHealth, SourceState

HEALTH_SOURCE = "amur.ingest"
"""The ``source`` of the SourceHealth events Amur itself publishes."""


@dataclass(frozen=True, slots=True)
class Watched:
    """One source under watch: its cadence and when it last delivered anything."""

    source_id: str
    cadence_s: float
    last_seen: float | None
    """Epoch seconds of the last accepted arrival; None if never seen."""


def source_state(watched: Watched, watching_since: float, factor: float, now: float) -> SourceState | None:
    """Stale once silent for more than ``factor`` x cadence; None while a never-seen source is in its grace."""
    limit = factor * watched.cadence_s
    if watched.last_seen is None:
        return SourceState.STALE if now - watching_since > limit else None
    return SourceState.STALE if now - watched.last_seen > limit else SourceState.LIVE


def health_changes(watched: Iterable[Watched], published: Mapping[str, SourceState], watching_since: float,
                   factor: float, now: float) -> list[SourceHealth]:
    """The SourceHealth events to publish: sources whose state differs from what was published."""
    events = []
    at = _utc(now)
    for w in watched:
        state = source_state(w, watching_since, factor, now)
        if state is not None and published.get(w.source_id) is not state:
            events.append(SourceHealth(source=HEALTH_SOURCE, event_time=at, source_id=w.source_id, state=state,
                                       last_seen=None if w.last_seen is None else _utc(w.last_seen),
                                       cadence_s=w.cadence_s))
    return events


def should_record(previous: float | None, now: float, resolution_s: float = 1.0) -> bool:
    """Whether a new arrival must be written to the last-seen table (at most once per resolution)."""
    return previous is None or now - previous >= resolution_s


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc)
