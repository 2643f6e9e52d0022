"""Video linkage: cameras of an open incident sample faster until it closes.

An incident asks each of its cameras for one priority (by its colour while it is
open, 0 once it is closed), under one claim per incident. Only what changes is
sent: an incident republished on every extension or acknowledgement sends
nothing unless its colour, its open/closed state or its cameras changed.
"""

from __future__ import annotations

from stream.incidents.lifecycle import FINAL_STATES
from stream.schemas import CameraPriority, Colour, IncidentChanged

#: Sampling priority (0..100) of a camera looking at an open incident of this colour.
PRIORITY = {Colour.GREEN: 0.0, Colour.BLUE: 40.0, Colour.YELLOW: 60.0, Colour.ORANGE: 80.0, Colour.RED: 100.0}


def linked_priorities(incident: IncidentChanged) -> dict[str, float]:
    """Camera -> the priority ``incident`` asks for in its current state (0 once it is closed)."""
    priority = 0.0 if incident.state in FINAL_STATES else PRIORITY[incident.colour]
    return dict.fromkeys(incident.cameras, priority)


def camera_priorities(incident: IncidentChanged, source: str,
                      before: IncidentChanged | None = None) -> list[CameraPriority]:
    """Priorities to publish after ``incident`` changed from ``before`` (its previous version).

    Only the cameras whose priority for this incident changed: raised, re-coloured,
    withdrawn (priority 0) when it closed or a camera left it. Without ``before``
    (first seen, or not known) every camera's priority is stated.
    """
    now = linked_priorities(incident)
    was = linked_priorities(before) if before is not None else {}
    changed = {camera: p for camera, p in now.items() if before is None or was.get(camera, 0.0) != p}
    changed |= {camera: 0.0 for camera, p in was.items() if camera not in now and p > 0}
    reason = f"incident {incident.incident_id}"  # one claim per incident: replaced on each change, 0 withdraws it
    return [CameraPriority(source=source, event_time=incident.event_time, camera_id=camera, priority=priority,
                           reason=reason) for camera, priority in sorted(changed.items())]
