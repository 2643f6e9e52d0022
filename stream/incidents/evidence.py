"""Every source's event turned into evidence: hazard, colour, cells, and the hazard area key.

Evidence has a stable id per *source of evidence* (a gauge, a forecast crest, a
camera's finding kind, a citizen report, a cell's risk), so a newer event of the
same source updates the evidence in place instead of piling up. Evidence whose
cells fall in several counties is split per county: an incident's state lives
in exactly one hazard area (``<county code>/<hazard>``), the partition key.
Evidence about a river reach (a gauge, its crest forecasts, cells whose flood
risk its stage drives) names the reach's gauge in ``reach``.
"""

from __future__ import annotations

import msgspec

from stream.errors import InvalidEvent
from stream.incidents.grid import CITY_CODE, COUNTY_CODES, check_code, county_of
from stream.incidents.places import PlaceIndex
from stream.schemas import (
    CellRisk,
    Colour,
    CrestForecast,
    EvidenceObserved,
    EvidenceRef,
    FindingKind,
    GaugeState,
    GridEvent,
    Hazard,
    SourceHealth,
    SourceState,
    VisionFinding,
)

REPORT_EVIDENCE = "report:"
"""Evidence id prefix of a citizen report: ``report:<Open311 service request id>``."""

#: What a confirmed vision finding means, and how bad it is on its own.
FINDING_HAZARD: dict[FindingKind, tuple[Hazard, Colour]] = {
    FindingKind.FIRE: (Hazard.FIRE, Colour.ORANGE),
    FindingKind.SMOKE: (Hazard.FIRE, Colour.YELLOW),
    FindingKind.WATER_RISE: (Hazard.FLOOD, Colour.YELLOW),
    **{kind: (Hazard.CAMERA_FAULT, Colour.BLUE) for kind in (
        FindingKind.OFFLINE, FindingKind.FROZEN, FindingKind.DARK, FindingKind.OVEREXPOSED,
        FindingKind.BLURRED, FindingKind.COVERED, FindingKind.MOVED, FindingKind.CORRUPT,
        FindingKind.AUTH_FAILED, FindingKind.CLOCK_OFFSET)},
}

#: Words in an Open311 service code -> hazard (first match wins; otherwise public safety).
SERVICE_HAZARD: tuple[tuple[str, Hazard], ...] = (
    ("flood", Hazard.FLOOD), ("water", Hazard.FLOOD), ("levee", Hazard.FLOOD), ("dike", Hazard.FLOOD),
    ("fire", Hazard.FIRE), ("smoke", Hazard.FIRE), ("burn", Hazard.FIRE),
)
#: An unverified report from a person is a blue (IV) warning until other evidence confirms it.
REPORT_COLOUR = Colour.BLUE


def area_key(county: str, hazard: Hazard) -> str:
    return f"{county}/{hazard.value}"


def check_area_key(key: str) -> str:
    """``key`` if it names a county (or the city) and a hazard, else :class:`InvalidEvent`."""
    county, _, hazard = key.partition("/")
    if county not in (*COUNTY_CODES, CITY_CODE) or hazard not in set(Hazard):
        raise InvalidEvent(f"area_key {key!r} is not <county code>/<hazard>", field="area_key", value=key)
    return key


def area_of_incident(incident_id: str) -> str:
    """The area key encoded in an incident id (``<county>-<hazard>-<digest>``)."""
    parts = incident_id.split("-")
    if len(parts) < 3 or not parts[0].isdigit():
        raise InvalidEvent(f"incident_id {incident_id!r} is not an Amur incident id", field="incident_id",
                           value=incident_id)
    try:
        return area_key(parts[0], Hazard("-".join(parts[1:-1])))
    except ValueError:
        raise InvalidEvent(f"incident_id {incident_id!r} names no hazard", field="incident_id",
                           value=incident_id) from None


def _observed(ref: EvidenceRef, hazard: Hazard, source: str, lon: float | None = None,
              lat: float | None = None) -> list[EvidenceObserved]:
    """One :class:`EvidenceObserved` per county the evidence's cells fall in."""
    cells = [check_code(c, "cells") for c in ref.cells]
    by_county: dict[str, list[str]] = {}
    for cell in cells or [CITY_CODE]:
        by_county.setdefault(county_of(cell), []).append(cell)
    out = []
    for county, mine in sorted(by_county.items()):
        suffix = "" if len(by_county) == 1 else f"@{county}"
        part = msgspec.structs.replace(ref, evidence_id=ref.evidence_id + suffix, cells=mine if cells else [],
                               cell_code=mine[0] if cells else None, hazard=hazard)
        out.append(EvidenceObserved(source=source, event_time=ref.event_time, area_key=area_key(county, hazard),
                                    evidence=part, lon=lon, lat=lat))
    return out


def from_gauge(event: GaugeState, places: PlaceIndex) -> list[EvidenceObserved]:
    cells = list(places.cells_of_gauge(event.gauge_id, event.stage_m))
    if not cells:
        return []  # a gauge outside the city: upstream information, not local evidence
    ref = EvidenceRef(evidence_id=f"gauge:{event.gauge_id}", kind="gauge", source=event.source,
                      event_time=event.event_time, colour=event.colour, cells=cells, reach=event.gauge_id,
                      summary=f"{event.gauge_id} stage {event.stage_m:.2f} m, {event.trend.value}")
    return _observed(ref, Hazard.FLOOD, event.source)


