"""The feed simulator: deterministic, on cadence, diurnal, and its bad values are exactly what ingest refuses."""

from __future__ import annotations

import asyncio
import types
from collections import defaultdict
from datetime import datetime, timedelta, timezone

import numpy as np
import orjson
import pytest

from stream.cli.main import main as amur
from stream.ingest.intake import Intake
from stream.ingest.inventory import Inventory, Site
from stream.ingest.registry import load_registry
from stream.ingest.validation import TimeLimits
from stream.schemas import SensorKind, WaterLevel, decode
from stream.sim.feeds import (
    RAIN_MM_PER_H,
    STEP_S,
    FaultRates,
    FeedSimulator,
    VirtualClock,
    run_feeds,
)
from stream.sim.hooks import (
    GAUGE_SOURCE,
    FireScenario,
    GeneratorScenario,
    load_scenario,
)
from stream.sim.session import backfill_hours, recorded_start
from tests.conftest import REPO_ROOT

START = datetime(2021, 7, 12, 0, 0, tzinfo=timezone.utc)  # 08:00 local (UTC+8)
KINDS = [SensorKind.SMOKE, SensorKind.TEMPERATURE, SensorKind.RAIN, SensorKind.WATER_LEVEL]
SENSORS = [Site(f"{k.value}-{i:05d}", 127.0 + 0.01 * i, 50.0 + 0.005 * i, k) for k in KINDS for i in range(50)]
INVENTORY = Inventory.from_sites(SENSORS, [Site(f"ws-{i:03d}", 127.0 + 0.1 * i, 50.2) for i in range(5)],
                                 [Site(f"g-{i}", 127.5, 50.0 + i, warning_m=7.0 + i) for i in range(3)])


def messages(sim: FeedSimulator, steps: range) -> list[tuple[str, bytes]]:
    return [m for k in steps for m in sim.step(k).messages]


def test_same_seed_same_stream_other_seed_other_stream() -> None:
    a = messages(FeedSimulator(INVENTORY, 7, START), range(7))
    assert a == messages(FeedSimulator(INVENTORY, 7, START), range(7))
    assert a != messages(FeedSimulator(INVENTORY, 8, START), range(7))


def test_cadences_sensors_weather_and_gauges() -> None:
    sim = FeedSimulator(INVENTORY, 3, START, faults=FaultRates(gap=0, spike=0, bad=0))
    first, second = sim.step(0), sim.step(1)
    assert first.readings == second.readings == 200
    assert first.weather == 5 and second.weather == 0  # once a minute
    seen: dict[str, list[datetime]] = defaultdict(list)
    for k in range(0, 6 * 60 * 2):  # two simulated hours
        for level in (lv for key, p in sim.step(k).messages if key == GAUGE_SOURCE for lv in
                      [decode(WaterLevel, p)]):
            seen[level.gauge_id].append(level.event_time)
    assert set(seen) == {"g-0", "g-1", "g-2"}
    for times in seen.values():
        gaps = {(b - a).total_seconds() for a, b in zip(times, times[1:])}
        assert len(gaps) == 1 and 300 <= gaps.pop() <= 900  # every 5-15 min, steadily


def test_temperature_follows_the_diurnal_cycle() -> None:
    sim = FeedSimulator(INVENTORY, 1, START)

    def mean_temperature(local_hour: int) -> float:
        k = ((local_hour - 8) % 24) * 360
        batches = [orjson.loads(p) for key, p in sim.step(k).messages if key == "meteorology.temperature-sensors"]
        return float(np.mean([r["value"] for b in batches for r in b["readings"] if r["value"] < 80]))

    assert mean_temperature(15) - mean_temperature(3) == pytest.approx(16.0, abs=1.5)  # 2 x 8 °C amplitude


