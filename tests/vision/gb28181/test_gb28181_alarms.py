"""Device alarms and lost devices as findings, and a device's fire alarm through to an incident."""

from __future__ import annotations

import pytest

from stream.incidents import evidence
from stream.incidents.fusion import observe
from stream.incidents.state import Area
from stream.schemas import Colour, FindingKind
from tests.helpers.incidents import CELL_A, PLACES, POLICY, at, recipients
from vision.gb28181.alarms import alarm_finding, alarm_kinds, finding_of, offline_findings
from vision.gb28181.errors import Gb28181Error
from vision.gb28181.manscdp import AlarmNotify

CHANNEL = "23110200001320000001"


def alarm(method: int, alarm_type: int | None, priority: int = 1) -> AlarmNotify:
    return AlarmNotify(CHANNEL, 1, priority, method, alarm_type, "2026-06-21T12:00:00")


def test_standard_table_and_configured_vendor_types() -> None:
    table = alarm_kinds({"5/101": "fire", "7/*": "smoke"})
    assert finding_of(alarm(2, 1), table) == (FindingKind.OFFLINE, 0.95)
    assert finding_of(alarm(5, 11, priority=4), table) == (FindingKind.COVERED, 0.65)
    assert finding_of(alarm(5, 2), table) is None  # motion detection is no evidence
    assert finding_of(alarm(7, None), table) == (FindingKind.SMOKE, 0.95)
    with pytest.raises(Gb28181Error, match="'5/x'"):
        alarm_kinds({"5/x": "fire"})
    with pytest.raises(Gb28181Error, match="'flames'"):
        alarm_kinds({"5/101": "flames"})


def test_offline_device_makes_each_channel_an_offline_finding() -> None:
    found = offline_findings(["a", "b"], lambda c: (CELL_A,) if c == "a" else (), at(0))
    assert [(f.camera_id, f.kind, f.confirmed, f.cells) for f in found] == [
        ("a", FindingKind.OFFLINE, True, [CELL_A]), ("b", FindingKind.OFFLINE, True, [])]


def test_a_device_fire_alarm_raises_an_incident_in_the_channels_cell() -> None:
    finding = alarm_finding(alarm(5, 101), alarm_kinds({"5/101": "fire"}), [CELL_A], at(0))
    assert finding is not None
    [observed] = evidence.from_finding(finding, PLACES)
    outcome = observe(Area(area_key="231102/fire"), observed, PLACES, POLICY, recipients)
    [incident] = outcome.area.incidents
    assert incident.colour is Colour.ORANGE and incident.cells == [CELL_A]
    assert [e.evidence_id for e in incident.evidence] == [f"camera:{CHANNEL}:fire"]
    assert [c.change for c in outcome.changes] == ["raised"]
