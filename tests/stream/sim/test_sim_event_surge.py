"""Scenario event-surge: hundreds of reports in minutes, seeded; its ground truth; played through a drill, the
fusion makes the street's reports one incident and the report scores the drill against the truth."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from stream.schemas import Hazard
from stream.sim.hooks import load_scenario
from stream.sim.scenarios import event_surge as S

T0 = datetime(2025, 7, 20, 14, 0, tzinfo=timezone(timedelta(hours=8)))


def test_the_surge_is_hundreds_of_reports_in_minutes_and_the_same_seed_gives_the_same_surge() -> None:
    p = S.plan(T0, 7)
    assert len(p.events) == S.STREET_REPORTS + 1 + len(S.FIRE_COUNTIES) + S.NOISE_REPORTS
    assert all(T0 <= e.event_time <= T0 + S.SURGE for e in p.events)
    assert [e.event_time for e in p.events] == sorted(e.event_time for e in p.events)
    on_street = [e for e in p.events if e.cell_code in p.street]
    assert len(on_street) == S.STREET_REPORTS and {e.hazard for e in on_street} == {Hazard.FLOOD}
    assert len({e.report_id for e in p.events}) == len(p.events)
    assert S.plan(T0, 7) == p and S.plan(T0, 8).events != p.events


def test_everyday_reports_are_no_hazard_and_truth_expects_four_incidents_where_the_hazards_are() -> None:
    p = S.plan(T0, 7)
    noise = [e for e in p.events if e.service_code in S.NOISE_CODES]
    assert len(noise) == S.NOISE_REPORTS and {e.hazard for e in noise} == {Hazard.OTHER}
    truth = S.ground_truth(T0, 7)
    assert [(x.hazard, x.cells) for x in truth.expected] == [
        (Hazard.FLOOD, p.street), (Hazard.FLOOD, (p.far_cell,)), *((Hazard.FIRE, (c,)) for c in p.fire_cells)]
    assert truth.hazards == {Hazard.FLOOD, Hazard.FIRE}


def test_the_scenario_plays_each_report_once_when_due() -> None:
    played = load_scenario("event-surge", T0, 7)
    first = played.grid_events(T0 + timedelta(minutes=1))
    rest = played.grid_events(T0 + timedelta(hours=1))
    assert first and all(e.event_time <= T0 + timedelta(minutes=1) for e in first)
    assert len(first) + len(rest) == len(S.plan(T0, 7).events) and not played.grid_events(T0 + timedelta(days=1))
    assert played.sends_grid_events and not load_scenario("none", T0, 7).sends_grid_events


@pytest.mark.integration
def test_a_surge_drill_merges_the_street_and_meets_its_ground_truth(make_settings, monkeypatch) -> None:
    from tests.stream.drills.scenario_drill import drill_and_report

    report = drill_and_report(make_settings, monkeypatch, "event-surge", T0, 600, 60, "--feeds", "gauges")
    by_key = {t["key"]: t for t in report["truth"]}
    assert {k: t["status"] for k, t in by_key.items()} == {
        "flooded-street": "on_time", "flooded-yard": "on_time", "smoke-231123": "on_time", "smoke-231181": "on_time"}
    street = next(i for i in report["incidents"] if i["id"] == by_key["flooded-street"]["incident"])
    assert street["evidence"] >= S.STREET_REPORTS  # every report of the street joined the one incident
    assert by_key["flooded-street"]["incident"] != by_key["flooded-yard"]["incident"]
    head = report["headline"]
    assert head["recall"] == 1.0 and head["precision"] == 1.0 and head["false_alarms"] == 0


def test_a_recording_refuses_a_scenario_with_grid_events(tmp_path, capsys: pytest.CaptureFixture) -> None:
    from stream.cli.main import main as amur

    out = tmp_path / "day.tsv"
    assert amur(["sim", "feeds", "--scenario", "event-surge", "--out", str(out), "--duration", "60",
                 "--start", T0.isoformat(), "--feeds", "gauges"]) == 2
    assert "grid events" in capsys.readouterr().err and not out.exists()
