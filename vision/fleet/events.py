"""Scripted events and faults of the simulated fleet, and the book that answers "what is true now".

A :class:`ScriptedEvent` names a kind, the cameras it affects, and when (virtual
time). Requests address cameras by id, by grid cell or by a lon/lat box; the
book resolves them to camera ids once, so the truth of what was injected is
exactly the set of (camera, kind, start, end) rows it holds.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from vision.fleet.errors import InvalidEventRequest


class EventKind(enum.StrEnum):
    # scene events
    FLAME = "flame"
    SMOKE = "smoke"
    WATER_RISE = "water_rise"
    # faults answered by the server
    OFFLINE = "offline"
    """The connection is reset before any answer."""
    TIMEOUT = "timeout"
    """The request hangs until the client gives up."""
    HTTP_500 = "http_500"
    # faults in the image
    FROZEN = "frozen"
    BLACK = "black"
    OVEREXPOSED = "overexposed"
    DEFOCUSED = "defocused"
    COVERED = "covered"
    TURNED_AWAY = "turned_away"
    CORRUPT = "corrupt"


SERVER_FAULTS = frozenset({EventKind.OFFLINE, EventKind.TIMEOUT, EventKind.HTTP_500})


@dataclass(frozen=True)
class CameraPlace:
    """What the book needs to address a camera by area."""

    camera_id: str
    lon: float
    lat: float
    cell_code: str | None


@dataclass(frozen=True)
class ScriptedEvent:
    event_id: str
    kind: EventKind
    camera_ids: frozenset[str]
    start: datetime
    end: datetime | None
    """None = until removed."""
    intensity: float = 1.0
    """0-1: flame size, smoke density, water rise as a share of the marker."""

    def active_at(self, at: datetime) -> bool:
        return self.start <= at and (self.end is None or at < self.end)

    def to_json(self) -> dict[str, Any]:
        return {"event_id": self.event_id, "kind": self.kind.value, "camera_ids": sorted(self.camera_ids),
                "start": self.start.isoformat(), "end": self.end.isoformat() if self.end else None,
                "intensity": self.intensity}


def select_cameras(places: Iterable[CameraPlace], *, camera_ids: Iterable[str] = (), cells: Iterable[str] = (),
                   bbox: tuple[float, float, float, float] | None = None) -> frozenset[str]:
    """Camera ids named directly, or inside any of ``cells``, or inside ``bbox`` (lon/lat, WGS84)."""
    wanted_ids, wanted_cells = set(camera_ids), set(cells)
    chosen: set[str] = set()
    known: set[str] = set()
    for place in places:
        known.add(place.camera_id)
        in_box = bbox is not None and bbox[0] <= place.lon <= bbox[2] and bbox[1] <= place.lat <= bbox[3]
        if place.camera_id in wanted_ids or place.cell_code in wanted_cells or in_box:
            chosen.add(place.camera_id)
    unknown = wanted_ids - known
    if unknown:
        raise InvalidEventRequest(f"camera_ids: unknown camera(s) {sorted(unknown)[:5]}")
    return frozenset(chosen)


def _time(value: Any, field: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise InvalidEventRequest(f"{field}: not an ISO 8601 time: {value!r}") from None
    if parsed.tzinfo is None:
        raise InvalidEventRequest(f"{field}: time without a zone: {value!r}")
    return parsed


def parse_event_request(payload: Mapping[str, Any], places: Iterable[CameraPlace], *, event_id: str,
                        now: datetime) -> ScriptedEvent:
    """Validate a control request (JSON object) into an event; ``now`` is the fleet's virtual time."""
    try:
        kind = EventKind(payload.get("kind"))
    except ValueError:
        raise InvalidEventRequest(f"kind: unknown event kind {payload.get('kind')!r}; "
                                  f"one of {[k.value for k in EventKind]}") from None
    bbox = payload.get("bbox")
    if bbox is not None and (not isinstance(bbox, list | tuple) or len(bbox) != 4):
        raise InvalidEventRequest(f"bbox: expected [min_lon, min_lat, max_lon, max_lat], got {bbox!r}")
    cameras = select_cameras(places, camera_ids=payload.get("camera_ids") or (), cells=payload.get("cells") or (),
                             bbox=tuple(float(v) for v in bbox) if bbox else None)  # type: ignore[arg-type]
    if not cameras:
        raise InvalidEventRequest("camera_ids/cells/bbox: the request selects no camera")
    start = _time(payload["start"], "start") if payload.get("start") else now
    end: datetime | None = None
    if payload.get("end"):
        end = _time(payload["end"], "end")
    elif payload.get("duration_s") is not None:
        end = start + timedelta(seconds=float(payload["duration_s"]))
    if end is not None and end <= start:
        raise InvalidEventRequest(f"end: {end.isoformat()} is not after start {start.isoformat()}")
    intensity = float(payload.get("intensity", 1.0))
    if not 0.0 < intensity <= 1.0:
        raise InvalidEventRequest(f"intensity: expected 0 < intensity <= 1, got {intensity}")
    return ScriptedEvent(event_id, kind, cameras, start, end, intensity)


class EventBook:
    """The scripted events of one fleet, indexed by camera (owned by the server object)."""

    def __init__(self) -> None:
        self._events: dict[str, ScriptedEvent] = {}
        self._by_camera: dict[str, set[str]] = {}

    def add(self, event: ScriptedEvent) -> None:
        self._events[event.event_id] = event
        for camera_id in event.camera_ids:
            self._by_camera.setdefault(camera_id, set()).add(event.event_id)

    def remove(self, event_id: str) -> ScriptedEvent | None:
        event = self._events.pop(event_id, None)
        if event is not None:
            for camera_id in event.camera_ids:
                ids = self._by_camera.get(camera_id)
                if ids is not None:
                    ids.discard(event_id)
                    if not ids:
                        del self._by_camera[camera_id]
        return event

    def clear(self) -> None:
        self._events.clear()
        self._by_camera.clear()

    def all(self) -> list[ScriptedEvent]:
        return sorted(self._events.values(), key=lambda e: (e.start, e.event_id))

    def active_for(self, camera_id: str, at: datetime) -> tuple[ScriptedEvent, ...]:
        """Events affecting ``camera_id`` at virtual time ``at``, oldest first."""
        ids = self._by_camera.get(camera_id)
        if not ids:
            return ()
        return tuple(sorted((e for i in ids if (e := self._events[i]).active_at(at)),
                            key=lambda e: (e.start, e.event_id)))
