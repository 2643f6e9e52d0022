"""Pure decisions driven by the clock, by operators and by notifiers.

:func:`tick` settles colours (hysteresis), escalates unacknowledged incidents up
the grid's chain of command, expires idle ones and forgets long-closed ones.
:func:`command` validates an operator's command (role, scope, state) and applies
it, or answers with a ``command_refused`` snapshot that leaves the incident as
it was. :func:`delivered` records a notification's delivery status. :func:`step`
applies any input of an area the way the stream does.

Time-driven rules are event-clock decisions: each falls due at a time computed
from the incident (raised or last escalated + the colour's limit, lower since +
the hold, last activity + the expiry) and takes effect *at that time*, whenever
the tick or input that finds it due comes along; several rules due by then take
effect one after the other, in time order. So how often ticks come, or how late
a busy worker processes them, changes when a decision is published, never what
it is or the time it records.
"""

from __future__ import annotations

from datetime import datetime
from typing import Union

from stream.incidents.fusion import (
    Outcome,
    Recipients,
    advance,
    observe,
    publish,
    recolour,
    replace,
    with_incident,
)
from stream.incidents.grid import all_within_one, in_subtree
from stream.incidents.lifecycle import (
    FINAL_STATES,
    Action,
    IllegalTransition,
    next_state,
    operator_action,
)
from stream.incidents.places import PlaceIndex
from stream.incidents.state import Area, Incident, Policy
from stream.schemas import (
    Colour,
    CommandAction,
    EvidenceObserved,
    IncidentNote,
    IncidentState,
    IncidentTick,
    NotificationStatus,
    OperatorCommand,
    Role,
)

AreaInput = Union[EvidenceObserved, OperatorCommand, IncidentTick, NotificationStatus]

PAST_TENSE = {Action.ACKNOWLEDGE: "acknowledged", Action.ASSIGN: "assigned", Action.COMMENT: "commented",
              Action.RESOLVE: "resolved", Action.REOPEN: "reopened"}
KEEP_COMMAND_IDS = 64


def step(area: Area, item: AreaInput, places: PlaceIndex, policy: Policy, recipients: Recipients) -> Outcome:
    """Apply one input of an area: first every timed rule due by the input's time, then the input, then any
    rule the input made due at once (an upgrade that leaves an unacknowledged incident past its limit).

    An operator's command is applied as it comes, at the operator's time; rules due by then are left
    to the next tick or input, which applies them at their own times.
    """
    if isinstance(item, OperatorCommand):
        return command(area, item, policy, recipients)
    before = tick(area, item.event_time, policy, recipients)
    if isinstance(item, IncidentTick):
        return before
    if isinstance(item, EvidenceObserved):
        applied = observe(before.area, item, places, policy, recipients)
    else:
        applied = delivered(before.area, item, policy, recipients)
    after = tick(applied.area, applied.area.clock or item.event_time, policy, recipients)
    return Outcome(after.area, before.changes + applied.changes + after.changes)


def tick(area: Area, now: datetime, policy: Policy, recipients: Recipients) -> Outcome:
    """Advance the area's clock to ``now`` and apply every time-driven rule due by then, each at its own time."""
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
    """Apply the rules due by ``now`` one by one, earliest first, each at its due time."""
    published: list[Incident] = []
    while incident.state not in FINAL_STATES and (due := due_rule(incident, policy, now)) is not None:
        when, rule = due
        if rule == "settle":
            settled = recolour(incident, when, policy, recipients, None)
            if settled is None or settled == incident:
                break  # nothing visible to do (cannot happen; guards the loop)
            if settled.revision != incident.revision:
                published.append(settled)
            incident = settled
        elif rule == "expire":
            state = next_state(incident.state, Action.EXPIRE, incident.incident_id)
            incident = publish(incident, "expired", when, policy, recipients, state=state, closed_at=when)
            published.append(incident)
        else:
            next_state(incident.state, Action.ESCALATE, incident.incident_id)
            incident = publish(incident, "escalated", when, policy, recipients,
                               escalation_level=incident.escalation_level + 1, last_escalated_at=when)
            published.append(incident)
    return incident, published


def due_rule(incident: Incident, policy: Policy, now: datetime) -> tuple[datetime, str] | None:
    """The earliest time-driven rule of an open incident due by ``now``: (when it fell due, which), or None.

    - ``settle``: the colour may fall (or the incident resolve) ``downgrade_hold`` after its evidence went lower;
    - ``expire``: ``expire_after`` after the last evidence or action;
    - ``escalate``: while nobody has acknowledged it and a level is left above, the limit of its colour after
      it was raised or last escalated, and never before its latest change (an upgrade that leaves it
      overdue escalates at once).
    On equal times they apply in that order.
    """
    rules = [(incident.last_activity_at + policy.expire_after, 1, "expire")]
    if incident.lower_since is not None and _can_settle_lower(incident, policy):
        rules.append((incident.lower_since + policy.downgrade_hold, 0, "settle"))
    if incident.state is IncidentState.RAISED:
        since = incident.last_escalated_at or incident.raised_at
        when = max(since + policy.ack_limits[incident.colour], incident.updated_at)
        cells = (cell for ref in incident.evidence for cell in ref.cells)
        if when <= now and all_within_one(cells, incident.escalation_level + 1):  # a level is left above
            rules.append((when, 2, "escalate"))
    when, _, rule = min(rules)
    return (when, rule) if when <= now else None


def _can_settle_lower(incident: Incident, policy: Policy) -> bool:
    """Whether the evidence is below the incident's colour in a way the hold can act on."""
    target = Colour.worst([ref.colour for ref in incident.evidence])
    if target is Colour.GREEN and not policy.auto_resolve:
        target = Colour.BLUE  # stays open at blue
    return target.rank < incident.colour.rank


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
        fields.update(closed_at=None, last_escalated_at=now, last_evidence_at=now,
                      lower_since=now if _can_settle_lower(incident, policy) else None)
    applied = publish(remembered, PAST_TENSE[action], now, policy, recipients, **fields)
    applied = replace(applied, command_id=cmd.command_id)
    return Outcome(with_incident(area, applied), (applied,))


def refusal_reason(incident: Incident, cmd: OperatorCommand) -> str | None:
    """Why ``cmd`` may not be applied to ``incident`` (None = allowed)."""
    if cmd.role is Role.VIEWER:
        return f"operator {cmd.operator} has role viewer, which may not {cmd.action.value}"
    if incident.merged_into:
        return f"incident {incident.incident_id} was merged into {incident.merged_into}: act on that one"
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
