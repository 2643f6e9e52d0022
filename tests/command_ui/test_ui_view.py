"""What a client sees: camera status, scope-filtered snapshots, KPIs and the vital-signs strip."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import orjson

from command_ui.view import (
    camera_fault,
    camera_status,
    city_health,
    compute_kpis,
    in_dispatcher_queue,
    sampling_kpi,
    select_requests,
    snapshot_message,
    visible_requests,
)
from stream import schemas
from stream.screens.projection import Channel, Keys, project
from tests.helpers.dispatch_scenario import morning

NOW = datetime(2026, 7, 20, 8, 0, tzinfo=timezone.utc)
KEYS = Keys("amur:")


def stored(event: schemas.Event) -> tuple[Channel, str, bytes]:
    (change,) = project(event, KEYS).changes
    return change.channel, change.key, change.value


def state_of(*events: schemas.Event) -> dict[Channel, dict[str, bytes]]:
    state: dict[Channel, dict[str, bytes]] = {c: {} for c in Channel}
    for event in events:
        channel, key, value = stored(event)
        state[channel][key] = value
    return state


def frame(camera: str, status: schemas.DecodeStatus) -> schemas.FrameSample:
    return schemas.FrameSample(source="t", event_time=NOW, camera_id=camera, status=status)


def fault(camera: str, kind: schemas.FindingKind, age_s: float) -> schemas.VisionFinding:
    return schemas.VisionFinding(source="t", event_time=NOW - timedelta(seconds=age_s), camera_id=camera, kind=kind,
                                 score=0.9, confirmed=True)


def incident(incident_id: str, cell: str, colour: schemas.Colour, state: schemas.IncidentState,
             hazard: schemas.Hazard = schemas.Hazard.FLOOD) -> schemas.IncidentChanged:
    return schemas.IncidentChanged(source="t", event_time=NOW, incident_id=incident_id, hazard=hazard, colour=colour,
                                   state=state, title="t", cells=[cell])


def test_a_fault_counts_for_its_hold_then_the_decode_status_decides() -> None:
    ok = stored(frame("c", schemas.DecodeStatus.OK))[2]
    frozen = stored(fault("c", schemas.FindingKind.FROZEN, 100))[2]
    assert camera_fault(ok, frozen, now=NOW, hold_s=180) == "frozen"
    assert camera_status(ok, frozen, now=NOW + timedelta(seconds=81), hold_s=180) == "online"
    offline = stored(frame("c", schemas.DecodeStatus.OFFLINE))[2]
    assert camera_fault(offline, None, now=NOW, hold_s=180) == "offline"
    assert camera_status(None, None, now=NOW, hold_s=180) == "unknown"


def test_snapshot_hides_other_counties_incidents() -> None:
    state = state_of(incident("a", "231102001001001", schemas.Colour.RED, schemas.IncidentState.RAISED),
                     incident("x", "231123001001001", schemas.Colour.RED, schemas.IncidentState.RAISED))
    message = orjson.loads(snapshot_message(state, {c: 1 for c in Channel}, "231102", {"role": "viewer"}))
    assert list(message["channels"]["incidents"]) == ["a"]
    assert message["channels"]["incidents"]["a"]["incident_id"] == "a"
    assert message["seq"]["cells"] == 1 and message["me"] == {"role": "viewer"}


def test_kpis_count_what_the_state_says() -> None:
    cells = [schemas.CellRisk(source="t", event_time=NOW, cell_code=f"2311020010010{n:02d}", hazard=schemas.Hazard.FLOOD,
                              score=1.0, colour=schemas.Colour.RED if n < 3 else schemas.Colour.GREEN) for n in range(5)]
    state = state_of(
        frame("23110200001325000001", schemas.DecodeStatus.OK), frame("23110200001325000002", schemas.DecodeStatus.OK),
        fault("23110200001325000002", schemas.FindingKind.COVERED, 10),
        frame("23112300001325000003", schemas.DecodeStatus.TIMEOUT),
        schemas.GaugeState(source="t", event_time=NOW, gauge_id="g", stage_m=8, trend=schemas.TrendState.RISING,
                           rate_m_per_h=0.1, colour=schemas.Colour.YELLOW),
        schemas.SourceHealth(source="t", event_time=NOW, source_id="s1", state=schemas.SourceState.LIVE,
                             last_seen=NOW, cadence_s=10),
        schemas.SourceHealth(source="t", event_time=NOW, source_id="s2", state=schemas.SourceState.STALE,
                             last_seen=NOW, cadence_s=10),
        incident("a", "231102001001001", schemas.Colour.RED, schemas.IncidentState.RAISED),
        incident("b", "231102001001002", schemas.Colour.ORANGE, schemas.IncidentState.ACKNOWLEDGED),
        incident("c", "231102001001003", schemas.Colour.RED, schemas.IncidentState.RESOLVED),
        incident("x", "231123001001001", schemas.Colour.BLUE, schemas.IncidentState.RAISED),
        *cells,
    )
    sources = {"s1": "infrastructure", "s2": "ecology_environment", "s3": "ecology_environment"}
    health = city_health(state, now=NOW, source_dimension=sources, hold_s=180,
                         camera_ids=frozenset({"23110200001325000001", "23110200001325000002",
                                               "23112300001325000003", "23112300001325000004"}))
    kpis = compute_kpis(
        state, health, scope="231102", events_per_s=12.34, source_dimension=sources,
        domain_dimension={"water_supply_drainage": "infrastructure", "telecommunications": "infrastructure",
                          "water_environment_hydrology": "ecology_environment"}, drill=False)
    assert (kpis.cameras_online, kpis.cameras_faulty, kpis.cameras_unknown) == (1, 2, 1)
    assert (kpis.sources_live, kpis.sources_stale, kpis.events_per_s) == (1, 1, 12.3)
    assert kpis.open_by_colour == {"blue": 0, "yellow": 0, "orange": 1, "red": 1}  # Xunke's is not Aihui's
    by_dimension = {d.dimension: d for d in kpis.dimensions}
    # infrastructure: Aihui's flood cells (1 county) + camera networks with faults (Aihui and Xunke)
    assert by_dimension["infrastructure"].out_of_range == 3
    assert (by_dimension["infrastructure"].sources_live, by_dimension["infrastructure"].sources_unseen) == (1, 0)
    # ecology: the yellow gauge and two open flood incidents
    assert by_dimension["ecology_environment"].out_of_range == 3
    assert (by_dimension["ecology_environment"].sources_stale, by_dimension["ecology_environment"].sources_unseen) == (1, 1)


def sampler(worker: str, age_s: float, **figures: float) -> schemas.SamplingHealth:
    values = dict(cameras=2500, claimed=25, planned_fps=49.6, served_fps=49.5, claimed_behind=0, past_max_interval=0,
                  worst_wait_s=50.0, feasible=True) | figures
    return schemas.SamplingHealth(source="sampler", event_time=NOW - timedelta(seconds=age_s), worker=worker,
                                  **values)  # type: ignore[arg-type]


def test_sampling_behind_its_plan_reaches_the_kpis_summed_over_live_samplers() -> None:
    keeping_up = state_of(sampler("a", 2), sampler("b", 4))
    assert not sampling_kpi(keeping_up[Channel.SAMPLING], now=NOW).short
    behind = state_of(sampler("a", 2), sampler("b", 4, served_fps=20.0, past_max_interval=1800, claimed_behind=3),
                      sampler("gone", 300, past_max_interval=2500))  # a sampler that stopped without a word
    health = city_health(behind, now=NOW, source_dimension={}, hold_s=180, camera_ids=frozenset())
    kpis = compute_kpis(behind, health, scope="231102", events_per_s=0.0, source_dimension={}, domain_dimension={},
                        drill=False)
    assert kpis.sampling == sampling_kpi(behind[Channel.SAMPLING], now=NOW)
    assert (kpis.sampling.samplers, kpis.sampling.planned_fps, kpis.sampling.served_fps) == (2, 99.2, 69.5)
    assert (kpis.sampling.past_max_interval, kpis.sampling.claimed_behind, kpis.sampling.short) == (1800, 3, True)
    assert orjson.loads(kpis.message(NOW))["sampling"]["short"] is True


def test_requests_are_scoped_by_place_and_a_closed_one_is_gone() -> None:
    scenario = morning(NOW)
    state = state_of(*scenario.changes[:-1])  # the last change closes the Sunwu request: a deletion
    assert "311-closed" in state[Channel.REQUESTS]
    (closing,) = project(scenario.changes[-1], KEYS).changes
    assert (closing.key, closing.value) == ("311-closed", None)
    aihui = visible_requests(state[Channel.REQUESTS], "231102")
    assert set(aihui) == {"311-cold", "311-manhole", "311-ignored", "110-20260110-0815-0042", "311-vending"}
    message = orjson.loads(snapshot_message(state, {c: 1 for c in Channel}, "231123", {}))
    assert list(message["channels"]["requests"]) == ["311-xunke"]


def test_requests_are_selected_by_status_department_overdue_and_queue() -> None:
    latest = [r for r in morning(NOW).latest.values() if r.status is not schemas.RequestStatus.CLOSED]
    ids = lambda found: [r.request_id for r in found]  # noqa: E731
    assert ids(select_requests(latest, overdue=True)) == ["311-ignored"]
    assert set(ids(select_requests(latest, queue=True))) == {"110-20260110-0815-0042", "311-vending"}
    assert [in_dispatcher_queue(r) for r in select_requests(latest, status="rejected")] == [True]
    assert set(ids(select_requests(latest, department="heating"))) == {"311-cold", "311-ignored"}
    newest_first = select_requests(latest)
    assert [r.received_at for r in newest_first] == sorted((r.received_at for r in latest), reverse=True)
