"""Builders shared by the incident tests: a small fixture grid, evidence and commands."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from stream.incidents.places import TablePlaces
from stream.incidents.state import Incident, Policy
from stream.schemas import (
    Colour,
    CommandAction,
    EvidenceObserved,
    EvidenceRef,
    FindingKind,
    GaugeState,
    GridEvent,
    Hazard,
    OperatorCommand,
    Role,
    TrendState,
    VisionFinding,
)

T0 = datetime(2026, 7, 12, 0, 0, tzinfo=timezone.utc)
VILLAGE = "231102001001"
CELL_A, CELL_B, CELL_C = VILLAGE + "001", VILLAGE + "002", VILLAGE + "003"
FAR_CELL = "231102005002001"  # another township of Aihui
XUNKE_CELL = "231123001001001"


def square(lon: float, lat: float, size: float = 0.01) -> tuple[tuple[float, float], ...]:
    return ((lon, lat), (lon + size, lat), (lon + size, lat + size), (lon, lat + size), (lon, lat))


PLACES = TablePlaces(
    gauges={"hlj-heihe": (CELL_A,), "hlj-split": (CELL_A, XUNKE_CELL)},
    camera_coverage={"cam-1": {CELL_B: 0.6, CELL_A: 0.1}, "cam-2": {CELL_B: 0.3}, "cam-3": {CELL_A: 0.8},
                     "cam-far": {FAR_CELL: 0.9}},
    outlines={CELL_A: square(127.50, 50.20), CELL_B: square(127.51, 50.20), CELL_C: square(127.52, 50.20)},
    names={VILLAGE: "Sample village", "231102": "Aihui"},
)
POLICY = Policy()


def recipients(incident: Incident, reason: str) -> list[tuple[str, str]]:
    """One duty contact per responsible grid code (and the assignee when assigned)."""
    who = incident.assignee if reason == "assigned" else incident.responsible
    return [(f"duty/{who}", "webhook")]


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def gauge(minutes: float, colour: Colour = Colour.YELLOW, gauge_id: str = "hlj-heihe") -> GaugeState:
    return GaugeState(source="hydro", event_time=at(minutes), gauge_id=gauge_id, stage_m=7.5,
                      trend=TrendState.RISING, rate_m_per_h=0.05, colour=colour)


def finding(minutes: float, camera: str = "cam-1", kind: FindingKind = FindingKind.SMOKE,
            confirmed: bool = True) -> VisionFinding:
    return VisionFinding(source="vision", event_time=at(minutes), camera_id=camera, kind=kind, score=0.9,
                         confirmed=confirmed)


def report(minutes: float, report_id: str = "r-1", service: str = "fire_report", cell: str = CELL_C) -> GridEvent:
    return GridEvent(source="open311", event_time=at(minutes), report_id=report_id, service_code=service,
                     description="smoke behind the school", lon=127.525, lat=50.205, cell_code=cell)


def observed(minutes: float, evidence_id: str, colour: Colour, cells: list[str], hazard: Hazard = Hazard.FIRE,
             area: str = "231102/fire", kind: str = "grid_report") -> EvidenceObserved:
    ref = EvidenceRef(evidence_id=evidence_id, kind=kind, source="test", event_time=at(minutes),
                      colour=colour, cells=cells, cell_code=cells[0] if cells else None, hazard=hazard)
    return EvidenceObserved(source="test", event_time=at(minutes), area_key=area, evidence=ref)


def cmd(minutes: float, incident_id: str, action: CommandAction, *, command_id: str | None = None,
        role: Role = Role.DUTY_OFFICER, scope: str = "231102", assignee: str | None = None,
        comment: str | None = None) -> OperatorCommand:
    return OperatorCommand(source="gateway", event_time=at(minutes), command_id=command_id or f"c-{action}-{minutes}",
                           incident_id=incident_id, action=action, operator="wang.li", role=role, scope=scope,
                           assignee=assignee, comment=comment)
