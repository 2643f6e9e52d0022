"""Scenario forest-fire: fire weather at the Xunke stations only, the wind shift, a citizen's report in a forest
cell two forestry cameras see; its ground truth; played through a drill, the report scores it against the truth."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from gis import registry as R
from stream.schemas import Hazard, WeatherObservation
from stream.sim.hooks import load_scenario
from stream.sim.scenarios import forest_fire as S

T0 = datetime(2025, 5, 12, 11, 50, tzinfo=timezone(timedelta(hours=8)))


def _obs(at: datetime) -> WeatherObservation:
    return WeatherObservation(source="meteorology.weather-stations", event_time=at, station_id="s1", temp_c=18.0,
                              rh_pct=60.0, wind_kmh=10.0, rain_mm=1.2)


def test_only_the_county_stations_nearest_the_fire_report_fire_weather_and_the_wind_rises_at_the_shift() -> None:
    played = load_scenario("forest-fire", T0, 7)
    chosen = S.plan(T0, 7).stations
    hot = [s for s in R.load_stations() if (s.lon, s.lat) in chosen]
    assert len(hot) == S.HOT_STATIONS and {s.county_code for s in hot} == {S.COUNTY}
    inside = hot[0]
    outside = next(s for s in R.load_stations() if s.county_code != S.COUNTY)
    before = played.adjust_weather(_obs(T0), inside.lon, inside.lat)
    after = played.adjust_weather(_obs(T0 + S.WIND_SHIFT_AT), inside.lon, inside.lat)
    assert (before.temp_c, before.rh_pct, before.wind_kmh, before.rain_mm) == (*S.HOT, 0.0)
    assert after.wind_kmh == S.SHIFTED
    assert played.adjust_weather(_obs(T0), outside.lon, outside.lat) == _obs(T0)


def test_the_smoke_is_in_a_forest_cell_of_the_county_seen_by_two_forestry_cameras_first_one_then_both() -> None:
    p = S.plan(T0, 7)
    cameras = {c.camera_id: c for c in R.load_cameras()}
    assert p.cell.startswith(S.COUNTY) and p.report.cell_code == p.cell and p.report.hazard is Hazard.FIRE
    assert all(cameras[c].department == "forestry" for c in p.cameras) and p.cameras[0] != p.cameras[1]
    seeing = {v.camera_id for v in R.CameraCoverage.load().cameras_seeing(p.cell)}
    assert set(p.cameras) <= seeing
    first, second = S.fleet_events(p)
    assert first["camera_ids"] == [p.cameras[0]] and second["camera_ids"] == [p.cameras[1]]
    assert first["start"] < second["start"]
    assert S.plan(T0, 7) == p


def test_ground_truth_expects_the_fire_weather_by_an_hour_after_noon_and_the_reported_fire() -> None:
    truth = S.ground_truth(T0, 7)
    weather, reported = truth.expected
    assert weather.by == datetime(2025, 5, 12, 13, 0, tzinfo=timezone(timedelta(hours=8)))
    assert weather.evidence == "cell_risk" and weather.county == S.COUNTY
    assert reported.cells == (S.plan(T0, 7).cell,) and reported.by == T0 + S.REPORT_AT + S.RAISE_WITHIN
    assert S.first_noon_after(T0 + timedelta(hours=1)) == weather.by - timedelta(hours=1) + timedelta(days=1)


@pytest.mark.integration
@pytest.mark.timeout(900)  # the fire weather colours a few hundred cells, each evidence of the incident
def test_a_forest_fire_drill_meets_its_ground_truth(make_settings, monkeypatch) -> None:
    from tests.stream.drills.scenario_drill import drill_and_report

    report = drill_and_report(make_settings, monkeypatch, "forest-fire", T0, 2400, 120, "--feeds", "stations")
    assert {t["key"]: t["status"] for t in report["truth"]} == {"fire-weather": "on_time", "reported-fire": "on_time"}
    assert report["headline"]["recall"] == 1.0
    assert report["risk_by_county"]  # the fire weather coloured cells
