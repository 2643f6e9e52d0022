"""Operator commands from the page: validated here, applied by the stream.

:func:`authorize_command` is the gateway's whole decision: the role may
command, the action is known, the incident exists and lies in the operator's
scope, the fields fit. The incident agent applies the accepted command and
publishes the new incident state, which reaches every screen.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from command_ui.errors import CommandRefused
from command_ui.scope import incident_commandable
from command_ui.tokens import Claims
from stream import schemas

GATEWAY_SOURCE = "gateway"


class CommandRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What the page sends to act on an incident."""

    command_id: schemas.Identifier
    incident_id: schemas.Identifier
    action: schemas.CommandAction
    assignee: schemas.Identifier | None = None
    comment: str | None = None


def authorize_command(request: CommandRequest, claims: Claims,
                      incident: schemas.IncidentChanged | None, *, now: datetime) -> schemas.OperatorCommand:
    """The :class:`OperatorCommand` to produce, or :class:`CommandRefused` saying why not."""
    if not claims.may_command:
        raise CommandRefused("forbidden", f"role {claims.role.value} may not send commands")
    if incident is None:
        raise CommandRefused("unknown_incident", f"no incident {request.incident_id!r}")
    if not incident_commandable(claims.scope, incident):
        raise CommandRefused("out_of_scope",
                             f"incident {request.incident_id} is outside scope {claims.scope}")
    if request.action is schemas.CommandAction.ASSIGN and not request.assignee:
        raise CommandRefused("invalid", "assign needs an assignee")
    if request.comment is not None and len(request.comment) > 2000:
        raise CommandRefused("invalid", f"comment has {len(request.comment)} characters, at most 2000")
    return schemas.OperatorCommand(
        source=GATEWAY_SOURCE, event_time=now, command_id=request.command_id,
        incident_id=request.incident_id, action=request.action, operator=claims.subject,
        role=claims.role, scope=claims.scope, assignee=request.assignee, comment=request.comment,
    )
