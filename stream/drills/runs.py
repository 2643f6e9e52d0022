"""A finished drill's incidents, kept in its run directory, and the fingerprint that compares two runs.

A drill's broker (the embedded one) stops with the drill, so the drill saves every
message of its incidents topic, in the order read, to
``<run dir>/drill-<run id>/incidents.jsonl`` (one wire event a line). ``amur
alerts list|cap --drill RUN_ID`` read that file when it is there.

:func:`fingerprint` is what "the same drill gives the same alerts" means: the
incidents in the order they were raised (event time, then id), with the same ids;
each with the same revisions in the same order (what changed, colour, state,
escalation, event time, assignee, CAP references); and the last revision the same
in every field, lists whose order is not a result (:data:`ORDER_FREE`) compared
as sets. Nothing is left out as wall-clock (:data:`WALL_CLOCK_FIELDS` is empty).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

import msgspec

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


ORDER_FREE = ("evidence", "cells", "cameras", "grid_path", "notifications")
"""Lists whose order is not part of a drill's result: pieces of the same event time reach the fusion
through different partitions (one cell risk per grid cell), in whatever order the worker reads them."""

SUMMARY = ("revision", "change", "colour", "state", "escalation_level", "event_time", "raised_at", "assignee",
           "responsible", "merged_into", "cap_refs")
"""What every revision of an incident is compared by."""


def canonical(incident: schemas.IncidentChanged) -> schemas.IncidentChanged:
    """The incident with its order-free lists sorted (what a CAP document is compared by)."""
    return msgspec.structs.replace(
        incident, evidence=sorted(incident.evidence, key=lambda e: (e.event_time, e.evidence_id, e.kind)),
        cells=sorted(incident.cells), cameras=sorted(incident.cameras))


def incident_stream(events: Iterable[schemas.IncidentChanged]) -> list[dict]:
    """Incidents in the order raised (event time, id): each revision's :data:`SUMMARY` in order, then the
    last revision in full with its :data:`ORDER_FREE` lists sorted; no wall-clock field."""
    by_id: dict[str, list[schemas.IncidentChanged]] = {}
    for event in events:
        by_id.setdefault(event.incident_id, []).append(event)
    first = {i: min(revs, key=lambda e: e.revision) for i, revs in by_id.items()}
    out = []
    for incident_id in sorted(by_id, key=lambda i: (first[i].raised_at or first[i].event_time, i)):
        revisions = sorted(by_id[incident_id], key=lambda e: e.revision)
        steps = [{k: v for k, v in schemas.to_builtins(e).items() if k in SUMMARY} for e in revisions]
        last = schemas.to_builtins(revisions[-1])
        final = {k: sorted(v, key=json.dumps) if k in ORDER_FREE else v for k, v in last.items()}
        out.append({"incident_id": incident_id, "revisions": steps,
                    "final": {k: v for k, v in final.items() if k not in WALL_CLOCK_FIELDS}})
    return out


def fingerprint(events: Iterable[schemas.IncidentChanged]) -> str:
    """SHA-256 of :func:`incident_stream` as canonical JSON."""
    canonical = json.dumps(incident_stream(events), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
