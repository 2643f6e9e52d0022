"""One event, one incident: evidence of one river reach joins the reach's incident, and incidents that
turn out to be one event are merged, in the audit chain and in CAP (an Update and a Cancel that
reference each other, valid against the OASIS schema)."""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stream.incidents import evidence
from stream.incidents.actions import command, step
from stream.incidents.audit import AuditLog, read_lines, verify_lines
from stream.incidents.cap import CAP_NS, cap_xml, validate_cap
from stream.incidents.state import Area, Incident, to_event
from stream.schemas import (
    CellRisk,
    Colour,
    CommandAction,
    EvidenceObserved,
    GaugeState,
    Hazard,
    IncidentState,
    TrendState,
    to_builtins,
)
from tests.helpers.incidents import (
    CELL_A,
    CELL_B,
    FAR_CELL,
    PLACES,
    POLICY,
    at,
    cmd,
    observed,
    recipients,
)

FLOOD = "231102/flood"


def on_reach(item: EvidenceObserved, reach: str | None) -> EvidenceObserved:
    return msgspec.structs.replace(item, evidence=msgspec.structs.replace(item.evidence, reach=reach))


def flood(minutes: float, evidence_id: str, colour: Colour, cells: list[str], reach: str | None = None,
          kind: str = "cell_risk") -> EvidenceObserved:
    return on_reach(observed(minutes, evidence_id, colour, cells, Hazard.FLOOD, FLOOD, kind), reach)


def run(items: list[EvidenceObserved]) -> tuple[Area, list[Incident]]:
    area, published = Area(area_key=FLOOD), []
    for item in items:
        outcome = step(area, item, PLACES, POLICY, recipients)
        area, published = outcome.area, published + list(outcome.changes)
    return area, published


def open_incidents(area: Area) -> list[Incident]:
    return [i for i in area.incidents if i.state not in (IncidentState.RESOLVED, IncidentState.EXPIRED)]


def test_cells_of_one_reach_join_the_reach_incident_wherever_they_lie() -> None:
    near, far = flood(0, "risk:a", Colour.ORANGE, [CELL_A], "hlj-heihe"), flood(1, "risk:f", Colour.ORANGE, [FAR_CELL])
    area, _ = run([near, far])
    assert len(open_incidents(area)) == 2  # another township, no common reach: another incident
    area, published = run([near, on_reach(far, "hlj-heihe")])
    [incident] = open_incidents(area)
    assert incident.cells == [CELL_A, FAR_CELL] and [p.change for p in published] == ["raised", "extended"]


def merged_pair() -> tuple[Area, list[Incident]]:
    """A report raises A at cell A; a river cell in another township raises B; then the gauge's flooded
    cells reach A's village: the gauge evidence links both, so they are one event."""
    return run([flood(0, "report:r-1", Colour.BLUE, [CELL_A], kind="grid_report"),
                flood(1, "risk:f", Colour.ORANGE, [FAR_CELL], "hlj-heihe"),
                flood(2, "gauge:hlj-heihe", Colour.YELLOW, [CELL_B], "hlj-heihe", kind="gauge")])


def test_incidents_linked_later_are_merged_into_the_earliest() -> None:
    area, published = merged_pair()
    first, second = area.incidents
    [survivor] = open_incidents(area)
    assert survivor.incident_id == first.incident_id and second.state is IncidentState.RESOLVED
    assert second.merged_into == first.incident_id and first.merged_from == (second.incident_id,)
    assert sorted(e.evidence_id for e in survivor.evidence) == ["gauge:hlj-heihe", "report:r-1", "risk:f"]
    assert survivor.cells == [CELL_A, CELL_B, FAR_CELL] and survivor.colour is Colour.ORANGE
    assert [(p.incident_id, p.change) for p in published[-2:]] == [(second.incident_id, "resolved"),
                                                                  (first.incident_id, "merged")]
    assert all(p.updated_at == at(2) for p in published[-2:])


def alert(incident: Incident) -> ET.Element:
    document = cap_xml(to_event(incident, "amur"), sender=POLICY.cap_sender, zone=POLICY.zone,
                       outlines=PLACES.outline, place_name=PLACES.name)
    validate_cap(document)  # the OASIS schema
    return ET.fromstring(document.split("\n", 1)[1])


def text(element: ET.Element, path: str) -> str:
    return element.findtext(path.replace("cap:", f"{{{CAP_NS}}}")) or ""


def test_the_merge_is_an_update_and_a_cancel_that_reference_each_other() -> None:
    area, _ = merged_pair()
    survivor, absorbed = area.incidents
    update, cancel = alert(survivor), alert(absorbed)
    assert text(update, "cap:msgType") == "Update" and text(cancel, "cap:msgType") == "Cancel"
    update_id, cancel_id = text(update, "cap:identifier"), text(cancel, "cap:identifier")
    assert update_id == f"{survivor.incident_id}.r{survivor.revision}"
    assert cancel_id == f"{absorbed.incident_id}.r{absorbed.revision}"
    referenced = lambda element: {ref.split(",")[1] for ref in text(element, "cap:references").split()}  # noqa: E731
    assert {cancel_id, f"{absorbed.incident_id}.r1"} <= referenced(update)  # its Alert and its Cancel
    assert update_id in referenced(cancel)
    assert set(text(update, "cap:incidents").split()) == set(text(cancel, "cap:incidents").split()) == {
        survivor.incident_id, absorbed.incident_id}
    assert survivor.incident_id in text(cancel, "cap:info/cap:headline")
    assert text(cancel, "cap:info/cap:responseType") == "None"  # not all clear: the survivor's warning stands


