"""Hydrology agents on the real broker: a scenario wave, a worker killed mid-wave and restarted."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from gis.hydro.alerts import AlertAction, ForecastAlert
from gis.hydro.crests import Crest
from gis.hydro.forecast import GaugeForecast
from gis.hydro.numbering import NumberedCrest
from gis.hydro.pipeline import ForecastReport, IssuedForecast, NumberedReport
from stream import schemas, topics
from stream.agents.hydro import crest_detected, crest_forecast
from stream.runtime.admin import bootstrap_servers, prepare_topics_async
from stream.runtime.app import build_app, kafka_url
from stream.sim.scenarios import heilongjiang_crest_5 as scenario
from tests.conftest import TESTS, settings_env

START = datetime(2024, 8, 1, tzinfo=timezone(timedelta(hours=8)))
GAUGES = ("hlj-oupu", "hlj-huma", "hlj-sandaoka", "hlj-dawujiazi", "hlj-heihe")
WORKER = TESTS / "helpers" / "hydro_worker.py"


def test_wire_events_carry_the_pipeline_decisions() -> None:
    t = START
    crest = Crest(t, 8.3, 3.8, t - timedelta(days=2), 4.5, t + timedelta(hours=5))
    event = crest_detected(NumberedReport("heilongjiang", NumberedCrest(5, "hlj-huma", t, 8.3), crest))
    assert (event.crest_no, event.river, event.gauge_id, event.event_time) == (5, "heilongjiang", "hlj-huma", crest.confirmed_at)
    assert schemas.decode(schemas.CrestDetected, schemas.encode(event)) == event
    fc = GaugeForecast("hlj-heihe", "hlj-huma", t, t + timedelta(hours=50), t + timedelta(hours=43),
                       t + timedelta(hours=57), 7.7, 7.3, 8.1, 14000.0)
    alert = ForecastAlert("hlj-heihe", schemas.Colour.YELLOW, 7.7, fc.arrival, 50.0, ("c1", "c2"))
    issued = IssuedForecast("heilongjiang-2024-5-hlj-heihe", "heilongjiang", 5, fc, schemas.Colour.YELLOW, alert)
    wire = crest_forecast(ForecastReport(issued, AlertAction.RAISE))
    assert wire.affected_cells == ["c1", "c2"] and wire.arrival_time == fc.arrival and not wire.cancelled
    assert schemas.decode(schemas.CrestForecast, schemas.encode(wire)) == wire


def test_a_revised_crest_goes_out_with_its_number_revision_and_what_it_replaces() -> None:
    t = START
    announced = Crest(t, 6.5, 1.5, t - timedelta(hours=15), 5.0, t + timedelta(hours=3))
    revised = Crest(t + timedelta(hours=9), 7.4, 2.4, t - timedelta(hours=15), 5.0, t + timedelta(hours=11),
                    revision=1)
    event = crest_detected(NumberedReport("heilongjiang", NumberedCrest(5, "hlj-oupu", revised.time, 7.4), revised,
                                          previous=announced))
    assert (event.crest_no, event.revision, event.stage_m, event.crest_time) == (5, 1, 7.4, revised.time)
    assert (event.previous_crest_time, event.previous_stage_m) == (announced.time, 6.5)
    assert event.v == 2 and event.event_time == revised.confirmed_at
    assert schemas.decode(schemas.AnyEvent, schemas.encode(event)) == event


def _start_worker(env: dict[str, str], prior: int, log: Path) -> subprocess.Popen:  # type: ignore[type-arg]
    return subprocess.Popen([sys.executable, str(WORKER), str(prior), "worker"], env=env,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT, cwd=str(WORKER.parent.parent))


async def _collect(consumer: AIOKafkaConsumer, into: list, until, timeout: float) -> None:  # noqa: ANN001
    deadline = asyncio.get_running_loop().time() + timeout
    while not until() and asyncio.get_running_loop().time() < deadline:
        batch = await consumer.getmany(timeout_ms=500)
        for records in batch.values():
            for r in records:
                into.append(schemas.decode(schemas.AnyEvent, r.value))  # type: ignore[arg-type]


@pytest.mark.integration
@pytest.mark.timeout(900)  # generous: the waits below end as soon as the crests are in
@pytest.mark.xfail(strict=False, reason="FOUND, NOT FIXED (issue 14): in some runs the restarted worker never "
                   "reports one or two gauges' crests (seen: Huma and Heihe missing, with an offset gap on "
                   "hydro.rivers after the kill, read=893 next=1000); docs/RELIABILITY.md. Make strict once fixed")
async def test_wave_is_detected_numbered_and_forecast_across_a_killed_worker(make_settings, tmp_path: Path) -> None:
    settings = make_settings(partitions=2)
    await prepare_topics_async(settings, agent_modules=["stream.agents.hydro"])
    rt = build_app(settings, agent_modules=[])
    names = {spec: rt.topic_name(spec) for spec in (topics.WATER_LEVELS, topics.CRESTS, topics.FORECASTS)}
    bootstrap = bootstrap_servers(kafka_url(settings))
    levels = [lv for lv in scenario.readings(START, seed=7) if lv.gauge_id in GAUGES]
    kill_at = START + timedelta(hours=50)  # Oupu's crest confirmed, Huma half-way up its rise
    before = [lv for lv in levels if lv.event_time < kill_at]
    after = levels[len(before):]
    env = settings_env(settings)
    log = tmp_path / "worker.log"
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(names[topics.CRESTS], names[topics.FORECASTS], bootstrap_servers=bootstrap,
                                auto_offset_reset="earliest", group_id=None)
    await producer.start()
    await consumer.start()
    seen: list = []
    worker = _start_worker(env, prior=4, log=log)
    try:
        for lv in before:
            await producer.send(names[topics.WATER_LEVELS], key=lv.gauge_id.encode(), value=schemas.encode(lv))
        await producer.flush()
        crests = lambda: [e for e in seen if isinstance(e, schemas.CrestDetected)]  # noqa: E731
        await _collect(consumer, seen, lambda: any(c.gauge_id == "hlj-oupu" for c in crests()), 300)
        assert [(c.gauge_id, c.crest_no) for c in crests()] == [("hlj-oupu", 5)], log.read_text()[-3000:]
        await asyncio.sleep(2.0)  # let the last table writes reach the changelog
        worker.kill()  # SIGKILL: no clean shutdown
        worker.wait(10)
        # A restarted worker seeded differently: numbers only stay at 5 if the river state came back.
        worker = _start_worker(env, prior=10, log=log)
        for lv in after:
            await producer.send(names[topics.WATER_LEVELS], key=lv.gauge_id.encode(), value=schemas.encode(lv))
        await producer.flush()
        # every gauge's crest, not only Heihe's: the gauges are on two partitions, so Heihe's may come first
        await _collect(consumer, seen, lambda: {c.gauge_id for c in crests()} >= set(GAUGES), 480)
    finally:
        worker.kill()
        worker.wait(10)
        await consumer.stop()
        await producer.stop()
    got = crests()
    assert [(c.gauge_id, c.crest_no) for c in got] == [(g, 5) for g in GAUGES], log.read_text()[-3000:]
    huma = got[1]
    # Huma's trough (5.35 m on 08-02) was seen before the kill: its detector state survived the
    # restart. A detector starting afresh at the kill (Huma at 6.2 m) would report about 2.1 m.
    assert huma.rise_start < kill_at - timedelta(hours=12) and huma.prominence_m > 2.9
    forecasts = [e for e in seen if isinstance(e, schemas.CrestForecast) and e.gauge_id == "hlj-heihe"]
    sources = [f.from_gauge_id for f in forecasts if not f.cancelled]
    assert sources[0] == "hlj-oupu" and "hlj-huma" in sources
    assert all(f.crest_no == 5 and f.forecast_id == "heilongjiang-2024-5-hlj-heihe" for f in forecasts)
    assert forecasts[-1].cancelled  # closed when Heihe confirmed the crest
    truth = scenario.true_crest("hlj-heihe", START)
    from_huma = next(f for f in forecasts if f.from_gauge_id == "hlj-huma")
    assert abs(from_huma.stage_m - truth.stage) <= 0.15
    assert (truth.time - from_huma.issued_at) >= timedelta(hours=54)
