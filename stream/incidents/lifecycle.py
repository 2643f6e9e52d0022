"""The incident lifecycle: every state, every action and every allowed transition in one table.

raised → acknowledged → assigned → resolved, with escalation (only while nobody
has acknowledged), expiry (no evidence and no action for a while), automatic
resolution when the hazard clears, merging into an earlier incident of the same
event (which resolves the later one), and reopening of a closed incident.
"""

from __future__ import annotations

import enum

from stream.errors import AmurError
from stream.schemas import CommandAction, IncidentState


class Action(enum.StrEnum):
    """Everything that can happen to an incident: operators' commands and the stream's own."""

    ACKNOWLEDGE = "acknowledge"
    ASSIGN = "assign"
    COMMENT = "comment"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    EVIDENCE = "evidence"
    """New or updated evidence merged into the incident."""
    ESCALATE = "escalate"
    EXPIRE = "expire"
    CLEAR = "clear"
    """Automatic resolution: every piece of evidence has cleared (if configured)."""
    NOTIFIED = "notified"
    """A notification's delivery status came back."""
    MERGE = "merge"
    """The incident turned out to be part of an earlier one and was merged into it."""


RAISED, ACKED, ASSIGNED, RESOLVED, EXPIRED = (
    IncidentState.RAISED, IncidentState.ACKNOWLEDGED, IncidentState.ASSIGNED,
    IncidentState.RESOLVED, IncidentState.EXPIRED,
)

#: (state, action) -> next state. Anything not listed is refused.
TRANSITIONS: dict[tuple[IncidentState, Action], IncidentState] = {
    (RAISED, Action.ACKNOWLEDGE): ACKED,
    (RAISED, Action.ASSIGN): ASSIGNED,
    (RAISED, Action.COMMENT): RAISED,
    (RAISED, Action.RESOLVE): RESOLVED,
    (RAISED, Action.EVIDENCE): RAISED,
    (RAISED, Action.ESCALATE): RAISED,
    (RAISED, Action.EXPIRE): EXPIRED,
    (RAISED, Action.CLEAR): RESOLVED,
    (RAISED, Action.NOTIFIED): RAISED,
    (RAISED, Action.MERGE): RESOLVED,
    (ACKED, Action.ASSIGN): ASSIGNED,
    (ACKED, Action.COMMENT): ACKED,
    (ACKED, Action.RESOLVE): RESOLVED,
    (ACKED, Action.EVIDENCE): ACKED,
    (ACKED, Action.EXPIRE): EXPIRED,
    (ACKED, Action.CLEAR): RESOLVED,
    (ACKED, Action.NOTIFIED): ACKED,
    (ACKED, Action.MERGE): RESOLVED,
    (ASSIGNED, Action.ASSIGN): ASSIGNED,
    (ASSIGNED, Action.COMMENT): ASSIGNED,
    (ASSIGNED, Action.RESOLVE): RESOLVED,
    (ASSIGNED, Action.EVIDENCE): ASSIGNED,
    (ASSIGNED, Action.EXPIRE): EXPIRED,
    (ASSIGNED, Action.CLEAR): RESOLVED,
    (ASSIGNED, Action.NOTIFIED): ASSIGNED,
    (ASSIGNED, Action.MERGE): RESOLVED,
    (RESOLVED, Action.REOPEN): RAISED,
    (RESOLVED, Action.COMMENT): RESOLVED,
    (RESOLVED, Action.NOTIFIED): RESOLVED,
    (EXPIRED, Action.REOPEN): RAISED,
    (EXPIRED, Action.COMMENT): EXPIRED,
    (EXPIRED, Action.NOTIFIED): EXPIRED,
}

FINAL_STATES = frozenset({RESOLVED, EXPIRED})
OPEN_STATES = frozenset(IncidentState) - FINAL_STATES


class IllegalTransition(AmurError):
    """An action the lifecycle does not allow in the incident's current state."""

    def __init__(self, state: IncidentState, action: Action, incident_id: str = "") -> None:
        self.state = state
        self.action = action
        allowed = ", ".join(sorted(a.value for (s, a) in TRANSITIONS if s == state))
        where = f" {incident_id}" if incident_id else ""
        super().__init__(f"cannot {action.value} incident{where}: it is {state.value} (allowed: {allowed})")


def next_state(state: IncidentState, action: Action, incident_id: str = "") -> IncidentState:
    """The state after ``action``; :class:`IllegalTransition` if the table does not allow it."""
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise IllegalTransition(state, action, incident_id) from None


def allowed(state: IncidentState, action: Action) -> bool:
    return (state, action) in TRANSITIONS


def operator_action(action: CommandAction) -> Action:
    return Action(action.value)