def test_commands_on_a_merged_incident_are_refused_naming_the_survivor() -> None:
    area, _ = merged_pair()
    survivor, absorbed = area.incidents
    refused = command(area, cmd(3, absorbed.incident_id, CommandAction.REOPEN), POLICY, recipients).changes
    assert refused[0].change == "command_refused" and survivor.incident_id in (refused[0].refusal or "")


def test_the_merge_is_recorded_in_the_audit_chain(tmp_path: Path) -> None:
    _, published = merged_pair()
    log = AuditLog(tmp_path / "audit.jsonl")
    for incident in published:  # as audit_incidents appends what the incidents topic carries
        changed = to_event(incident, "amur")
        log.append("incident", f"{changed.incident_id}#{changed.revision}#{changed.change}#", changed.event_time,
                   to_builtins(changed))
    assert verify_lines(read_lines(log.path)).count == len(published)
    records = [msgspec.json.decode(line)["data"] for line in read_lines(log.path)]
    merged = [(r["incident_id"], r["change"], r["merged_into"], r["merged_from"]) for r in records
              if r["merged_into"] or r["merged_from"]]
    first, second = merged_pair()[0].incidents
    assert merged == [(second.incident_id, "resolved", first.incident_id, []),
                      (first.incident_id, "merged", None, [second.incident_id])]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["risk:1", "risk:2", "report:3", "gauge:4", "camera:5"]),
                          st.sampled_from(list(Colour)), st.sampled_from([CELL_A, CELL_B, FAR_CELL]),
                          st.sampled_from([None, "hlj-heihe", "hlj-aihui"]), st.integers(0, 3)), max_size=30))
def test_a_reach_or_a_place_is_never_held_by_two_open_incidents(steps: list[tuple]) -> None:
    """Within one merge window, whatever the order: no reach and no village is in the live (not cleared)
    evidence of two open incidents, and no piece of evidence is in two."""
    area, minute = Area(area_key=FLOOD), 0
    for evidence_id, colour, cell, reach, gap in steps:
        minute = min(55, minute + gap)
        area = step(area, flood(minute, evidence_id, colour, [cell], reach), PLACES, POLICY, recipients).area
        live = [[e for e in i.evidence if e.colour is not Colour.GREEN] for i in open_incidents(area)]
        reaches = [r for evidence in live for r in {e.reach for e in evidence if e.reach}]
        assert len(reaches) == len(set(reaches)), live
        villages = [v for evidence in live for v in {c[:12] for e in evidence for c in e.cells}]
        assert len(villages) == len(set(villages)), live
        held = [e.evidence_id for i in open_incidents(area) for e in i.evidence]
        assert len(held) == len(set(held))


# ------------------------------------------------------------------ the rise of issue 23, replayed


@pytest.fixture(scope="module")
def heihe():  # type: ignore[no-untyped-def]
    from stream.incidents.gis_places import load_gis_places
    from stream.risk.score import RiskGrid

    return RiskGrid.load(), load_gis_places()


@pytest.mark.parametrize("seed", [1, 2])
def test_a_replayed_rise_at_the_heihe_gauge_is_one_flood_and_one_incident(heihe, seed: int) -> None:  # type: ignore[no-untyped-def]
    """7.0 m to 8.7 m over four hours (warning 7.30, guaranteed 8.60), scored by the risk model as the
    stream does; gauge and cell evidence reach the incidents in a different order each step (as they do
    from different partitions)."""
    from gis.hydro.alerts import Thresholds, stage_colour
    from gis.registry import load_gauges
    from stream.risk.score import RiskInputs, changes, score_grid

    grid, places = heihe
    gauge = next(g for g in load_gauges() if g.gauge_id == "hlj-heihe")
    assert (gauge.warning_m, gauge.guaranteed_m) == (7.30, 8.60)
    thresholds = Thresholds(gauge.gauge_id, gauge.warning_m, gauge.guaranteed_m, gauge.record_m)
    shuffle, areas, published, last, colour = random.Random(seed).shuffle, {}, [], None, Colour.GREEN
    for k in range(17):  # every 15 minutes
        now, stage = at(0) + timedelta(minutes=15 * k), round(7.0 + 1.7 * k / 16, 3)
        colour = stage_colour(stage, thresholds, colour)
        state = GaugeState(source="hydro", event_time=now, gauge_id=gauge.gauge_id, stage_m=stage,
                           trend=TrendState.RISING, rate_m_per_h=0.425, colour=colour)
        scores = score_grid(grid, RiskInputs({gauge.gauge_id: state}, [], {}, {}, []), now=now,
                            tz=ZoneInfo("Asia/Shanghai"))
        cells, last = changes(grid, last, scores.flood)
        items = evidence.from_gauge(state, places) + [
            item for cs in cells for item in evidence.from_cell_risk(CellRisk(
                source="risk", event_time=now, cell_code=cs.cell_code, hazard=cs.hazard, score=cs.score,
                colour=cs.colour, factors=cs.factors, gauge_id=cs.gauge_id))]
        shuffle(items)
        for item in items:
            outcome = step(areas.get(item.area_key) or Area(area_key=item.area_key), item, places, POLICY,
                           recipients)
            areas[item.area_key], published = outcome.area, published + list(outcome.changes)
    floods = {p.incident_id for p in published if p.hazard is Hazard.FLOOD}
    assert len(floods) == 1, f"{len(floods)} flood incidents for one flood"
    [incident] = [i for area in areas.values() for i in area.incidents]
    assert incident.state is IncidentState.RAISED and incident.colour in (Colour.ORANGE, Colour.RED)
    assert len(incident.cells) > 600 and {e.reach for e in incident.evidence} == {"hlj-heihe"}
    flooded = next(e for e in incident.evidence if e.kind == "cell_risk" and e.colour is Colour.RED)
    assert "at hlj-heihe, this cell floods at" in flooded.summary  # the cell's own stage, for the wall
