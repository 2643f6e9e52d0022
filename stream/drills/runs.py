"""A finished drill's incidents, kept in its run directory, and the fingerprint that compares two runs.

A drill's broker (the embedded one) stops with the drill, so the drill saves every
message of its incidents topic, in the order read, to
``<run dir>/drill-<run id>/incidents.jsonl`` (one wire event a line). ``amur
alerts list|cap --drill RUN_ID`` read that file when it is there.

:func:`fingerprint` is what "the same drill gives the same alerts" means: the
incidents in the order they were raised (event time, then id), each with every
revision in order, every field included except :data:`WALL_CLOCK_FIELDS`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from stream import schemas
from stream.errors import InvalidEvent
from stream.settings import Settings

INCIDENTS_FILE = "incidents.jsonl"

WALL_CLOCK_FIELDS: frozenset[str] = frozenset()
"""Fields of an incident message taken from the wall clock in a drill: none (every time is event time)."""


def run_dir_of(settings: Settings, run_id: str) -> Path:
    return settings.run_dir / f"drill-{run_id}"


def save_incidents(run_dir: Path, events: Iterable[schemas.IncidentChanged]) -> Path:
    path = run_dir / INCIDENTS_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(b"".join(schemas.encode(e) + b"\n" for e in events))
    tmp.replace(path)
    return path


def saved_incidents(settings: Settings, run_id: str) -> list[schemas.IncidentChanged] | None:
    """The incident messages a finished drill saved, or None if there is no such file."""
    path = run_dir_of(settings, run_id) / INCIDENTS_FILE
    if not path.exists():
        return None
    events = []
    for line in path.read_bytes().splitlines():
        try:
            events.append(schemas.decode(schemas.IncidentChanged, line))
        except InvalidEvent:
            continue
    return events


def incident_stream(events: Iterable[schemas.IncidentChanged]) -> list[dict]:
    """Every revision, incidents in the order raised (event time, id), revisions in order; no wall-clock field."""
    by_id: dict[str, list[schemas.IncidentChanged]] = {}
    for event in events:
        by_id.setdefault(event.incident_id, []).append(event)
    first = {i: min(revs, key=lambda e: e.revision) for i, revs in by_id.items()}
    order = sorted(by_id, key=lambda i: (first[i].raised_at or first[i].event_time, i))
    out = []
    for incident_id in order:
        for event in sorted(by_id[incident_id], key=lambda e: e.revision):
            record = schemas.to_builtins(event)
            out.append({k: v for k, v in record.items() if k not in WALL_CLOCK_FIELDS})
    return out


def fingerprint(events: Iterable[schemas.IncidentChanged]) -> str:
    """SHA-256 of :func:`incident_stream` as canonical JSON."""
    canonical = json.dumps(incident_stream(events), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