def test_every_bad_value_is_refused_and_nothing_else() -> None:
    sim = FeedSimulator(INVENTORY, 11, START, faults=FaultRates(gap=0.01, spike=0.01, bad=0.02))
    intake = Intake(load_registry(), INVENTORY, TimeLimits(300, 86400), readings_partitions=4,
                    dedupe_window_s=900, dedupe_max_keys=100_000)
    bad = rejected = accepted = 0
    for k in range(60):
        step = sim.step(k)
        bad += step.bad
        for _, payload in step.messages:
            routed = intake.process(payload, 0, step.at.timestamp())
            rejected += len(routed.rejected)
            accepted += sum(routed.counts[c] for c in routed.counts if c[1].value == "accepted")
    assert bad > 50 and rejected == bad
    assert accepted > 11_000


def test_fire_scenario_raises_smoke_inside_its_circle_only() -> None:
    fire = FireScenario(lon=127.2, lat=50.1, radius_km=3.0, start=START, ramp=timedelta(minutes=10))
    sim = FeedSimulator(INVENTORY, 5, START, scenario=fire, faults=FaultRates(gap=0, spike=0, bad=0))
    inside = fire.inside(next(f for f in sim.feeds if f.kind is SensorKind.SMOKE).lonlat)
    assert 0 < inside.sum() < 50
    late = [orjson.loads(p) for key, p in sim.step(60).messages if key == "forestry.smoke-sensors"][0]
    values = np.array([r["value"] for r in late["readings"]])
    assert values[inside].min() > 20 and values[~inside].max() < 1
    hot = [orjson.loads(p) for key, p in sim.step(60).messages if key == "meteorology.weather-stations"]
    assert any(o["rh_pct"] == 18.0 and o["rain_mm"] == 0 for o in hot)


def test_scripted_scenario_replaces_its_gauges() -> None:
    def readings(start: datetime, seed: int):  # type: ignore[no-untyped-def]
        for i in range(3):
            yield WaterLevel(source="sim:test", event_time=start + timedelta(minutes=15 * i), gauge_id="g-1",
                             stage_m=9.0 + i)

    scenario = GeneratorScenario("test", types.SimpleNamespace(readings=readings), START, 7)
    sim = FeedSimulator(INVENTORY, 5, START, scenario=scenario, faults=FaultRates(gap=0, spike=0, bad=0))
    levels = [lv for k in range(0, 181) for key, p in sim.step(k).messages if key == GAUGE_SOURCE
              for lv in [decode(WaterLevel, p)]]
    g1 = [lv for lv in levels if lv.gauge_id == "g-1"]
    assert [lv.stage_m for lv in g1] == [9.0, 10.0, 11.0] and {lv.source for lv in g1} == {GAUGE_SOURCE}
    assert any(lv.gauge_id == "g-0" for lv in levels)


def test_unknown_scenario_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="known: none, fire"):
        load_scenario("meteor", START, 7)


def test_virtual_clock_and_unpaced_run() -> None:
    clock = VirtualClock(START, speed=60.0)
    assert clock.at(1.0) == START + timedelta(minutes=1) and clock.wall_elapsed(START + timedelta(hours=1)) == 60.0
    sent: list[str] = []

    async def send(key: str, payload: bytes) -> None:
        sent.append(key)

    totals = asyncio.run(run_feeds(FeedSimulator(INVENTORY, 2, START), clock, 60.0, send, asyncio.Event(),
                                   paced=False))
    assert totals.weather >= 9 and totals.readings > 7 * 190 and len(sent) >= 7 * 4


def test_the_crest_scenario_levels_pass_ingest_validation() -> None:
    import csv

    gauges_csv = REPO_ROOT / "gis" / "data" / "heihe" / "gauges.csv"
    with gauges_csv.open(encoding="utf-8") as fh:
        gauges = [Site(r["gauge_id"], float(r["lon"]), float(r["lat"]), warning_m=float(r["warning_m"]))
                  for r in csv.DictReader(fh)]
    inventory = Inventory.from_sites([], [], gauges)
    scenario = load_scenario("heilongjiang-crest-5", START, 7)
    sim = FeedSimulator(inventory, 7, START, scenario=scenario, faults=FaultRates(gap=0, spike=0, bad=0))
    intake = Intake(load_registry(), inventory, TimeLimits(300, 30 * 86400), readings_partitions=4,
                    dedupe_window_s=900, dedupe_max_keys=100_000)
    levels = 0
    for k in range(0, 6 * 60 * 6, 6):  # six simulated hours, a step a minute
        step = sim.step(k)
        for _, payload in step.messages:
            routed = intake.process(payload, 0, step.at.timestamp())
            assert routed.rejected == []
            levels += len(routed.levels)
    assert levels >= 40 * 6 * 4 * 0.9  # 40 gauges every 15 min from the scenario


