"""A drill's record with something in every section of the report: a flood crest with its alert, forecast,
acknowledgement and escalation, fires, a camera fault, risk in two counties (shared by the report tests)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from stream import schemas
from stream.drills.report_data import DrillRecord, GaugeStages
from stream.schemas import Colour, Hazard, IncidentState
from stream.sim.scenarios.truth import Expected, GroundTruth

T0 = datetime(2025, 7, 20, 8, 0, tzinfo=timezone(timedelta(hours=8)))
HEIHE, XUNKE = "231102001001001", "231123004002003"
HOSTILE = "</script><script>window.pwned = 1</script><b>bold</b>"


def _incident(i: str, hazard: Hazard, hours: float, cells: list[str], revision: int = 1, change: str = "raised",
              at_h: float | None = None, **kw: object) -> schemas.IncidentChanged:
    return schemas.IncidentChanged(
        source="incidents", event_time=T0 + timedelta(hours=hours if at_h is None else at_h), incident_id=i,
        hazard=hazard, colour=kw.pop("colour", Colour.ORANGE), state=kw.pop("state", IncidentState.RAISED),
        title=kw.pop("title", f"{hazard.value} 黑河 {i}"), cells=cells, raised_at=T0 + timedelta(hours=hours),
        revision=revision, change=change, drill=True, area_key=f"{cells[0][:6]}/{hazard.value}", **kw)


def record() -> DrillRecord:
    reach = [schemas.EvidenceRef(evidence_id="g1", kind="gauge", source="hydro", event_time=T0, colour=Colour.ORANGE,
                                 cells=[HEIHE], reach="hlj-heihe")]
    incidents = [
        _incident("flood-1", Hazard.FLOOD, 2, [HEIHE], evidence=reach),
        _incident("flood-1", Hazard.FLOOD, 2, [HEIHE], 2, "escalated", 3, evidence=reach, escalation_level=1),
        _incident("flood-1", Hazard.FLOOD, 2, [HEIHE], 3, "acknowledged", 3.5, evidence=reach,
                  state=IncidentState.ACKNOWLEDGED),
        _incident("fire-1", Hazard.FIRE, 5, [XUNKE], title=HOSTILE),
        _incident("cam-1", Hazard.CAMERA_FAULT, 6, [HEIHE], colour=Colour.BLUE, cameras=["23110200001320000001"]),
    ]
    gauges = [schemas.GaugeState(source="hydro", event_time=T0 + timedelta(hours=h), gauge_id="hlj-heihe",
                                 stage_m=94.0 + 2.5 * h / 30 if h <= 30 else 96.5 - (h - 30) / 30,
                                 trend=schemas.TrendState.RISING, rate_m_per_h=0.08, colour=Colour.YELLOW)
              for h in range(0, 48, 2)]
    forecast = schemas.CrestForecast(
        source="hydro", event_time=T0 + timedelta(hours=4), forecast_id="f1", gauge_id="hlj-heihe",
        river="heilongjiang", crest_no=5, from_gauge_id="hlj-huma", issued_at=T0 + timedelta(hours=4),
        arrival_time=T0 + timedelta(hours=31), arrival_low=T0 + timedelta(hours=29),
        arrival_high=T0 + timedelta(hours=33), stage_m=96.6, stage_low_m=96.3, stage_high_m=96.9, colour=Colour.ORANGE)
    crest = schemas.CrestDetected(source="hydro", event_time=T0 + timedelta(hours=32), gauge_id="hlj-heihe",
                                  river="heilongjiang", crest_no=5, crest_time=T0 + timedelta(hours=30), stage_m=96.5,
                                  prominence_m=2.0, rise_start=T0)
    risks = [schemas.CellRisk(source="risk", event_time=T0, cell_code=cell, hazard=Hazard.FLOOD, score=1.0,
                              colour=colour)
             for cell, colour in ((HEIHE, Colour.RED), ("231102001001002", Colour.ORANGE), (XUNKE, Colour.YELLOW))]
    command = schemas.OperatorCommand(source="gateway", event_time=T0 + timedelta(hours=3.5), command_id="c1",
                                      incident_id="flood-1", action=schemas.CommandAction.ACKNOWLEDGE,
                                      operator="duty1", role=schemas.Role.DUTY_OFFICER, scope="231100")
    return DrillRecord("crest5", incidents, commands=[command], gauges=gauges, forecasts=[forecast], crests=[crest],
                       risks=risks)


TRUTH = GroundTruth("sample", T0, 7, (
    Expected("heihe", Hazard.FLOOD, "231102", T0 + timedelta(hours=3), "Flood at Heihe", cells=(HEIHE,)),
    Expected("fire", Hazard.FIRE, "231123", T0 + timedelta(hours=4), "Fire in Xunke"),
    Expected("missed", Hazard.FIRE, "231181", T0 + timedelta(hours=4), "Fire in Bei'an"),
), frozenset({Hazard.FLOOD, Hazard.FIRE}))
STAGES = {"hlj-heihe": GaugeStages("黑河 Heihe", 95.5, 96.3)}
COUNTIES = {"231102": "爱辉区", "231123": "逊克县"}
