"""Merging evidence into incidents: one incident per hazard and place, colour with hysteresis, replays."""

from __future__ import annotations

from dataclasses import replace as dc_replace
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from stream.incidents import evidence
from stream.incidents.actions import tick
from stream.incidents.fusion import observe
from stream.incidents.lifecycle import OPEN_STATES
from stream.incidents.state import Area, Incident, Policy
from stream.schemas import Colour, EvidenceObserved, FindingKind, IncidentState
from tests.helpers.incidents import (
    CELL_A,
    CELL_B,
    CELL_C,
    FAR_CELL,
    PLACES,
    POLICY,
    VILLAGE,
    at,
    finding,
    gauge,
    observed,
    recipients,
    report,
)


def run(inputs: list[EvidenceObserved | datetime], area_key: str,
        policy: Policy = POLICY) -> tuple[Area, list[Incident]]:
    area, published = Area(area_key=area_key), []
    for item in inputs:
        if isinstance(item, datetime):
            outcome = tick(area, item, policy, recipients)
        else:
            outcome = observe(area, item, PLACES, policy, recipients)
        area, published = outcome.area, published + list(outcome.changes)
    return area, published


def flood_inputs() -> list[EvidenceObserved]:
    return (evidence.from_gauge(gauge(0), PLACES)
            + evidence.from_finding(finding(5, "cam-1", FindingKind.WATER_RISE), PLACES)
            + evidence.from_grid_event(report(6, service="flood_report"), PLACES))


def test_gauge_crossing_camera_finding_and_report_become_one_incident() -> None:
    area, published = run(flood_inputs(), "231102/flood")
    assert len(area.incidents) == 1
    incident = area.incidents[0]
    assert [e.evidence_id for e in incident.evidence] == ["gauge:hlj-heihe", "camera:cam-1:water_rise", "report:r-1"]
    assert incident.cells == [CELL_A, CELL_B, CELL_C]
    assert incident.colour is Colour.YELLOW  # worst of yellow, yellow, blue
    assert [(p.change, p.revision) for p in published] == [("raised", 1), ("extended", 2), ("extended", 3)]
    # the finding's own camera first, then the others by coverage of cells A, B, C: cam-3 0.8, cam-1 0.7, cam-2 0.3
    assert incident.cameras == ("cam-1", "cam-3", "cam-2")
    assert incident.place == VILLAGE and incident.responsible == VILLAGE


def test_smoke_on_two_cameras_and_a_report_then_fire_upgrades() -> None:
    inputs = (evidence.from_finding(finding(0, "cam-1"), PLACES) + evidence.from_finding(finding(1, "cam-2"), PLACES)
              + evidence.from_grid_event(report(2), PLACES))
    area, published = run(inputs, "231102/fire")
    assert len(area.incidents) == 1 and len(area.incidents[0].evidence) == 3
    assert area.incidents[0].colour is Colour.YELLOW
    area2, more = run(inputs + evidence.from_finding(finding(3, "cam-3", FindingKind.FIRE), PLACES), "231102/fire")
    assert more[-1].change == "upgraded" and more[-1].colour is Colour.ORANGE
    assert len(area2.incidents) == 1


def test_distant_cell_or_late_evidence_is_a_separate_incident() -> None:
    far = observed(1, "risk:far", Colour.YELLOW, [FAR_CELL])
    area, _ = run([observed(0, "risk:a", Colour.YELLOW, [CELL_A]), far], "231102/fire")
    assert len(area.incidents) == 2
    late = observed(61, "risk:b", Colour.YELLOW, [CELL_B])  # merge window is 60 min after the last evidence
    area, _ = run([observed(0, "risk:a", Colour.YELLOW, [CELL_A]), late], "231102/fire")
    assert len(area.incidents) == 2
    inside = observed(59, "risk:b", Colour.YELLOW, [CELL_B])
    area, _ = run([observed(0, "risk:a", Colour.YELLOW, [CELL_A]), inside], "231102/fire")
    assert len(area.incidents) == 1


def test_replayed_and_stale_evidence_changes_nothing() -> None:
    inputs = flood_inputs()
    area, published = run(inputs, "231102/flood")
    again, republished = run(inputs + inputs, "231102/flood")
    assert again == area and republished == published
    stale = evidence.from_gauge(gauge(-5, Colour.RED), PLACES)  # older than the gauge evidence already held
    assert observe(area, stale[0], PLACES, POLICY, recipients).changes == ()


def test_a_clear_signal_alone_raises_nothing() -> None:
    area, published = run(evidence.from_finding(finding(0, confirmed=False), PLACES), "231102/fire")
    assert area.incidents == () and published == []


def colour_changes(published: list[Incident]) -> list[tuple[str, Colour]]:
    return [(p.change, p.colour) for p in published if p.change in ("upgraded", "downgraded")]


def test_downgrade_waits_for_the_hold_and_flicker_does_not_downgrade() -> None:
    start = [observed(0, "risk:a", Colour.ORANGE, [CELL_A])]
    lower = observed(10, "risk:a", Colour.BLUE, [CELL_A])
    area, published = run(start + [lower, at(24)], "231102/fire")
    assert colour_changes(published) == [] and area.incidents[0].colour is Colour.ORANGE  # 14 min < 15 min hold
    area, published = run(start + [lower, at(25)], "231102/fire")
    assert colour_changes(published) == [("downgraded", Colour.BLUE)]
    back_up = observed(20, "risk:a", Colour.ORANGE, [CELL_A])
    area, published = run(start + [lower, back_up, at(30)], "231102/fire")
    assert colour_changes(published) == [] and area.incidents[0].colour is Colour.ORANGE


