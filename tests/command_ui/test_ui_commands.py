"""The gateway's decision on an operator command."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from command_ui.commands import CommandRequest, authorize_command
from command_ui.errors import CommandRefused
from command_ui.tokens import Claims
from stream import schemas

NOW = datetime(2026, 7, 20, 8, 0, tzinfo=timezone.utc)
INCIDENT = schemas.IncidentChanged(source="t", event_time=NOW, incident_id="231102-flood-1", hazard=schemas.Hazard.FLOOD,
                                   colour=schemas.Colour.RED, state=schemas.IncidentState.RAISED, title="t",
                                   cells=["231102001001001"])


def claims(role: schemas.Role, scope: str = "231100") -> Claims:
    return Claims(subject="li.na", role=role, scope=scope, expires=NOW)


def request(action: schemas.CommandAction = schemas.CommandAction.ACKNOWLEDGE, **extra: object) -> CommandRequest:
    return CommandRequest(command_id="c1", incident_id="231102-flood-1", action=action, **extra)


def test_an_accepted_command_carries_who_and_within_which_scope() -> None:
    command = authorize_command(request(), claims(schemas.Role.DUTY_OFFICER, "231102"), INCIDENT, now=NOW)
    assert command == schemas.OperatorCommand(
        source="gateway", event_time=NOW, command_id="c1", incident_id="231102-flood-1",
        action=schemas.CommandAction.ACKNOWLEDGE, operator="li.na", role=schemas.Role.DUTY_OFFICER, scope="231102")


@pytest.mark.parametrize("who, incident, req, code", [
    (claims(schemas.Role.VIEWER), INCIDENT, request(), "forbidden"),
    (claims(schemas.Role.ADMIN, "231123"), INCIDENT, request(), "out_of_scope"),
    (claims(schemas.Role.ADMIN), None, request(), "unknown_incident"),
    (claims(schemas.Role.DUTY_OFFICER), INCIDENT, request(schemas.CommandAction.ASSIGN), "invalid"),
    (claims(schemas.Role.DUTY_OFFICER), INCIDENT, request(schemas.CommandAction.COMMENT, comment="x" * 2001), "invalid"),
])
def test_refusals_say_why(who: Claims, incident, req: CommandRequest, code: str) -> None:
    with pytest.raises(CommandRefused) as refused:
        authorize_command(req, who, incident, now=NOW)
    assert refused.value.code == code
