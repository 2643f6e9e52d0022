"""The read-side projection: a wire event -> the Redis writes that show it.

Pure: :func:`project` maps one decoded event to a :class:`Projection` (which
current-state entries to set or delete, which series to extend, which counters
to bump); ``stream.agents.projection`` applies it. Redis is a projection for
readers (the gateway), never the only copy of a decision.

Layout under the settings' ``redis_prefix`` (see :class:`Keys`):

- ``state:{channel}`` - hash key -> JSON of the current state of that entry;
- ``seq:{channel}`` - the channel's last sequence number (an integer);
- ``updates:{channel}`` - a bounded stream of every change, entry id ``{seq}-0``
  with fields ``k`` (key) and ``d`` (JSON, empty for a deletion);
- ``series:gauge:{id}`` / ``series:crest:{id}`` - bounded streams for hydrographs;
- ``state:requests`` - open dispatched requests (``RequestChanged``), for the grid-events panel;
- ``counters`` - hash of event counts (``events``, ``events:{kind}``, ``deadletter:{topic}``);
- ``open311:status`` - hash service request id -> JSON of its GeoReport status
  (``status`` open/closed, ``status_notes``, ``updated_datetime``), from the
  incident its report became evidence of; the Open311 API lays it over the stored request.

A state write and its update are one atomic step (a Lua script in the agent),
so a reader's snapshot and the sequence number it reads always agree.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

import orjson

from stream import schemas
from stream.incidents.evidence import REPORT_EVIDENCE


class Channel(enum.StrEnum):
    """A projected stream of current state (one hash, one sequence, one update stream)."""

    INCIDENTS = "incidents"
    CELLS = "cells"
    GAUGES = "gauges"
    CRESTS = "crests"
    FORECASTS = "forecasts"
    CAMERAS = "cameras"
    CAMERA_FAULTS = "camera_faults"
    SOURCES = "sources"
    SAMPLING = "sampling"
    """Per camera sampler: how it keeps up with its sampling plan (a stopped sampler's entry is deleted)."""
    REQUESTS = "requests"
    """Dispatched grid requests not yet closed (a closed request's entry is deleted)."""


#: Findings that say something about the camera itself, not the scene.
CAMERA_HEALTH_KINDS = frozenset({
    schemas.FindingKind.OFFLINE, schemas.FindingKind.FROZEN, schemas.FindingKind.DARK,
    schemas.FindingKind.OVEREXPOSED, schemas.FindingKind.BLURRED, schemas.FindingKind.COVERED,
    schemas.FindingKind.MOVED, schemas.FindingKind.CORRUPT, schemas.FindingKind.AUTH_FAILED,
    schemas.FindingKind.CLOCK_OFFSET,
})


@dataclass(frozen=True, slots=True)
class Keys:
    """Redis key names under one prefix (``amur:`` or a drill's own)."""

    prefix: str

    def state(self, channel: Channel) -> str:
        return f"{self.prefix}state:{channel.value}"

    def seq(self, channel: Channel) -> str:
        return f"{self.prefix}seq:{channel.value}"

    def updates(self, channel: Channel) -> str:
        return f"{self.prefix}updates:{channel.value}"

    def gauge_series(self, gauge_id: str) -> str:
        return f"{self.prefix}series:gauge:{gauge_id}"

    def crest_series(self, gauge_id: str) -> str:
        return f"{self.prefix}series:crest:{gauge_id}"

    def thumbnail(self, camera_id: str) -> str:
        """Written by the camera sampler: the latest JPEG of a camera, with a TTL."""
        return f"{self.prefix}thumb:{camera_id}"

    @property
    def epoch(self) -> str:
        """Written with every projection batch if absent: gone while a worker runs = Redis lost its data."""
        return f"{self.prefix}projection:epoch"

    @property
    def counters(self) -> str:
        return f"{self.prefix}counters"

    @property
    def report_status(self) -> str:
        """Open311 request id -> its status from the incident it is evidence of (read by ``stream.ingest.http.open311``)."""
        return f"{self.prefix}open311:status"


@dataclass(frozen=True, slots=True)
class StateChange:
    """Set (``value`` JSON) or delete (``value`` None) one entry of a channel's state."""

    channel: Channel
    key: str
    value: bytes | None
    only_if_changed: bool = False
    """Skip the update (no new sequence number) when the stored value is identical."""


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """Append one point to a bounded series stream."""

    series: str
    fields: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class HashField:
    """Set one field of a plain hash (no sequence, no update stream)."""

    key: str
    field: str
    value: bytes


@dataclass(frozen=True, slots=True)
class Projection:
    changes: tuple[StateChange, ...] = ()
    points: tuple[SeriesPoint, ...] = ()
    counts: tuple[str, ...] = ()
    """Counter fields to increment by one (always includes ``events``)."""
    fields: tuple[HashField, ...] = ()


_CLOSED = {schemas.IncidentState.RESOLVED: "resolved", schemas.IncidentState.EXPIRED: "closed without further reports"}


def report_status(incident: schemas.IncidentChanged) -> dict[str, object]:
    """The GeoReport v2 status of the service requests that are evidence of ``incident``.

    Closed when the incident is resolved or expired; open otherwise, with notes saying
    how far the incident has got (raised, acknowledged, assigned).
    """
    state = incident.state
    if state in _CLOSED:
        status, notes = "closed", f"incident {incident.incident_id} {_CLOSED[state]}"
    elif state is schemas.IncidentState.ASSIGNED:
        status, notes = "open", f"incident {incident.incident_id} assigned to {incident.assignee}"
    else:
        status, notes = "open", f"incident {incident.incident_id} {state.value}"
    return {"status": status, "status_notes": notes,
            "updated_datetime": incident.event_time.isoformat(timespec="seconds")}


def _json(value: object) -> bytes:
    return orjson.dumps(value)


def _time(value: datetime) -> str:
    return value.isoformat()


def project(event: schemas.Event, keys: Keys) -> Projection:
    """The Redis writes that make ``event`` visible to readers.

    Raises :class:`TypeError` naming the event type for events that have no
    projection (the agent subscribes only to the kinds handled here).
    """
    kind = type(event).__name__
    counts = ("events", f"events:{kind}")
    match event:
        case schemas.IncidentChanged():
            change = StateChange(Channel.INCIDENTS, event.incident_id, _json(schemas.to_builtins(event)))
            reports = [e.evidence_id.removeprefix(REPORT_EVIDENCE) for e in event.evidence
                       if e.evidence_id.startswith(REPORT_EVIDENCE)]
            status = _json(report_status(event)) if reports else b""
            return Projection((change,), counts=counts,
                              fields=tuple(HashField(keys.report_status, r, status) for r in reports))
        case schemas.CellRisk():
            value = {"cell": event.cell_code, "hazard": event.hazard.value, "colour": event.colour.value,
                     "score": round(event.score, 2)}
            key = f"{event.hazard.value}:{event.cell_code}"
            return Projection((StateChange(Channel.CELLS, key, _json(value), only_if_changed=True),),
                              counts=counts)
        case schemas.GaugeState():
            change = StateChange(Channel.GAUGES, event.gauge_id, _json(schemas.to_builtins(event)))
            point = SeriesPoint(keys.gauge_series(event.gauge_id),
                                (("t", _time(event.event_time)), ("stage", repr(event.stage_m))))
            return Projection((change,), (point,), counts)
        case schemas.CrestDetected():
            change = StateChange(Channel.CRESTS, event.gauge_id, _json(schemas.to_builtins(event)))
            point = SeriesPoint(keys.crest_series(event.gauge_id),
                                (("d", _json(schemas.to_builtins(event)).decode()),))
            return Projection((change,), (point,), counts)
        case schemas.CrestForecast():
            value = None if event.cancelled else _json(schemas.to_builtins(event))
            return Projection((StateChange(Channel.FORECASTS, event.gauge_id, value),), counts=counts)
        case schemas.FrameSample():
            value = {"status": event.status.value}
            return Projection((StateChange(Channel.CAMERAS, event.camera_id, _json(value), only_if_changed=True),),
                              counts=counts)
        case schemas.VisionFinding() if event.kind in CAMERA_HEALTH_KINDS and event.confirmed:
            value = {"kind": event.kind.value, "score": round(event.score, 2), "confirmed": event.confirmed,
                     "t": _time(event.event_time)}
            return Projection((StateChange(Channel.CAMERA_FAULTS, event.camera_id, _json(value)),),
                              counts=counts)
        case schemas.VisionFinding():
            return Projection(counts=(*counts, f"findings:{event.kind.value}"))
        case schemas.SourceHealth():
            change = StateChange(Channel.SOURCES, event.source_id, _json(schemas.to_builtins(event)))
            return Projection((change,), counts=counts)
        case schemas.SamplingHealth():
            value = _json(schemas.to_builtins(event)) if event.cameras else None
            return Projection((StateChange(Channel.SAMPLING, event.worker, value),), counts=counts)
        case schemas.RequestChanged():
            # the wall shows the open work; a closed request leaves it (dispatch:requests keeps its last change)
            value = None if event.status is schemas.RequestStatus.CLOSED else _json(schemas.to_builtins(event))
            return Projection((StateChange(Channel.REQUESTS, event.request_id, value),), counts=counts)
        case schemas.DeadLetter():
            return Projection(counts=(*counts, f"deadletter:{event.topic}"))
    raise TypeError(f"no projection for event type {kind}")