def from_forecast(event: CrestForecast, places: PlaceIndex) -> list[EvidenceObserved]:
    cells = list(event.affected_cells) or list(places.cells_of_gauge(event.gauge_id, event.stage_m))
    if not cells:
        return []
    colour = Colour.GREEN if event.cancelled else event.colour
    ref = EvidenceRef(evidence_id=f"forecast:{event.river}:{event.crest_no}:{event.gauge_id}", kind="crest_forecast",
                      source=event.source, event_time=event.event_time, colour=colour, cells=cells,
                      reach=event.gauge_id, summary=f"crest {event.crest_no} of {event.river} at {event.gauge_id} "
                              f"{event.arrival_time.isoformat(timespec='minutes')}, {event.stage_m:.2f} m")
    return _observed(ref, Hazard.FLOOD, event.source)


def from_cell_risk(event: CellRisk) -> list[EvidenceObserved]:
    ref = EvidenceRef(evidence_id=f"risk:{event.cell_code}:{event.hazard.value}", kind="cell_risk",
                      source=event.source, event_time=event.event_time, colour=event.colour,
                      cells=[event.cell_code], reach=event.gauge_id, summary=risk_summary(event))
    return _observed(ref, event.hazard, event.source)


def risk_summary(event: CellRisk) -> str:
    """What an operator reads: the score and, for a river-driven flood, the cell's own flooding stage.

    A cell floods at its own stage (GIS ``inundation_stage_m``), which may lie below the gauge's
    warning stage: an orange cell beside a blue gauge is then what the stage means for that cell.
    """
    text = f"{event.hazard.value} risk {event.score:.2f} ({event.colour.value})"
    f = event.factors
    if event.gauge_id is None or "inundation_stage_m" not in f:
        return text
    water = [f"stage {f['stage_m']:.2f} m"] if "stage_m" in f else []
    water += [f"forecast {f['forecast_stage_m']:.2f} m"] if "forecast_stage_m" in f else []
    return f"{text}: {', '.join(water) or 'stage'} at {event.gauge_id}, this cell floods at {f['inundation_stage_m']:.2f} m"


def from_finding(event: VisionFinding, places: PlaceIndex) -> list[EvidenceObserved]:
    hazard, colour = FINDING_HAZARD[event.kind]
    cells = list(event.cells) or list(places.cells_of_camera(event.camera_id))
    ref = EvidenceRef(evidence_id=f"camera:{event.camera_id}:{event.kind.value}", kind=f"vision_{event.kind.value}",
                      source=event.source, event_time=event.event_time,
                      colour=colour if event.confirmed else Colour.GREEN, cells=cells, camera_id=event.camera_id,
                      summary=f"{event.kind.value} on {event.camera_id} (score {event.score:.2f})")
    return _observed(ref, hazard, event.source)


def service_hazard(service_code: str) -> Hazard:
    code = service_code.lower()
    return next((hazard for word, hazard in SERVICE_HAZARD if word in code), Hazard.PUBLIC_SAFETY)


def from_grid_event(event: GridEvent, places: PlaceIndex) -> list[EvidenceObserved]:
    """A report of a hazard (flood, fire, public safety) in its cell; other reports are only dispatched.

    The hazard is the responsibility item's (set by the front door, ``other`` for an item that is
    no hazard), or for a version 1 sender read from the service code. A 110 call known only by its
    address (no cell) is left to the dispatcher: it is no evidence until someone places it.
    """
    hazard = event.hazard or service_hazard(event.service_code)
    if hazard is Hazard.OTHER or (event.cell_code and len(event.cell_code) < 15):
        return []  # not a hazard, or placed only by its address (a village at best): dispatched, no evidence
    cell = event.cell_code
    if cell is None and event.lon is not None and event.lat is not None:
        cell = places.cell_at(event.lon, event.lat)
    if cell is None:
        if event.lon is None or event.lat is None:
            return []
        raise InvalidEvent(f"grid event {event.report_id} at lon={event.lon} lat={event.lat} lies in no grid cell",
                           field="cell_code", value=None)
    ref = EvidenceRef(evidence_id=f"{REPORT_EVIDENCE}{event.report_id}", kind="grid_report", source=event.source,
                      event_time=event.event_time, colour=REPORT_COLOUR, cells=[cell],
                      summary=f"{event.service_code}: {event.description[:200]}")
    return _observed(ref, hazard, event.source, event.lon, event.lat)


def from_source_health(event: SourceHealth) -> list[EvidenceObserved]:
    colour = Colour.BLUE if event.state is SourceState.STALE else Colour.GREEN
    ref = EvidenceRef(evidence_id=f"source:{event.source_id}", kind="source_health", source=event.source,
                      event_time=event.event_time, colour=colour, cells=[],
                      summary=f"{event.source_id} {event.state.value} (cadence {event.cadence_s:.0f} s)")
    return _observed(ref, Hazard.SOURCE_OUTAGE, event.source)
