"""The contacts directory: who answers for which hazard where, and drills reach only drill contacts."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from stream.errors import ConfigError
from stream.incidents.fusion import observe
from stream.incidents.notify.contacts import load_directory
from stream.incidents.notify.payloads import payload
from stream.incidents.state import Area, to_event
from stream.schemas import Colour, Hazard, Notification
from tests.helpers.incidents import CELL_A, PLACES, POLICY, observed

DIRECTORY = load_directory()  # the bundled sample


def an_incident(hazard: Hazard = Hazard.FLOOD, drill: bool = False):  # type: ignore[no-untyped-def]
    area = Area(area_key=f"231102/{hazard.value}")
    item = observed(0, "x", Colour.YELLOW, [CELL_A], hazard, area.area_key)
    incident = observe(area, item, PLACES, POLICY, lambda i, r: []).area.incidents[0]
    return msgspec.structs.replace(incident, drill=drill)


def test_raised_goes_to_the_nearest_level_with_a_department_for_the_hazard() -> None:
    # no department at the cell, village or township of the sample: Aihui's emergency bureau answers
    assert DIRECTORY.recipients(an_incident(), "raised") == [("aihui-emergency/duty-desk", "robot")]


def test_escalation_to_the_city_reaches_every_city_department_for_the_hazard() -> None:
    at_city = msgspec.structs.replace(an_incident(Hazard.FLOOD), escalation_level=4)
    assert {c for c, _ in DIRECTORY.recipients(at_city, "escalated")} == {
        "heihe-emergency/duty-desk", "heihe-emergency/command-system", "heihe-water/flood-office"}


def test_drills_reach_only_drill_contacts() -> None:
    assert DIRECTORY.recipients(an_incident(drill=True), "raised") == [("aihui-emergency/drill-desk", "robot")]
    assigned = msgspec.structs.replace(an_incident(drill=True), assignee="heihe-water")
    assert DIRECTORY.recipients(assigned, "assigned") == []  # the water bureau has no drill contact


def test_assigned_goes_to_the_assignee_department() -> None:
    assigned = msgspec.structs.replace(an_incident(), assignee="heihe-forestry")
    assert DIRECTORY.recipients(assigned, "assigned") == [("heihe-forestry/fire-watch", "robot")]


def test_wecom_robot_payload_is_markdown_content() -> None:
    contact = DIRECTORY.contact("heihe-water/flood-office")
    assert contact is not None and contact.style == "wecom"
    snapshot = to_event(an_incident(), "amur")
    body = payload(contact, snapshot, Notification(notification_id="n-1", channel="robot",
                                                   contact=contact.contact_id, reason="raised", status="pending"))
    assert body["msgtype"] == "markdown" and "黄色预警" in body["markdown"]["content"]


def test_a_bad_contacts_file_names_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "contacts.yaml"
    bad.write_text("departments:\n  - {id: d1, grid_code: '231102', hazards: [flood],"
                   " contacts: [{name: a, channel: pager, url: 'http://x'}]}\n")
    with pytest.raises(ConfigError, match="pager"):
        load_directory(bad)
    bad.write_text("departments:\n  - {id: d1, grid_code: '231102', hazards: [lava]}\n")
    with pytest.raises(ConfigError, match="lava"):
        load_directory(bad)
