"""The drill report's figures: ground-truth matching (on time, late, missed, false alarms), time to acknowledge,
flood lead time, open incidents over time, risk by county."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import msgspec

from stream import schemas
from stream.drills.report_data import (
    DrillRecord,
    GaugeStages,
    build,
    crest_times,
    hydrographs,
    open_over_time,
    risk_by_county,
    score,
)
from stream.schemas import Colour, Hazard, IncidentState
from stream.sim.scenarios.truth import Expected, GroundTruth

T0 = datetime(2025, 7, 20, 8, 0, tzinfo=timezone(timedelta(hours=8)))
CELL_A, CELL_B, CELL_C = "231102001001001", "231102001001002", "231123004002003"


def _incident(i: str, hazard: Hazard, minutes: float, cells: list[str], *, revision: int = 1, change: str = "raised",
              at: float | None = None, **kw: object) -> schemas.IncidentChanged:
    raised = T0 + timedelta(minutes=minutes)
    return schemas.IncidentChanged(
        source="incidents", event_time=T0 + timedelta(minutes=minutes if at is None else at), incident_id=i,
        hazard=hazard, colour=kw.pop("colour", Colour.BLUE), state=kw.pop("state", IncidentState.RAISED),
        title=f"{hazard.value} {i}", cells=cells, raised_at=raised, revision=revision, change=change, drill=True,
        area_key=f"{cells[0][:6]}/{hazard.value}", **kw)


TRUTH = GroundTruth("test", T0, 7, (
    Expected("street", Hazard.FLOOD, "231102", T0 + timedelta(minutes=10), "flooded street", cells=(CELL_A,)),
    Expected("late-fire", Hazard.FIRE, "231123", T0 + timedelta(minutes=5), "fire in Xunke"),
    Expected("missed", Hazard.FIRE, "231102", T0 + timedelta(minutes=30), "fire in Aihui", cells=(CELL_B,)),
), frozenset({Hazard.FLOOD, Hazard.FIRE}))


def test_each_expectation_is_on_time_late_or_missed_and_unmatched_incidents_are_false_alarms() -> None:
    latest = [_incident("flood-1", Hazard.FLOOD, 4, [CELL_A]),
              _incident("fire-1", Hazard.FIRE, 12, [CELL_C]),
              _incident("flood-2", Hazard.FLOOD, 6, [CELL_C]),        # matches nothing: a false alarm
              _incident("out-1", Hazard.SOURCE_OUTAGE, 1, [CELL_A])]   # a hazard the truth says nothing of
    scored = score(latest, TRUTH)
    assert [(m.expected.key, m.status, m.incident_id) for m in scored.matches] == [
        ("street", "on_time", "flood-1"), ("late-fire", "late", "fire-1"), ("missed", "missed", None)]
    assert scored.matches[1].delay_s == 7 * 60
    assert scored.false_alarms == ["flood-2"] and scored.outside == ["out-1"]
    assert scored.recall == 2 / 3 and scored.on_time == 1 / 3 and scored.precision == 2 / 3


def test_a_merged_away_incident_is_neither_a_hit_nor_a_false_alarm() -> None:
    latest = [_incident("flood-1", Hazard.FLOOD, 4, [CELL_A, CELL_B], merged_from=["flood-2"]),
              _incident("flood-2", Hazard.FLOOD, 5, [CELL_B], merged_into="flood-1")]
    scored = score(latest, GroundTruth("t", T0, 7, TRUTH.expected[:1], frozenset({Hazard.FLOOD})))
    assert scored.precision == 1.0 and scored.recall == 1.0 and not scored.false_alarms


def test_camera_fault_expectation_needs_every_named_camera() -> None:
    expected = Expected("cams", Hazard.CAMERA_FAULT, "231102", T0 + timedelta(hours=1), "cams", cameras=("c1", "c2"))
    truth = GroundTruth("t", T0, 7, (expected,), frozenset({Hazard.CAMERA_FAULT}))
    one = _incident("f1", Hazard.CAMERA_FAULT, 3, [CELL_A], cameras=["c1"])
    both = _incident("f2", Hazard.CAMERA_FAULT, 9, [CELL_A], cameras=["c1", "c2", "c3"])
    assert score([one], truth).matches[0].status == "missed"
    assert score([one, both], truth).matches[0].incident_id == "f2"


def test_build_counts_ack_time_from_the_revision_history_and_the_timeline_is_in_event_order() -> None:
    events = [_incident("flood-1", Hazard.FLOOD, 4, [CELL_A]),
              _incident("flood-1", Hazard.FLOOD, 4, [CELL_A], revision=2, change="escalated", at=20,
                        escalation_level=1),
              _incident("flood-1", Hazard.FLOOD, 4, [CELL_A], revision=3, change="acknowledged", at=25,
                        state=IncidentState.ACKNOWLEDGED),
              _incident("flood-1", Hazard.FLOOD, 4, [CELL_A], revision=3, change="acknowledged", at=25,
                        state=IncidentState.ACKNOWLEDGED),  # a replayed revision counts once
              _incident("fire-1", Hazard.FIRE, 12, [CELL_C])]
    command = schemas.OperatorCommand(source="gateway", event_time=T0 + timedelta(minutes=24), command_id="c1",
                                      incident_id="flood-1", action=schemas.CommandAction.ACKNOWLEDGE,
                                      operator="duty1", role=schemas.Role.DUTY_OFFICER, scope="231100")
    report = build(DrillRecord("d1", events, commands=[command]), TRUTH, county_names={"231102": "爱辉区"})
    head = report["headline"]
    assert head["incidents"] == 2 and head["acknowledged"] == 1 and head["median_ack_s"] == 21 * 60
    assert head["missed"] == 1 and head["late"] == 1 and head["expected"] == 3
    assert [(r["incident"], r["change"]) for r in report["timeline"]] == [
        ("flood-1", "raised"), ("fire-1", "raised"), ("flood-1", "escalated"), ("flood-1", "acknowledge"),
        ("flood-1", "acknowledged")]
    assert report["truth"][0]["county_name"] == "爱辉区"
    assert msgspec.json.decode(msgspec.json.encode(report)) == report  # JSON-ready as it is


def test_lead_time_is_to_the_crest_detected_at_the_alert_reach_else_the_true_crest() -> None:
    evidence = [schemas.EvidenceRef(evidence_id="g", kind="gauge", source="hydro", event_time=T0,
                                    colour=Colour.YELLOW, cells=[CELL_A], summary="", reach="hlj-heihe")]
    alert = _incident("flood-1", Hazard.FLOOD, 0, [CELL_A], evidence=evidence)
    crest = schemas.CrestDetected(source="hydro", event_time=T0 + timedelta(hours=40), gauge_id="hlj-heihe",
                                  river="heilongjiang", crest_no=5, crest_time=T0 + timedelta(hours=36), stage_m=7.0,
                                  prominence_m=2.0, rise_start=T0)
    revised = msgspec.structs.replace(crest, revision=1, crest_time=T0 + timedelta(hours=38), stage_m=7.2)
    assert crest_times([crest, revised]) == {"hlj-heihe": T0 + timedelta(hours=38)}
    report = build(DrillRecord("d1", [alert], crests=[crest, revised]), None)
    assert report["lead_times"][0]["lead_h"] == 38.0 and report["headline"]["min_flood_lead_h"] == 38.0
    truth = GroundTruth("t", T0, 7, (Expected("crest", Hazard.FLOOD, "231102", T0 + timedelta(hours=1), "crest",
                                              cells=(CELL_A,), crest_at=T0 + timedelta(hours=30)),),
                        frozenset({Hazard.FLOOD}))
    assert build(DrillRecord("d1", [alert]), truth)["lead_times"][0]["lead_h"] == 30.0


def test_open_incidents_step_up_when_raised_and_down_when_closed() -> None:
    hist = {"a": [_incident("a", Hazard.FIRE, 1, [CELL_A]),
                  _incident("a", Hazard.FIRE, 1, [CELL_A], revision=2, change="resolved", at=9)],
            "b": [_incident("b", Hazard.FIRE, 5, [CELL_B])]}
    assert [n for _, n in open_over_time(hist)] == [1, 2, 1]


def test_risk_by_county_counts_each_cell_once_at_its_worst_colour() -> None:
    def risk(cell: str, colour: Colour) -> schemas.CellRisk:
        return schemas.CellRisk(source="risk", event_time=T0, cell_code=cell, hazard=Hazard.FIRE, score=1.0,
                                colour=colour)
    counts = risk_by_county([risk(CELL_A, Colour.YELLOW), risk(CELL_A, Colour.RED), risk(CELL_A, Colour.GREEN),
                             risk(CELL_B, Colour.ORANGE), risk(CELL_C, Colour.BLUE)])
    assert counts == {"231102": {"yellow": 0, "orange": 1, "red": 1}}


def test_hydrographs_prefer_forecast_gauges_then_the_highest_against_warning() -> None:
    def state(gauge: str, stage: float) -> schemas.GaugeState:
        return schemas.GaugeState(source="hydro", event_time=T0, gauge_id=gauge, stage_m=stage,
                                  trend=schemas.TrendState.RISING, rate_m_per_h=0.1, colour=Colour.GREEN)
    forecast = schemas.CrestForecast(
        source="hydro", event_time=T0, forecast_id="f", gauge_id="low", river="r", crest_no=1, from_gauge_id="x",
        issued_at=T0, arrival_time=T0 + timedelta(hours=5), arrival_low=T0, arrival_high=T0, stage_m=3.0,
        stage_low_m=2.8, stage_high_m=3.2, colour=Colour.YELLOW)
    stages = {g: GaugeStages(g, 5.0, 6.0) for g in ("low", "high", "mid")}
    charts = hydrographs([state("low", 1.0), state("high", 5.5), state("mid", 4.0)], [forecast], stages)
    assert [c["gauge"] for c in charts] == ["low", "high", "mid"]
    assert charts[0]["forecasts"][0]["stage_m"] == 3.0 and charts[1]["warning_m"] == 5.0


def test_an_expectation_of_a_kind_of_evidence_is_detected_when_the_incident_first_carries_it() -> None:
    def ref(kind: str, minutes: int) -> schemas.EvidenceRef:
        return schemas.EvidenceRef(evidence_id=f"{kind}{minutes}", kind=kind, source="t", colour=Colour.ORANGE,
                                   event_time=T0 + timedelta(minutes=minutes), cells=[CELL_C])
    expected = Expected("weather", Hazard.FIRE, "231123", T0 + timedelta(minutes=30), "fire weather",
                        evidence="cell_risk")
    truth = GroundTruth("t", T0, 7, (expected,), frozenset({Hazard.FIRE}))
    report_only = _incident("f1", Hazard.FIRE, 5, [CELL_C], evidence=[ref("grid_report", 5)])
    assert score([report_only], truth).matches[0].status == "missed"
    joined = _incident("f1", Hazard.FIRE, 5, [CELL_C], evidence=[ref("grid_report", 5), ref("cell_risk", 40)])
    (match,) = score([joined], truth).matches
    assert match.status == "late" and match.delay_s == 10 * 60
