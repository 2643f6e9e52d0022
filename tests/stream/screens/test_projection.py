"""The pure projection: each wire event -> the Redis writes that show it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import msgspec
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stream import schemas
from stream.screens.projection import Channel, Keys, StateChange, project

T0 = datetime(2026, 7, 20, 8, 0, tzinfo=timezone.utc)
KEYS = Keys("amur:drill:x:")


def test_keys_live_under_the_prefix() -> None:
    assert KEYS.state(Channel.INCIDENTS) == "amur:drill:x:state:incidents"
    assert KEYS.updates(Channel.CELLS) == "amur:drill:x:updates:cells"
    assert KEYS.thumbnail("cam-1") == "amur:drill:x:thumb:cam-1"


def test_incident_is_stored_whole() -> None:
    event = schemas.IncidentChanged(source="t", event_time=T0, incident_id="231102-flood-1", hazard=schemas.Hazard.FLOOD,
                                    colour=schemas.Colour.RED, state=schemas.IncidentState.RAISED, title="x",
                                    cells=["231102001001001"])
    projection = project(event, KEYS)
    (change,) = projection.changes
    assert (change.channel, change.key, change.only_if_changed) == (Channel.INCIDENTS, "231102-flood-1", False)
    assert schemas.decode(schemas.IncidentChanged, change.value) == event
    assert projection.counts == ("events", "events:IncidentChanged")


def _flood_with_report(state: schemas.IncidentState, assignee: str | None = None) -> schemas.IncidentChanged:
    gauge = schemas.EvidenceRef(evidence_id="gauge:hlj-heihe", kind="gauge", source="hydro", event_time=T0,
                                colour=schemas.Colour.RED)
    report = schemas.EvidenceRef(evidence_id="report:311-7", kind="grid_report", source="open311", event_time=T0,
                                 colour=schemas.Colour.YELLOW)
    return schemas.IncidentChanged(source="t", event_time=T0, incident_id="231102-flood-1",
                                   hazard=schemas.Hazard.FLOOD, colour=schemas.Colour.RED, state=state, title="x",
                                   cells=["231102001001001"], evidence=[gauge, report], assignee=assignee)


@pytest.mark.parametrize(("state", "assignee", "status", "notes"), [
    (schemas.IncidentState.RAISED, None, "open", "incident 231102-flood-1 raised"),
    (schemas.IncidentState.ASSIGNED, "wang.li", "open", "incident 231102-flood-1 assigned to wang.li"),
    (schemas.IncidentState.RESOLVED, "wang.li", "closed", "incident 231102-flood-1 resolved"),
    (schemas.IncidentState.EXPIRED, None, "closed", "incident 231102-flood-1 closed without further reports"),
])
def test_a_citizen_report_follows_its_incident_to_closed(state: schemas.IncidentState, assignee: str | None,
                                                        status: str, notes: str) -> None:
    """GeoReport v2 knows only open and closed; the notes say how far the incident has got."""
    (field,) = project(_flood_with_report(state, assignee), KEYS).fields  # the gauge evidence is no request
    assert (field.key, field.field) == ("amur:drill:x:open311:status", "311-7")
    assert orjson.loads(field.value) == {"status": status, "status_notes": notes,
                                         "updated_datetime": T0.isoformat(timespec="seconds")}


@given(score=st.floats(0, 1000, allow_nan=False), colour=st.sampled_from(list(schemas.Colour)),
       hazard=st.sampled_from([schemas.Hazard.FLOOD, schemas.Hazard.FIRE]))
def test_cell_risk_is_keyed_by_hazard_and_cell_and_skips_repeats(score: float, colour: schemas.Colour,
                                                                  hazard: schemas.Hazard) -> None:
    event = schemas.CellRisk(source="t", event_time=T0, cell_code="231102001001001", hazard=hazard, score=score,
                             colour=colour)
    (change,) = project(event, KEYS).changes
    assert change.key == f"{hazard.value}:231102001001001" and change.only_if_changed
    value = orjson.loads(change.value)
    assert value == {"cell": "231102001001001", "hazard": hazard.value, "colour": colour.value,
                     "score": round(score, 2)}
    # the same risk rescored later projects to the very same bytes (so no new update is numbered)
    later = schemas.CellRisk(source="t", event_time=T0 + timedelta(hours=1), cell_code="231102001001001",
                             hazard=hazard, score=score, colour=colour)
    assert project(later, KEYS).changes[0].value == change.value


def test_gauge_state_extends_the_hydrograph_series() -> None:
    event = schemas.GaugeState(source="t", event_time=T0, gauge_id="hlj-heihe", stage_m=7.61,
                               trend=schemas.TrendState.RISING, rate_m_per_h=0.05, colour=schemas.Colour.YELLOW)
    projection = project(event, KEYS)
    assert projection.changes[0].channel is Channel.GAUGES
    (point,) = projection.points
    assert point.series == "amur:drill:x:series:gauge:hlj-heihe"
    assert dict(point.fields) == {"t": T0.isoformat(), "stage": "7.61"}


def test_cancelled_forecast_deletes_the_entry() -> None:
    forecast = schemas.CrestForecast(
        source="t", event_time=T0, forecast_id="f", gauge_id="hlj-heihe", river="heilongjiang", crest_no=5,
        from_gauge_id="hlj-huma", issued_at=T0, arrival_time=T0, arrival_low=T0, arrival_high=T0, stage_m=8.0,
        stage_low_m=7.8, stage_high_m=8.2, colour=schemas.Colour.ORANGE, cancelled=True)
    assert project(forecast, KEYS).changes == (StateChange(Channel.FORECASTS, "hlj-heihe", None),)


def test_camera_health_only_from_confirmed_health_findings() -> None:
    def finding(kind: schemas.FindingKind, confirmed: bool) -> schemas.VisionFinding:
        return schemas.VisionFinding(source="t", event_time=T0, camera_id="cam-1", kind=kind, score=0.9,
                                     confirmed=confirmed)

    (fault,) = project(finding(schemas.FindingKind.FROZEN, True), KEYS).changes
    assert fault.channel is Channel.CAMERA_FAULTS and orjson.loads(fault.value)["kind"] == "frozen"
    assert project(finding(schemas.FindingKind.FROZEN, False), KEYS).changes == ()  # a short drop does not alarm
    fire = project(finding(schemas.FindingKind.FIRE, True), KEYS)
    assert fire.changes == () and "findings:fire" in fire.counts
    frame = schemas.FrameSample(source="t", event_time=T0, camera_id="cam-1", status=schemas.DecodeStatus.TIMEOUT)
    (status,) = project(frame, KEYS).changes
    assert status.only_if_changed and orjson.loads(status.value) == {"status": "timeout"}


def test_sampling_health_is_kept_per_sampler_and_a_stopped_sampler_is_dropped() -> None:
    health = schemas.SamplingHealth(source="sampler", event_time=T0, worker="host-1-ab12cd", cameras=2500,
                                    claimed=50, planned_fps=99.2, served_fps=40.0, claimed_behind=0,
                                    past_max_interval=1800, worst_wait_s=150.0, feasible=True)
    (kept,) = project(health, KEYS).changes
    assert kept.channel is Channel.SAMPLING and kept.key == "host-1-ab12cd"
    assert orjson.loads(kept.value)["past_max_interval"] == 1800
    stopped = msgspec.structs.replace(health, cameras=0)
    assert project(stopped, KEYS).changes == (StateChange(Channel.SAMPLING, "host-1-ab12cd", None),)


def test_dead_letters_are_counted_per_topic() -> None:
    letter = schemas.DeadLetter(source="t", event_time=T0, topic="amur.ingest.raw", reason="bad", raw="{}")
    assert project(letter, KEYS).counts == ("events", "events:DeadLetter", "deadletter:amur.ingest.raw")


def test_events_without_a_projection_are_refused_by_name() -> None:
    reading = schemas.SensorReading(source="t", event_time=T0, sensor_id="s", kind=schemas.SensorKind.RAIN, value=1.0,
                                    unit="mm")
    with pytest.raises(TypeError, match="SensorReading"):
        project(reading, KEYS)


def test_a_dispatched_request_is_shown_until_it_is_closed() -> None:
    received = schemas.RequestChanged(source="t", event_time=T0, request_id="311-7", status=schemas.RequestStatus.RECEIVED,
                                      change="received", channel="open311", service_code="heating_cold",
                                      place="231102001001001", responsible="231102001001001", received_at=T0,
                                      department="heating")
    (change,) = project(received, KEYS).changes
    assert (change.channel, change.key) == (Channel.REQUESTS, "311-7")
    assert schemas.decode(schemas.RequestChanged, change.value) == received
    closed = msgspec.structs.replace(received, status=schemas.RequestStatus.CLOSED, change="closed", revision=4)
    assert project(closed, KEYS).changes == (StateChange(Channel.REQUESTS, "311-7", None),)
