"""Risk agents on the real broker: a gauge above a riverside cell's flood stage → CellRisk, only changes."""

from __future__ import annotations

import asyncio
import math
from datetime import datetime, timedelta, timezone

import msgspec
import pytest
from aiokafka import AIOKafkaConsumer

from gis import registry as R
from stream import schemas, topics
from stream.agents.risk import rain_only
from stream.risk.inputs import newest_time
from stream.runtime.admin import bootstrap_servers, prepare_topics_async
from stream.runtime.app import build_app, kafka_url
from stream.schemas import Colour, Hazard

GAUGE = "hlj-heihe"
FAR_CELL = "231183001001001"  # Nenjiang, 100 km from the Heilongjiang, no controlling gauge


def test_rain_only_keeps_the_rain_readings_and_the_newest_reading_time_is_the_clock() -> None:
    t = datetime(2024, 8, 1, tzinfo=timezone.utc)
    reading = lambda k, v: schemas.SensorReading(source="s", event_time=t, sensor_id=f"x-{k}", kind=k, value=v, unit="u")  # noqa: E731
    batch = schemas.ReadingBatch(source="s", event_time=t, readings=[reading(schemas.SensorKind.RAIN, 1.0),
                                                                      reading(schemas.SensorKind.SMOKE, 0.1)])
    kept = rain_only(batch)
    assert kept is not None and [r.kind for r in kept.readings] == [schemas.SensorKind.RAIN]
    assert rain_only(schemas.ReadingBatch(source="s", event_time=t, readings=batch.readings[1:])) is None
    later = schemas.ReadingBatch(source="s", event_time=t, readings=[
        msgspec.structs.replace(batch.readings[0], event_time=t + timedelta(seconds=s)) for s in (30, 10)])
    assert newest_time(later) == t + timedelta(seconds=30)
    assert newest_time(schemas.ReadingBatch(source="s", event_time=t, readings=[])) == t


def _riverside_cell() -> R.CellRecord:
    """A populous cell Heihe's gauge floods: with the water a metre or more above its flood stage the stage
    hazard is 1; exposure is 0.5 + 0.5 min(1, log10(1 + people) / 3) = 1 for >= 999 people, vulnerability
    >= 0.9 (gis.risk), so its score is >= 0.9: red."""
    cells = [c for c in R.load_cells() if c.gauge_id == GAUGE and c.inundation_stage_m is not None and c.population >= 999]
    return min(cells, key=lambda c: (c.inundation_stage_m, c.cell_code))


def _gauge(stage_m: float, at: datetime) -> schemas.GaugeState:
    return schemas.GaugeState(source="test", event_time=at, gauge_id=GAUGE, stage_m=stage_m,
                              trend=schemas.TrendState.RISING,
                              rate_m_per_h=0.05, colour=Colour.ORANGE)


async def _drain(consumer: AIOKafkaConsumer, seconds: float) -> list[schemas.CellRisk]:
    out: list[schemas.CellRisk] = []
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        for records in (await consumer.getmany(timeout_ms=300)).values():
            out += [schemas.decode(schemas.CellRisk, r.value) for r in records]
    return out


async def _drain_until(consumer: AIOKafkaConsumer, cell_code: str, seconds: int) -> list[schemas.CellRisk]:
    """Everything published until ``cell_code`` shows up (or ``seconds`` pass)."""
    seen: list[schemas.CellRisk] = []
    for _ in range(seconds):
        seen += await _drain(consumer, 1.0)
        if any(e.cell_code == cell_code for e in seen):
            break
    return seen


def _rescorings(rt) -> float:  # noqa: ANN001
    return rt.metrics.registry.get_sample_value("amur_stage_seconds_count", {"stage": "risk_rescore"}) or 0.0