def test_every_message_is_one_object_with_its_event_time() -> None:
    # the recording contract of `amur drill --replay`: each payload carries a top-level event_time
    sim = FeedSimulator(INVENTORY, 4, START)
    for key, payload in messages(sim, range(7)):
        doc = orjson.loads(payload)
        assert isinstance(doc, dict) and datetime.fromisoformat(doc["event_time"]) >= START
        assert key == doc["source"] or doc["type"] == "reading_batch" and key == doc["readings"][0]["source"]


def test_command_writes_the_same_recording_for_the_same_seed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    args = ["sim", "feeds", "--duration", "20", "--start", "2021-07-12T08:00:00+08:00", "--scenario", "fire",
            "--seed", "9"]
    assert amur([*args, "--out", str(tmp_path / "a.tsv")]) == 0
    assert amur([*args, "--out", str(tmp_path / "b.tsv")]) == 0
    recording = (tmp_path / "a.tsv").read_bytes()
    assert recording == (tmp_path / "b.tsv").read_bytes()
    lines = recording.splitlines()
    readings = sum(len(orjson.loads(line.split(b"\t", 1)[1]).get("readings", [])) for line in lines)
    assert 3 * 10_000 * 0.99 <= readings <= 3 * 10_000  # 10,000 sensors at t = 0, 10, 20 s, minus gaps
    assert amur(["sim", "feeds", "--scenario", "meteor", "--out", str(tmp_path / "c.tsv")]) == 2


