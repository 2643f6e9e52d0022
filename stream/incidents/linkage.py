"""Video linkage: cameras of an open incident sample faster until it closes."""

from __future__ import annotations

from stream.incidents.lifecycle import FINAL_STATES
from stream.schemas import CameraPriority, Colour, IncidentChanged

#: Sampling priority (0..100) of a camera looking at an open incident of this colour.
PRIORITY = {Colour.GREEN: 0.0, Colour.BLUE: 40.0, Colour.YELLOW: 60.0, Colour.ORANGE: 80.0, Colour.RED: 100.0}
#: Changes after which the cameras' priority is (re)stated.
LINKAGE_CHANGES = frozenset({"raised", "upgraded", "downgraded", "extended", "resolved", "expired", "reopened"})


def camera_priorities(incident: IncidentChanged, source: str) -> list[CameraPriority]:
    """Priorities to publish after ``incident`` changed (priority 0 = back to normal when it closed)."""
    if incident.change not in LINKAGE_CHANGES:
        return []
    closed = incident.state in FINAL_STATES
    priority = 0.0 if closed else PRIORITY[incident.colour]
    reason = f"incident {incident.incident_id}"  # one claim per incident: replaced on each change, 0 withdraws it
    return [CameraPriority(source=source, event_time=incident.event_time, camera_id=camera, priority=priority,
                           reason=reason) for camera in incident.cameras]