@pytest.mark.integration
@pytest.mark.timeout(180)
async def test_gauge_above_flood_stage_colours_the_cell_and_only_changes_are_published(make_settings) -> None:
    settings = make_settings(partitions=2, gis_rescore_interval_s=0.5)
    await prepare_topics_async(settings, agent_modules=["stream.agents.risk"])
    rt = build_app(settings, agent_modules=["stream.agents.risk"])
    cell = _riverside_cell()
    controlled = {c.cell_code for c in R.load_cells() if c.gauge_id == GAUGE}
    consumer = AIOKafkaConsumer(rt.topic_name(topics.CELL_RISK), bootstrap_servers=bootstrap_servers(kafka_url(settings)),
                                auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    await rt.app.start()
    gauges = rt.topic(topics.GAUGE_STATE)
    t0 = datetime(2024, 8, 5, 4, tzinfo=timezone.utc)
    try:
        await asyncio.sleep(1.0)
        await gauges.send(key=GAUGE.encode(), value=schemas.encode(_gauge(cell.inundation_stage_m + 1.5, t0)))
        seen = await _drain_until(consumer, cell.cell_code, 60)
        mine = [e for e in seen if e.cell_code == cell.cell_code]
        assert len(mine) == 1, seen[:5]
        risk = mine[0]
        assert risk.hazard is Hazard.FLOOD and risk.colour.rank >= Colour.ORANGE.rank and risk.score >= 0.6
        assert math.isclose(risk.factors["stage_m"], cell.inundation_stage_m + 1.5, abs_tol=1e-3)
        assert risk.factors["inundation_stage_m"] == cell.inundation_stage_m and risk.event_time == t0
        seen += await _drain(consumer, 1.5)  # the rest of that rescoring
        assert FAR_CELL not in {e.cell_code for e in seen}
        assert all(e.hazard is Hazard.FLOOD and e.cell_code in controlled for e in seen)
        assert len({e.cell_code for e in seen}) == len(seen)  # each cell once

        # the same stage again, later: the grid is rescored, nothing has changed, nothing is published
        before = _rescorings(rt)
        await gauges.send(key=GAUGE.encode(), value=schemas.encode(_gauge(cell.inundation_stage_m + 1.5, t0 + timedelta(minutes=10))))
        repeat = await _drain(consumer, 4.0)
        assert _rescorings(rt) > before and repeat == []

        # the water falls two metres below the cell's flood stage: it is published again, green
        await gauges.send(key=GAUGE.encode(), value=schemas.encode(_gauge(cell.inundation_stage_m - 2.0, t0 + timedelta(minutes=20))))
        fallen = await _drain_until(consumer, cell.cell_code, 30)
        back = [e for e in fallen if e.cell_code == cell.cell_code]
        assert len(back) == 1 and back[0].colour is Colour.GREEN and back[0].factors["stage_hazard"] == 0.0

        # up again, then a restarted worker: it reads what was published and does not republish the grid
        await gauges.send(key=GAUGE.encode(), value=schemas.encode(_gauge(cell.inundation_stage_m + 1.5, t0 + timedelta(minutes=30))))
        up = await _drain_until(consumer, cell.cell_code, 30)
        up += await _drain(consumer, 1.5)
        assert {e.cell_code for e in up} == {e.cell_code for e in seen}  # the same cells as the first time
    finally:
        await rt.app.stop()
    rt = build_app(settings, agent_modules=["stream.agents.risk"])
    await rt.app.start()
    try:
        await asyncio.sleep(1.0)
        before = _rescorings(rt)
        await rt.topic(topics.GAUGE_STATE).send(
            key=GAUGE.encode(), value=schemas.encode(_gauge(cell.inundation_stage_m + 1.5, t0 + timedelta(minutes=40))))
        for _ in range(60):
            if _rescorings(rt) > before:
                break
            await asyncio.sleep(0.5)
        assert _rescorings(rt) > before
        again = await _drain(consumer, 2.0)
        # at least once: a cell may be republished after the restart, but only with what it had before
        last = {e.cell_code: (e.colour, e.score) for e in up}
        assert all(last.get(e.cell_code) == (e.colour, e.score) for e in again)
        assert len(again) < len(up) / 4
    finally:
        await rt.app.stop()
        await consumer.stop()
