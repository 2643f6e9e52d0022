"""A request's life: every status, every action, who may take it, and where it leads, in one table.

received → accepted → assigned → in_progress → resolved → closed. A department
may refuse a request as not its own (``reject``, with a reason): it goes back to
the dispatcher queue, never to the citizen as closed. The dispatcher re-routes
(to another item or department, with a reason) from any open status.
"""

from __future__ import annotations

from stream.errors import AmurError
from stream.schemas import RequestAction, RequestStatus

RECEIVED, ACCEPTED, ASSIGNED, IN_PROGRESS, RESOLVED, CLOSED, REROUTED, REJECTED = (
    RequestStatus.RECEIVED, RequestStatus.ACCEPTED, RequestStatus.ASSIGNED, RequestStatus.IN_PROGRESS,
    RequestStatus.RESOLVED, RequestStatus.CLOSED, RequestStatus.REROUTED, RequestStatus.REJECTED)
A = RequestAction

#: (status, action) -> next status. Anything not listed is refused.
TRANSITIONS: dict[tuple[RequestStatus, RequestAction], RequestStatus] = {
    **{(s, A.ACCEPT): ACCEPTED for s in (RECEIVED, REROUTED)},
    **{(s, A.ASSIGN): ASSIGNED for s in (RECEIVED, REROUTED, ACCEPTED, ASSIGNED)},
    **{(s, A.START): IN_PROGRESS for s in (ACCEPTED, ASSIGNED)},
    **{(s, A.RESOLVE): RESOLVED for s in (ACCEPTED, ASSIGNED, IN_PROGRESS)},
    (RESOLVED, A.CLOSE): CLOSED,
    **{(s, A.REJECT): REJECTED for s in (RECEIVED, REROUTED, ACCEPTED)},
    **{(s, A.REROUTE): REROUTED for s in (RECEIVED, REROUTED, ACCEPTED, ASSIGNED, IN_PROGRESS, REJECTED)},
}

WAITING = frozenset({RECEIVED, REROUTED})
"""Nobody has accepted yet: the accept deadline runs."""
WORKING = frozenset({ACCEPTED, ASSIGNED, IN_PROGRESS})
"""Accepted and not resolved: the resolve deadline runs."""
FINAL = frozenset({CLOSED})
DISPATCHER_ONLY = frozenset({A.REROUTE})
"""Actions only the dispatcher takes; the others are the responsible department's (the dispatcher may too)."""
NEEDS_REASON = frozenset({A.REJECT, A.REROUTE})


class ActionRefused(AmurError):
    """An action the request's status or the actor's role does not allow; says which and why."""


def next_status(status: RequestStatus, action: RequestAction, request_id: str = "") -> RequestStatus:
    """The status after ``action``; :class:`ActionRefused` naming what is allowed otherwise."""
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        allowed = ", ".join(sorted(a.value for (s, a) in TRANSITIONS if s == status)) or "nothing"
        raise ActionRefused(f"cannot {action.value} request {request_id}: it is {status.value} "
                            f"(allowed: {allowed})") from None


def check_actor(action: RequestAction, actor: str, department: str | None, dispatcher: str) -> None:
    """Only the dispatcher re-routes; the other actions belong to the department holding the request."""
    if actor == dispatcher:
        return
    if action in DISPATCHER_ONLY:
        raise ActionRefused(f"only the dispatcher ({dispatcher}) may {action.value} a request, not {actor}")
    if actor != department:
        raise ActionRefused(f"{actor} may not {action.value} a request held by {department or 'the dispatcher'}")
