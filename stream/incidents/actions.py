"""Pure decisions driven by the clock, by operators and by notifiers.

:func:`tick` settles colours (hysteresis), escalates unacknowledged incidents up
the grid's chain of command, expires idle ones and forgets long-closed ones.
:func:`command` validates an operator's command (role, scope, state) and applies
it, or answers with a ``command_refused`` snapshot that leaves the incident as
it was. :func:`delivered` records a notification's delivery status.
"""

from __future__ import annotations

from datetime import datetime

from stream.incidents.fusion import (
    Outcome,
    Recipients,
    advance,
    publish,
    recolour,
    replace,
    with_incident,
)
from stream.incidents.grid import in_subtree
from stream.incidents.lifecycle import (
    FINAL_STATES,
    Action,
    IllegalTransition,
    next_state,
    operator_action,
)
from stream.incidents.state import Area, Incident, Policy
from stream.schemas import (
    CommandAction,
    IncidentNote,
    IncidentState,
    NotificationStatus,
    OperatorCommand,
    Role,
)

PAST_TENSE = {Action.ACKNOWLEDGE: "acknowledged", Action.ASSIGN: "assigned", Action.COMMENT: "commented",
              Action.RESOLVE: "resolved", Action.REOPEN: "reopened"}
KEEP_COMMAND_IDS = 64


def tick(area: Area, now: datetime, policy: Policy, recipients: Recipients) -> Outcome:
    """Advance the area's clock to ``now`` and apply every time-driven rule."""
    now = advance(area.clock, now)
    area = replace(area, clock=now)
    changes: list[Incident] = []
    kept: list[Incident] = []
    for incident in area.incidents:
        if incident.state in FINAL_STATES:
            if incident.closed_at is None or now - incident.closed_at < policy.retain_closed:
                kept.append(incident)
            continue
        current, published = _tick_open(incident, now, policy, recipients)
        kept.append(current)
        changes += published
    return Outcome(replace(area, incidents=tuple(kept)), tuple(changes))


def _tick_open(incident: Incident, now: datetime, policy: Policy,
               recipients: Recipients) -> tuple[Incident, list[Incident]]:
    published: list[Incident] = []
    settled = recolour(incident, now, policy, recipients, None)
    if settled is not None:
        if settled.revision != incident.revision:
            published.append(settled)
        incident = settled
        if incident.state in FINAL_STATES:
            return incident, published
    if now - incident.last_activity_at >= policy.expire_after:
        state = next_state(incident.state, Action.EXPIRE, incident.incident_id)
        incident = publish(incident, "expired", now, policy, recipients, state=state, closed_at=now)
        return incident, published + [incident]
    if incident.state is IncidentState.RAISED and incident.escalation_level < len(incident.chain) - 1:
        since = incident.last_escalated_at or incident.raised_at
        if now - since >= policy.ack_limits[incident.colour]:
            next_state(incident.state, Action.ESCALATE, incident.incident_id)
            incident = publish(incident, "escalated", now, policy, recipients,
                               escalation_level=incident.escalation_level + 1, last_escalated_at=now)
            published.append(incident)
    return incident, published


def command(area: Area, cmd: OperatorCommand, policy: Policy, recipients: Recipients) -> Outcome:
    """Validate and apply ``cmd``; a refusal is published with the unchanged state and the reason."""
    now = advance(area.clock, cmd.event_time)
    area = replace(area, clock=now)
    incident = next((i for i in area.incidents if i.incident_id == cmd.incident_id), None)
    if incident is None or cmd.command_id in incident.commands:
        return Outcome(area)  # unknown incident, or a command already answered (replay)
    remembered = replace(incident, commands=(incident.commands + (cmd.command_id,))[-KEEP_COMMAND_IDS:])
    reason = refusal_reason(incident, cmd)
    if reason is not None:
        refused = replace(remembered, change="command_refused", command_id=cmd.command_id, refusal=reason,
                          updated_at=now)
        return Outcome(with_incident(area, remembered), (refused,))
    action = operator_action(cmd.action)
    fields: dict[str, object] = {"state": next_state(incident.state, action, incident.incident_id),
                                 "last_activity_at": now}
    if cmd.action is CommandAction.ASSIGN:
        fields["assignee"] = cmd.assignee
    if cmd.comment:
        fields["notes"] = incident.notes + (IncidentNote(operator=cmd.operator, text=cmd.comment, event_time=now),)
    if cmd.action is CommandAction.RESOLVE:
        fields["closed_at"] = now
    if cmd.action is CommandAction.REOPEN:
        fields.update(closed_at=None, last_escalated_at=now, last_evidence_at=now, lower_since=None)
    applied = publish(remembered, PAST_TENSE[action], now, policy, recipients, **fields)
    applied = replace(applied, command_id=cmd.command_id)
    return Outcome(with_incident(area, applied), (applied,))


def refusal_reason(incident: Incident, cmd: OperatorCommand) -> str | None:
    """Why ``cmd`` may not be applied to ``incident`` (None = allowed)."""
    if cmd.role is Role.VIEWER:
        return f"operator {cmd.operator} has role viewer, which may not {cmd.action.value}"
    outside = [cell for cell in incident.cells or [incident.place] if not in_subtree(cell, cmd.scope)]
    if outside:
        return (f"incident {incident.incident_id} has cells {', '.join(outside[:3])} outside operator "
                f"{cmd.operator}'s scope {cmd.scope}")
    if cmd.action is CommandAction.ASSIGN and not cmd.assignee:
        return "assign needs an assignee (department or team id)"
    if cmd.action is CommandAction.COMMENT and not cmd.comment:
        return "comment needs a comment text"
    try:
        next_state(incident.state, operator_action(cmd.action), incident.incident_id)
    except IllegalTransition as exc:
        return str(exc)
    return None


def delivered(area: Area, status: NotificationStatus, policy: Policy, recipients: Recipients) -> Outcome:
    """Record a notification's delivery status on its incident (ignored if already recorded)."""
    now = advance(area.clock, status.event_time)
    area = replace(area, clock=now)
    incident = next((i for i in area.incidents if i.incident_id == status.incident_id), None)
    fresh = status.notification
    if incident is None:
        return Outcome(area)
    known = next((n for n in incident.notifications if n.notification_id == fresh.notification_id), None)
    if known is None or (known.status, known.attempts) == (fresh.status, fresh.attempts) or known.status != "pending":
        return Outcome(area)
    next_state(incident.state, Action.NOTIFIED, incident.incident_id)
    notifications = tuple(fresh if n.notification_id == fresh.notification_id else n for n in incident.notifications)
    updated = publish(incident, "notified", now, policy, recipients, notifications=notifications)
    return Outcome(with_incident(area, updated), (updated,))
