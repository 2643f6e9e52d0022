"""What a request's change means to the citizen who sent it: its GeoReport v2 status.

Open until the request is closed; the notes say how far it has got (accepted by
whom, re-routed why, escalated to which level, waiting for the dispatcher).
A rejection is never a close: the request goes back to the dispatcher.
"""

from __future__ import annotations

from stream.schemas import RequestChanged, RequestStatus


def status_notes(changed: RequestChanged) -> str:
    who = changed.department or "the dispatcher"
    if changed.change == "escalated":
        return f"overdue ({changed.reason}); escalated to {changed.responsible}"
    if changed.change == "rerouted":
        return f"re-routed to {who}: {changed.reason}"
    if changed.department is None:
        return f"with the dispatcher: {changed.queue_reason}"
    if changed.status is RequestStatus.ASSIGNED:
        return f"assigned by {who} to {changed.assignee}"
    if changed.status in (RequestStatus.RECEIVED, RequestStatus.REROUTED):
        return f"waiting for {who} to accept"
    return f"{changed.status.value.replace('_', ' ')} by {who}"


def report_status(changed: RequestChanged) -> dict[str, object]:
    """The fields laid over the stored GeoReport request (``open311:dispatch`` in Redis)."""
    return {"status": "closed" if changed.status is RequestStatus.CLOSED else "open",
            "status_notes": status_notes(changed), "agency_responsible": changed.department,
            "expected_datetime": changed.resolve_by.isoformat(timespec="seconds") if changed.resolve_by else None,
            "updated_datetime": changed.event_time.isoformat(timespec="seconds")}