def test_command_simulates_only_the_feeds_asked_for(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "gauges.tsv"
    assert amur(["sim", "feeds", "--duration", "1800", "--start", "2021-07-12T08:00:00+08:00", "--feeds", "gauges",
                 "--out", str(out)]) == 0
    assert {line.split(b"\t", 1)[0] for line in out.read_bytes().splitlines()} == {GAUGE_SOURCE.encode()}


def test_command_help_lists_its_options(capsys: pytest.CaptureFixture) -> None:
    assert amur(["sim", "feeds", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--speed", "--seed", "--duration", "--scenario", "--start", "--out", "--feeds", "--backfill",
                   "--demo"):
        assert option in out


@pytest.mark.parametrize("args, option", [
    (["--speed", "0"], "--speed"),
    (["--start", "2021-07-12T08:00:00"], "--start"),
    (["--start", "yesterday"], "--start"),
    (["--feeds", "sensors,radar"], "--feeds"),
    (["--duration", "long"], "--duration"),
])
def test_command_refuses_bad_options_in_one_line(args: list[str], option: str,
                                                 capsys: pytest.CaptureFixture) -> None:
    assert amur(["sim", "feeds", *args, "--out", "/nonexistent/never-written.tsv"]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert option in line and line.startswith("amur sim feeds: error:")


def test_history_is_the_hours_before_start_oldest_first_and_ingest_takes_all_of_it() -> None:
    sim = FeedSimulator(INVENTORY, 7, START, faults=FaultRates(gap=0, spike=0, bad=0))
    steps = list(sim.history(48))
    assert [s.at for s in steps] == [START - timedelta(hours=48 - h) for h in range(3, 48, 3)] + \
        [START - timedelta(seconds=STEP_S)] * 2  # the last one sends the sensors' readings
    held: dict[str, list[dict]] = defaultdict(list)
    for key, payload in steps[-1].messages:
        held[key] += orjson.loads(payload)["readings"]
    assert sum(map(len, held.values())) == sum(s.readings for s in steps)
    assert all(isinstance(orjson.loads(p), list) for s in steps[:-1] for _, p in s.messages)  # weather, levels
    for readings in held.values():  # a sensor's readings together, oldest first: one rain-table write, not 48
        assert [r["sensor_id"] for r in readings] == sorted(r["sensor_id"] for r in readings)
        assert all(a["event_time"] < b["event_time"] for a, b in zip(readings, readings[1:])
                   if a["sensor_id"] == b["sensor_id"])
    intake = Intake(load_registry(), INVENTORY, TimeLimits(300, 7 * 86400), readings_partitions=4,
                    dedupe_window_s=900, dedupe_max_keys=100_000)
    levels: dict[str, list[datetime]] = defaultdict(list)
    for step in steps:
        for _, payload in step.messages:
            routed = intake.process(payload, 0, START.timestamp())
            assert routed.rejected == []
            for level in routed.levels:
                levels[level.gauge_id].append(level.event_time)
            assert all(START - timedelta(hours=48) < o.event_time < START for o in routed.weather + routed.levels)
    assert sum(s.weather for s in steps) == 5 * 16 and sum(s.levels for s in steps) == 3 * 19
    for times in levels.values():  # a level every three hours per gauge, from two days back to the start
        assert times == sorted(times) and len(times) == 19  # hydrology states a gauge one reading behind:
        assert times[1] <= START - timedelta(hours=47.5) and times[-2] >= START - timedelta(minutes=30)  # two at ends
        assert max((b - a).total_seconds() for a, b in zip(times, times[1:])) <= 3 * 3600 + 900  # on its schedule
    rain = [s.readings for s in steps]
    assert rain[0] == 200 and rain[1] == 50  # every sensor, then only rain sensors between the 12-hourly steps


def test_history_rain_is_the_live_rain_summed_over_the_hour() -> None:
    def mean_rain_per_hour(messages: list[tuple[str, bytes]], hours: float) -> float:
        batches = [orjson.loads(p) for key, p in messages if key == "meteorology.rain-sensors"]
        return sum(r["value"] for b in batches for r in b["readings"]) / 50 / hours

    sim = FeedSimulator(INVENTORY, 13, START, faults=FaultRates(gap=0, spike=0, bad=0))
    history = mean_rain_per_hour([m for s in sim.history(48) for m in s.messages], 48)
    live = mean_rain_per_hour(messages(sim, range(6 * 360)), 6)
    assert history == pytest.approx(RAIN_MM_PER_H, rel=0.3)
    assert live == pytest.approx(RAIN_MM_PER_H, rel=0.4)


@pytest.mark.parametrize("asked, live, expected", [(None, True, 48.0), (None, False, 0.0), (6.0, False, 6.0),
                                                   (0.0, True, 0.0)])
def test_backfill_defaults_to_the_setting_only_for_a_live_run(asked: float | None, live: bool,
                                                              expected: float) -> None:
    assert backfill_hours(asked, 48.0, live=live) == expected


def test_command_writes_the_backfill_before_the_live_feeds(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "history.tsv"
    assert amur(["sim", "feeds", "--duration", "0", "--start", "2021-07-12T08:00:00+08:00", "--feeds", "gauges",
                 "--backfill", "6", "--out", str(out)]) == 0
    start = datetime(2021, 7, 12, 0, 0, tzinfo=timezone.utc)
    times = []
    for line in out.read_bytes().splitlines():
        doc = orjson.loads(line.split(b"\t", 1)[1])
        times.append(min(datetime.fromisoformat(d["event_time"]) for d in (doc if isinstance(doc, list) else [doc])))
    assert times == sorted(times) and times[0] < start - timedelta(hours=2) and times[-1] < start


def test_demo_needs_an_open311_key_and_no_other_scenario(tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("AMUR_OPEN311_API_KEYS", raising=False)
    assert amur(["sim", "feeds", "--demo", "--out", str(tmp_path / "a.tsv")]) == 2
    assert "AMUR_OPEN311_API_KEYS" in capsys.readouterr().err
    monkeypatch.setenv("AMUR_OPEN311_API_KEYS", "k")
    assert amur(["sim", "feeds", "--demo", "--scenario", "fire", "--out", str(tmp_path / "b.tsv")]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert "--scenario fire" in line


def test_a_restarted_simulator_finds_its_first_start(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "run" / "sim-feeds.start"
    assert recorded_start(path, START) is None
    assert recorded_start(path, START + timedelta(minutes=7)) == START  # the restart: no second backfill
