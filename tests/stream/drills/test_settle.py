"""When a drill is done: consumer lag 0 on every topic of its namespace for the hold, or its timeout.

The decision is pure (:class:`Settling`, times passed in); the integration tests
run it against the embedded broker, with the drill's worker (every agent module,
in this process) started late, and with no worker at all.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from gis.registry import load_gauges
from stream import schemas, topics
from stream.drills.drill import drill_report, write_report
from stream.drills.settle import (
    Settling,
    Verdict,
    hold_for,
    lag_note,
    settled_incidents,
)
from stream.runtime.admin import prepare_topics_async
from stream.runtime.app import AGENT_MODULES, build_app
from stream.settings import load_settings

WAITING, DONE, TIMED_OUT = Verdict.WAITING, Verdict.DONE, Verdict.TIMED_OUT


def run(state: Settling, *steps: tuple[dict[str, int] | None, float]) -> list[Verdict]:
    """Measurements (lag per topic, at time) with nothing new produced between them."""
    return run_producing(state, *((lag, {"a": 7}, now) for lag, now in steps))


def run_producing(state: Settling, *steps: tuple[dict[str, int] | None, dict[str, int], float]) -> list[Verdict]:
    verdicts = []
    for lag, produced, now in steps:
        state, verdict = state.observe(lag, produced, now)
        verdicts.append(verdict)
    return verdicts


def test_done_only_once_the_lag_has_stayed_zero_everywhere_for_the_hold() -> None:
    state = Settling(hold_s=10, timeout_s=600, started=0)
    assert run(state, ({"ingest.raw": 5, "incidents": 0}, 1), ({"ingest.raw": 0, "incidents": 0}, 2),
               ({"ingest.raw": 0, "incidents": 0}, 11.9), ({"ingest.raw": 0, "incidents": 0}, 12)) == \
        [WAITING, WAITING, WAITING, DONE]


def test_new_lag_or_a_failed_measurement_starts_the_hold_again() -> None:
    state = Settling(hold_s=10, timeout_s=600, started=0)
    assert run(state, ({"a": 0}, 1), ({"a": 1}, 5), ({"a": 0}, 6), ({"a": 0}, 15), ({"a": 0}, 16)) == \
        [WAITING, WAITING, WAITING, WAITING, DONE]
    assert run(state, ({"a": 0}, 1), (None, 5), ({"a": 0}, 6), ({"a": 0}, 11), ({"a": 0}, 16)) == \
        [WAITING, WAITING, WAITING, WAITING, DONE]


def test_anything_produced_during_the_hold_starts_it_again_even_when_processed_at_once() -> None:
    """A timer (risk rescoring, an incident tick) sends after the lag reached 0; the worker took it between polls."""
    state = Settling(hold_s=10, timeout_s=600, started=0)
    assert run_producing(state, ({"a": 0}, {"a": 7}, 1), ({"a": 0}, {"a": 9}, 8), ({"a": 0}, {"a": 9}, 12),
                         ({"a": 0}, {"a": 9}, 18)) == [WAITING, WAITING, WAITING, DONE]


def test_a_pipeline_still_behind_at_the_timeout_stops_early_and_one_drained_in_time_is_done() -> None:
    state = Settling(hold_s=10, timeout_s=100, started=0)
    assert run(state, ({"a": 3}, 50), ({"a": 3}, 99), ({"a": 2}, 100)) == [WAITING, WAITING, TIMED_OUT]
    assert run(state, ({"a": 0}, 90), ({"a": 0}, 100)) == [WAITING, DONE]
    assert run(state, ({"a": 0}, 95), ({"a": 0}, 100)) == [WAITING, TIMED_OUT]


def test_the_hold_covers_two_intervals_of_the_slowest_worker_timer() -> None:
    settings = load_settings(incident_tick_s=1.0, gis_rescore_interval_s=7.0, ingest_health_interval_s=2.0)
    assert hold_for(3.0, settings) == 14.0 and hold_for(30.0, settings) == 30.0


def test_the_progress_note_names_the_topics_furthest_behind() -> None:
    assert lag_note({"a": 0, "b": 0}) == "lag 0"
    assert lag_note(None) == "lag unknown"
    assert lag_note({"a": 5, "b": 1200, "c": 0, "d": 7, "e": 1}) == "lag 1,213: b 1,200, d 7, a 5, ..."


# --------------------------------------------------------------------------- on the embedded broker

HEIHE = next(g for g in load_gauges() if g.gauge_id == "hlj-heihe")
START = datetime(2024, 8, 1, tzinfo=timezone(timedelta(hours=8)))
STEP = timedelta(hours=2)
PER_DAY = 12


def water_levels(days: int) -> list[schemas.WaterLevel]:
    """The Heihe gauge every two hours: low water, then over the last day a rise past the warning stage."""
    rise_from = (days - 1) * PER_DAY
    return [schemas.WaterLevel(source="hydrology.river-gauges", event_time=START + k * STEP, gauge_id=HEIHE.gauge_id,
                               stage_m=round(HEIHE.warning_m - 2.0 + max(0, k - rise_from) * 3.0 / PER_DAY, 3))
            for k in range(days * PER_DAY)]


async def feed(settings, levels: list[schemas.WaterLevel]) -> int:  # type: ignore[no-untyped-def]
    """Send each reading as its own raw-ingest message, as a department feed would; returns how many."""
    from aiokafka import AIOKafkaProducer

    from stream.runtime.admin import bootstrap_servers
    from stream.runtime.app import kafka_url

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers(kafka_url(settings)), linger_ms=20)
    await producer.start()
    try:
        for level in levels:
            await producer.send(topics.topic_name(topics.RAW_INGEST, settings.drill_id),
                                key=level.source.encode(), value=schemas.encode(level))
        await producer.flush()
    finally:
        await producer.stop()
    return len(levels)


@pytest.mark.integration
async def test_a_drill_whose_worker_starts_late_still_reports_every_incident(make_settings, tmp_path: Path) -> None:
    settings = make_settings(partitions=2, incident_tick_s=1.0, notify_attempts=1)  # drill contacts are placeholders
    await prepare_topics_async(settings)
    levels = water_levels(days=2)
    sent = await feed(settings, levels)
    measured: list[dict[str, int] | None] = []
    behind = asyncio.Event()

    def on_lag(lag: dict[str, int] | None) -> None:
        measured.append(lag)
        if sum(1 for m in measured if m and m["ingest.raw"]) >= 3:
            behind.set()  # the drill has seen its input wait three times: only now does the worker start

    waiting = asyncio.create_task(settled_incidents(settings, hold_s=hold_for(0, settings), timeout_s=900, poll_s=0.5,
                                                    on_lag=on_lag))
    await asyncio.wait_for(behind.wait(), 120)
    assert not waiting.done()  # a quiet incidents topic did not end the drill
    assert next(m for m in measured if m)["ingest.raw"] == sent
    rt = build_app(settings, list(AGENT_MODULES))
    consumed = {name for agent in rt.app.agents.values() for name in agent.channel.topics}
    assert consumed >= {rt.topic_name(spec) for spec in topics.ALL}  # what the wait relies on: see stream.drills.settle
    await rt.app.start()
    try:
        caught, incidents = await asyncio.wait_for(waiting, 900)
    finally:
        await rt.app.stop()

    assert caught.complete and set(caught.lag) == {spec.name for spec in topics.ALL} and not any(caught.lag.values())
    # the gauge's flood: raised by the rise of the last day, its evidence from the end of the input (the
    # hydrology holds the newest reading provisional until the next arrives: gis.hydro.pipeline.observe)
    gauge = f"gauge:{HEIHE.gauge_id}"
    [flood] = [i for i in incidents if i.hazard is schemas.Hazard.FLOOD and any(e.evidence_id == gauge
                                                                                 for e in i.evidence)]
    rise = levels[-PER_DAY].event_time
    assert rise <= flood.raised_at <= levels[-1].event_time
    assert next(e for e in flood.evidence if e.evidence_id == gauge).event_time >= levels[-2].event_time
    report = drill_report(settings.drill_id, incidents, caught)
    write_report(tmp_path, report)
    written = json.loads((tmp_path / "report.json").read_text())
    assert not written["stopped_early"] and written["incidents"] == len(incidents)
    assert "STOPPED EARLY" not in (tmp_path / "report.md").read_text()


@pytest.mark.integration
async def test_a_drill_that_times_out_says_so_in_its_report(make_settings, tmp_path: Path) -> None:
    settings = make_settings(partitions=2)
    await prepare_topics_async(settings, agent_modules=[])
    sent = await feed(settings, water_levels(days=1))
    caught, incidents = await settled_incidents(settings, hold_s=1.0, timeout_s=2.0, poll_s=0.5)  # no worker at all
    assert not caught.complete and incidents == []
    assert caught.lag["ingest.raw"] == sent and caught.unprocessed == sent
    write_report(tmp_path, drill_report(settings.drill_id, incidents, caught))
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["stopped_early"] and report["settle_timeout_s"] == 2.0
    assert report["lag"]["ingest.raw"] == sent and sum(report["lag"].values()) == sent
    markdown = (tmp_path / "report.md").read_text()
    assert "STOPPED EARLY" in markdown and f"| ingest.raw | {sent:,} |" in markdown
