"""Camera priorities follow an incident: one claim per incident, raised with its colour, withdrawn at close."""

from __future__ import annotations

import msgspec

from stream.incidents.linkage import camera_priorities
from stream.schemas import Colour, Hazard, IncidentChanged, IncidentState
from tests.helpers.incidents import T0

OPEN = IncidentChanged(source="amur", event_time=T0, incident_id="231102-fire-0123456789ab", hazard=Hazard.FIRE,
                       colour=Colour.ORANGE, state=IncidentState.RAISED, title="fire", cells=["231102001001001"],
                       cameras=["cam-1", "cam-3"], change="raised")


def test_open_incident_raises_its_cameras_by_colour_under_one_stable_reason() -> None:
    raised = camera_priorities(OPEN, "amur")
    upgraded = camera_priorities(msgspec.structs.replace(OPEN, colour=Colour.RED, change="upgraded"), "amur")
    assert [(p.camera_id, p.priority) for p in raised] == [("cam-1", 80.0), ("cam-3", 80.0)]
    assert [p.priority for p in upgraded] == [100.0, 100.0]
    assert {p.reason for p in raised} == {p.reason for p in upgraded} == {"incident 231102-fire-0123456789ab"}


def test_closing_withdraws_the_claim_and_internal_changes_say_nothing() -> None:
    closed = camera_priorities(msgspec.structs.replace(OPEN, state=IncidentState.RESOLVED, change="resolved"), "amur")
    assert [p.priority for p in closed] == [0.0, 0.0]
    assert camera_priorities(msgspec.structs.replace(OPEN, change="acknowledged"), "amur") == []
