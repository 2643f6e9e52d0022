"""The demonstration's timeline: the gauge's colours by the published thresholds, its camera, its report's place."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

import pytest

from gis import registry as R
from gis.hydro.alerts import Thresholds, stage_colour
from gis.hydro.config import load_config
from stream.incidents import evidence
from stream.incidents.cap import cap_xml
from stream.incidents.fusion import observe
from stream.incidents.state import Area, policy_from_settings, to_event
from stream.ingest.http.open311 import (
    cell_of,
    load_cell_index,
    load_services,
    parse_request,
)
from stream.ingest.intake import Intake
from stream.ingest.inventory import Inventory, Site
from stream.ingest.registry import load_registry
from stream.ingest.validation import TimeLimits
from stream.schemas import Colour, WaterLevel
from stream.settings import load_settings
from stream.sim.demo import report_fields, smoke_event
from stream.sim.feeds import FaultRates, FeedSimulator
from stream.sim.hooks import GAUGE_SOURCE, load_scenario
from stream.sim.scenarios.demonstration import (
    GAUGE,
    DemonstrationScenario,
    plan,
    readings,
)
from tests.helpers.incidents import PLACES, gauge, recipients
from vision.fleet.events import parse_event_request
from vision.fleet.server import load_fleet

START = datetime(2026, 7, 1, 2, 0, 3, tzinfo=timezone.utc)  # 10:00 local


@pytest.fixture(scope="module")
def demo():  # type: ignore[no-untyped-def]
    return plan(START, 7)


def colours(levels: list[WaterLevel]) -> list[tuple[float, Colour]]:
    """(seconds from start, the gauge's alert colour) after each reading, by the configured thresholds."""
    thresholds = Thresholds.of(load_config().gauges[GAUGE])
    colour, out = Colour.GREEN, []
    for level in levels:
        colour = stage_colour(level.stage_m, thresholds, colour)
        out.append(((level.event_time - START).total_seconds(), colour))
    return out


def test_the_gauge_stays_green_in_the_history_and_crosses_its_warning_stage_in_the_first_minutes(demo) -> None:  # type: ignore[no-untyped-def]
    seen = colours(list(readings(START, 7)))
    history = [c for t, c in seen if t < 0]
    assert len(history) == 71 + 12 * 4 and set(history) == {Colour.GREEN}  # every 30 min, then 15 min: all green
    first = {colour: next(t for t, c in seen if c is colour) for colour in (Colour.BLUE, Colour.YELLOW, Colour.ORANGE)}
    assert 0 < first[Colour.BLUE] < first[Colour.YELLOW] <= 90 < first[Colour.ORANGE] <= 300
    assert Colour.RED not in {c for _, c in seen}
    later = [c for t, c in seen if t >= 1800]
    assert later and set(later) == {Colour.GREEN}, "back below the approach of the warning stage in 30 min"


def test_the_gauge_reports_every_30_s_while_it_rises_fast_and_each_reading_once(demo) -> None:  # type: ignore[no-untyped-def]
    windows = [START - timedelta(hours=2) + timedelta(minutes=7 * k) for k in range(40)]
    pieces = [lv for a, b in zip(windows, windows[1:]) for lv in demo.levels(a, b)]
    assert pieces == demo.levels(windows[0], windows[-1])
    gaps = {(b.event_time - a.event_time).total_seconds() for a, b in zip(pieces, pieces[1:])
            if START <= a.event_time < START + timedelta(minutes=30)}
    assert gaps == {30.0}
    before = [lv.event_time for lv in pieces if lv.event_time < START]
    assert {(b - a).total_seconds() for a, b in zip(before, before[1:])} == {900.0}


def test_the_scenario_replaces_the_regular_feed_of_its_gauge_from_the_backfill_on(demo) -> None:  # type: ignore[no-untyped-def]
    gauges = [Site(g.gauge_id, g.lon, g.lat, warning_m=g.warning_m) for g in R.load_gauges()]
    inventory = Inventory.from_sites([], [], gauges)
    scenario = DemonstrationScenario(demo, START - timedelta(hours=6))
    sim = FeedSimulator(inventory, 7, START, scenario=scenario, faults=FaultRates(gap=0, spike=0, bad=0))
    intake = Intake(load_registry(), inventory, TimeLimits(300, 7 * 86400), readings_partitions=4,
                    dedupe_window_s=900, dedupe_max_keys=100_000)
    ours: list[WaterLevel] = []
    for step in [*sim.history(6), *(sim.step(k) for k in range(0, 13))]:
        for key, payload in step.messages:
            routed = intake.process(payload, 0, step.at.timestamp())
            assert key == GAUGE_SOURCE and routed.rejected == []
            ours += [lv for lv in routed.levels if lv.gauge_id == GAUGE]
    assert [lv.event_time for lv in ours] == [lv.event_time for lv in demo.levels(START - timedelta(hours=6),
                                                                                 START + timedelta(minutes=2))]
    assert isinstance(load_scenario("demonstration", START, 7), DemonstrationScenario)


def test_a_forestry_camera_of_aihui_sees_the_smoke_and_the_fleet_takes_the_event(demo) -> None:  # type: ignore[no-untyped-def]
    camera = next(c for c in R.load_cameras() if c.camera_id == demo.smoke.camera_id)
    assert (camera.department, camera.scene, camera.county_code) == ("forestry", "forest", "231102")
    assert plan(START, 7).smoke == demo.smoke
    fleet = load_fleet(7, 1.0, START)
    event = parse_event_request(smoke_event(demo), (c.place for c in fleet.cameras.values()), event_id="ev1",
                                now=START)
    assert event.camera_ids == frozenset({demo.smoke.camera_id})
    assert (event.start, event.end) == (START + timedelta(seconds=20), START + timedelta(minutes=20))


def test_the_citizen_reports_smoke_in_the_cell_the_camera_sees_most_of(demo) -> None:  # type: ignore[no-untyped-def]
    fields = report_fields(demo, "key")
    parsed = parse_request(fields, load_services())
    seen = R.CameraCoverage.load().cells_seen_by(demo.smoke.camera_id)[0].cell_code
    assert cell_of(load_cell_index(), parsed.lon, parsed.lat) == seen
    assert parsed.service_code == "smoke_report" and demo.report.at == START + timedelta(seconds=90)



def test_every_incident_of_a_demonstration_is_an_exercise_with_cap_status_exercise() -> None:
    policy = policy_from_settings(load_settings(demonstration=True))
    assert policy.drill and not policy_from_settings(load_settings()).drill
    [found] = evidence.from_gauge(gauge(0), PLACES)
    [raised] = observe(Area(area_key=found.area_key), found, PLACES, policy, recipients).changes
    assert raised.drill
    message = ET.fromstring(cap_xml(to_event(raised, "amur.incidents"), sender=policy.cap_sender, zone=policy.zone))
    assert message.findtext("{urn:oasis:names:tc:emergency:cap:1.2}status") == "Exercise"