def test_upgrade_is_immediate() -> None:
    area, published = run([observed(0, "risk:a", Colour.BLUE, [CELL_A]), observed(1, "risk:a", Colour.RED, [CELL_A])],
                          "231102/fire")
    assert colour_changes(published) == [("upgraded", Colour.RED)]


def test_auto_resolve_when_all_evidence_clears_unless_disabled() -> None:
    inputs = [observed(0, "risk:a", Colour.YELLOW, [CELL_A]), observed(3, "risk:a", Colour.GREEN, [CELL_A]), at(18)]
    area, published = run(inputs, "231102/fire")
    assert published[-1].change == "resolved" and area.incidents[0].state is IncidentState.RESOLVED
    assert len(area.incidents[0].cap_refs) == 2  # the Alert and its Cancel
    area, published = run(inputs, "231102/fire", dc_replace(POLICY, auto_resolve=False))
    assert area.incidents[0].state is IncidentState.RAISED and area.incidents[0].colour is Colour.BLUE


def test_evidence_after_resolution_raises_a_new_incident() -> None:
    inputs = [observed(0, "risk:a", Colour.YELLOW, [CELL_A]), observed(3, "risk:a", Colour.GREEN, [CELL_A]), at(18),
              observed(20, "risk:a", Colour.YELLOW, [CELL_A])]
    area, _ = run(inputs, "231102/fire")
    states = [i.state for i in area.incidents]
    assert states == [IncidentState.RESOLVED, IncidentState.RAISED]
    assert area.incidents[0].incident_id != area.incidents[1].incident_id


def test_incident_id_is_deterministic_and_names_its_area() -> None:
    first, _ = run(flood_inputs(), "231102/flood")
    second, _ = run(flood_inputs(), "231102/flood")
    incident_id = first.incidents[0].incident_id
    assert incident_id == second.incidents[0].incident_id and incident_id.startswith("231102-flood-")
    assert evidence.area_of_incident(incident_id) == "231102/flood"


# ------------------------------------------------------------------ properties

CELLS = [CELL_A, CELL_B, CELL_C]
evidence_ids = st.sampled_from(["risk:1", "risk:2", "report:3", "camera:4", "camera:5"])
colours = st.sampled_from(list(Colour))
step = st.one_of(
    st.tuples(st.just("evidence"), evidence_ids, colours, st.sampled_from(CELLS), st.integers(0, 3)),
    st.tuples(st.just("tick"), st.integers(0, 20)),
)


def build(steps: list[tuple]) -> list[EvidenceObserved | datetime]:
    """Times only move forward and stay within 55 minutes: one merge window."""
    minute, inputs = 0.0, []
    for s in steps:
        if s[0] == "evidence":
            _, evidence_id, colour, cell, gap = s
            minute = min(55.0, minute + gap)
            inputs.append(observed(minute, evidence_id, colour, [cell]))
        else:
            inputs.append(at(min(55.0, minute + s[1])))
    return inputs


@settings(max_examples=150, deadline=None)
@given(st.lists(step, max_size=30))
def test_never_two_open_incidents_for_one_hazard_in_one_area(steps: list[tuple]) -> None:
    area = Area(area_key="231102/fire")
    for item in build(steps):
        area = (tick(area, item, POLICY, recipients) if isinstance(item, datetime)
                else observe(area, item, PLACES, POLICY, recipients)).area
        assert sum(1 for i in area.incidents if i.state in OPEN_STATES) <= 1


@settings(max_examples=100, deadline=None)
@given(st.lists(step, max_size=25), st.data())
def test_redelivering_evidence_after_a_crash_publishes_nothing_new(steps: list[tuple], data: st.DataObject) -> None:
    inputs = build(steps)
    area, published = run(inputs, "231102/fire")
    replay_from = data.draw(st.integers(0, len(inputs)))
    evidence_only = [i for i in inputs[replay_from:] if not isinstance(i, datetime)]
    for item in evidence_only:
        outcome = observe(area, item, PLACES, POLICY, recipients)
        assert outcome.changes == ()
        area = outcome.area
    ids = [(p.incident_id, p.revision) for p in published]
    assert len(ids) == len(set(ids))  # no revision published twice
    notified = [n.notification_id for i in area.incidents for n in i.notifications]
    assert len(notified) == len(set(notified))


@settings(max_examples=60, deadline=None)
@given(st.lists(step, max_size=20))
def test_every_incident_reaches_a_final_state_once_evidence_stops(steps: list[tuple]) -> None:
    area, _ = run(build(steps), "231102/fire")
    area = tick(area, at(55) + timedelta(days=2), POLICY, recipients).area
    assert all(i.state not in OPEN_STATES for i in area.incidents)


def test_a_modelled_risk_below_orange_only_supports_an_incident() -> None:
    yellow_risk = observed(0, "risk:a", Colour.YELLOW, [CELL_A], kind="cell_risk")
    area, published = run([yellow_risk], "231102/fire")
    assert area.incidents == () and published == []
    area, _ = run([observed(1, "report:1", Colour.BLUE, [CELL_B]), observed(2, "risk:a", Colour.YELLOW, [CELL_A],
                                                                             kind="cell_risk")], "231102/fire")
    assert len(area.incidents) == 1 and area.incidents[0].colour is Colour.YELLOW  # joined, and it is the worst
    area, _ = run([observed(0, "risk:a", Colour.ORANGE, [CELL_A], kind="cell_risk")], "231102/fire")
    assert len(area.incidents) == 1
