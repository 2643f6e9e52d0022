"""Events of every source turned into evidence with the right hazard, colour, cells and area key."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from stream.errors import InvalidEvent
from stream.incidents import evidence
from stream.schemas import (
    CellRisk,
    Colour,
    CrestForecast,
    FindingKind,
    GridEvent,
    Hazard,
    SourceHealth,
    SourceState,
)
from tests.helpers.incidents import (
    CELL_A,
    CELL_B,
    PLACES,
    T0,
    XUNKE_CELL,
    finding,
    gauge,
    report,
)


def test_gauge_evidence_lands_in_the_gauges_cell_and_county() -> None:
    [item] = evidence.from_gauge(gauge(0, Colour.ORANGE), PLACES)
    assert item.area_key == "231102/flood"
    assert item.evidence.cells == [CELL_A] and item.evidence.colour is Colour.ORANGE
    assert evidence.from_gauge(gauge(0, gauge_id="hlj-mohe"), PLACES) == []  # upstream, outside the city


def test_evidence_across_two_counties_is_split_per_county() -> None:
    items = evidence.from_gauge(gauge(0, gauge_id="hlj-split"), PLACES)
    assert [(i.area_key, i.evidence.cells) for i in items] == [("231102/flood", [CELL_A]),
                                                              ("231123/flood", [XUNKE_CELL])]
    assert len({i.evidence.evidence_id for i in items}) == 2


def test_findings_map_to_hazards_and_unconfirmed_ones_clear() -> None:
    [smoke] = evidence.from_finding(finding(0, "cam-1", FindingKind.SMOKE), PLACES)
    assert smoke.area_key == "231102/fire" and smoke.evidence.colour is Colour.YELLOW
    assert smoke.evidence.cells == [CELL_B, CELL_A]  # by coverage share, from the GIS index
    assert smoke.evidence.camera_id == "cam-1"
    [cleared] = evidence.from_finding(finding(1, "cam-1", FindingKind.SMOKE, confirmed=False), PLACES)
    assert cleared.evidence.colour is Colour.GREEN and cleared.evidence.evidence_id == smoke.evidence.evidence_id
    [frozen] = evidence.from_finding(finding(0, "cam-3", FindingKind.FROZEN), PLACES)
    assert frozen.area_key == "231102/camera_fault"


def test_reports_take_their_hazard_from_the_service_code() -> None:
    assert evidence.from_grid_event(report(0, service="flood_report"), PLACES)[0].area_key == "231102/flood"
    assert evidence.from_grid_event(report(0, service="fire_report"), PLACES)[0].area_key == "231102/fire"
    assert evidence.from_grid_event(report(0, service="road_damage"), PLACES)[0].area_key == "231102/public_safety"


def test_report_without_cell_is_placed_by_coordinates_or_refused() -> None:
    located = GridEvent(source="open311", event_time=T0, report_id="r-9", service_code="fire", lon=127.515,
                        lat=50.205)
    assert evidence.from_grid_event(located, PLACES)[0].evidence.cells == [CELL_B]
    nowhere = GridEvent(source="open311", event_time=T0, report_id="r-10", service_code="fire", lon=120.0, lat=40.0)
    with pytest.raises(InvalidEvent, match="r-10"):
        evidence.from_grid_event(nowhere, PLACES)


def test_cells_outside_the_city_are_refused_naming_the_value() -> None:
    risk = CellRisk(source="gis", event_time=T0, cell_code="110101001001001", hazard=Hazard.FIRE, score=0.9,
                    colour=Colour.RED)
    with pytest.raises(InvalidEvent, match="110101001001001"):
        evidence.from_cell_risk(risk)


def test_forecast_cancellation_clears_its_evidence() -> None:
    forecast = CrestForecast(source="hydro", event_time=T0, forecast_id="f1", gauge_id="hlj-heihe",
                             river="heilongjiang", crest_no=5, from_gauge_id="hlj-huma", issued_at=T0,
                             arrival_time=T0 + timedelta(hours=30), arrival_low=T0 + timedelta(hours=26),
                             arrival_high=T0 + timedelta(hours=34), stage_m=8.7, stage_low_m=8.4, stage_high_m=9.0,
                             colour=Colour.ORANGE, affected_cells=[CELL_A, CELL_B])
    [item] = evidence.from_forecast(forecast, PLACES)
    assert item.evidence.colour is Colour.ORANGE and item.evidence.cells == [CELL_A, CELL_B]
    [cancelled] = evidence.from_forecast(msgspec.structs.replace(forecast, cancelled=True), PLACES)
    assert cancelled.evidence.colour is Colour.GREEN


def test_stale_sources_are_city_wide_outages() -> None:
    stale = SourceHealth(source="ingest", event_time=T0, source_id="weather-12", state=SourceState.STALE,
                         last_seen=T0, cadence_s=60)
    [item] = evidence.from_source_health(stale)
    assert item.area_key == "231100/source_outage" and item.evidence.colour is Colour.BLUE


def test_area_keys_and_incident_ids_are_checked() -> None:
    assert evidence.check_area_key("231183/fire") == "231183/fire"
    assert evidence.area_of_incident("231100-source_outage-0123456789ab") == "231100/source_outage"
    for bad in ("999999/fire", "231102/lava", "231102"):
        with pytest.raises(InvalidEvent, match="area_key"):
            evidence.check_area_key(bad)
    with pytest.raises(InvalidEvent, match="not-an-id"):
        evidence.area_of_incident("not-an-id")


def test_a_cells_flood_risk_names_the_gauge_driving_it_and_the_cells_own_stage() -> None:
    """Scored as the risk agent scores: a cell the gauge's stage floods carries the gauge (its reach) and
    says at what stage the cell itself floods; a cell scored on rain alone names no gauge."""
    import numpy as np

    from gis.grid import GridModel
    from gis.risk import cell_score, score_flood

    model = GridModel.from_registry()
    heihe = model.gauge_ids.index("hlj-heihe")
    mine = np.nonzero(model.gauge_of_cell == heihe)[0]
    low = int(mine[np.argmin(model.inundation_stage_m[mine])])  # the cell that floods first
    dry = int(np.nonzero(model.gauge_of_cell < 0)[0][0])  # no river floods it
    scores = score_flood(model, {"hlj-heihe": 7.10}, {}, 40.0, 90.0, 100.0, now=T0, cells=[low, dry])
    flooded, rained = (cell_score(model, scores, j) for j in range(2))
    assert flooded.gauge_id == "hlj-heihe" and rained.gauge_id is None and rained.colour is not Colour.GREEN
    event = CellRisk(source="risk", event_time=T0, cell_code=flooded.cell_code, hazard=flooded.hazard,
                     score=flooded.score, colour=flooded.colour, factors=flooded.factors, gauge_id=flooded.gauge_id)
    [item] = evidence.from_cell_risk(event)
    assert item.evidence.reach == "hlj-heihe"
    assert item.evidence.summary == (f"flood risk {flooded.score:.2f} ({flooded.colour.value}): stage 7.10 m at "
                                     f"hlj-heihe, this cell floods at {model.inundation_stage_m[low]:.2f} m")
