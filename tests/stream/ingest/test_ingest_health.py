"""Source health: stale after factor x cadence of silence, live again on return."""

from __future__ import annotations

from stream.ingest.health import Watched, health_changes, should_record, source_state
from stream.schemas import SourceState

FACTOR = 3.0


def test_stale_only_after_more_than_factor_times_cadence() -> None:
    w = Watched("s", cadence_s=10.0, last_seen=1000.0)
    assert source_state(w, 0.0, FACTOR, now=1030.0) is SourceState.LIVE
    assert source_state(w, 0.0, FACTOR, now=1030.001) is SourceState.STALE


def test_never_seen_source_has_a_grace_from_watch_start() -> None:
    w = Watched("s", cadence_s=10.0, last_seen=None)
    assert source_state(w, 500.0, FACTOR, now=520.0) is None
    assert source_state(w, 500.0, FACTOR, now=531.0) is SourceState.STALE


def test_changes_only_are_published_and_return_clears_stale() -> None:
    silent = Watched("s", cadence_s=10.0, last_seen=1000.0)
    first = health_changes([silent], {}, 0.0, FACTOR, now=1031.0)
    assert [(e.source_id, e.state) for e in first] == [("s", SourceState.STALE)]
    assert first[0].last_seen is not None and first[0].last_seen.timestamp() == 1000.0
    assert health_changes([silent], {"s": SourceState.STALE}, 0.0, FACTOR, now=1100.0) == []
    back = Watched("s", cadence_s=10.0, last_seen=1101.0)
    again = health_changes([back], {"s": SourceState.STALE}, 0.0, FACTOR, now=1102.0)
    assert [(e.state, e.event_time.timestamp()) for e in again] == [(SourceState.LIVE, 1102.0)]


def test_last_seen_is_recorded_at_most_once_per_resolution() -> None:
    assert should_record(None, 5.0)
    assert not should_record(5.0, 5.5)
    assert should_record(5.0, 6.0)
