"""Projection agents on the embedded broker and a real Redis: state, numbered updates, series, counters."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import msgspec
import orjson
import pytest
import redis.asyncio as aioredis

from stream import schemas, topics
from stream.agents.projection import RedisProjector
from stream.runtime.admin import prepare_topics_async
from stream.runtime.app import build_app
from stream.screens.projection import Channel, Keys, project

pytestmark = pytest.mark.integration
MODULES = ["stream.agents.projection"]
T0 = datetime(2026, 7, 20, 8, 0, tzinfo=timezone.utc)


def incident(revision: int, state: schemas.IncidentState) -> schemas.IncidentChanged:
    return schemas.IncidentChanged(source="t", event_time=T0 + timedelta(minutes=revision), incident_id="231102-flood-1",
                                   hazard=schemas.Hazard.FLOOD, colour=schemas.Colour.RED, state=state, title="t",
                                   cells=["231102001001001"], revision=revision)


def risk(colour: schemas.Colour, minutes: int) -> schemas.CellRisk:
    return schemas.CellRisk(source="t", event_time=T0 + timedelta(minutes=minutes), cell_code="231102001001001",
                            hazard=schemas.Hazard.FLOOD, score=2.0, colour=colour)


async def wait_for_seq(client: aioredis.Redis, key: str, value: int, timeout: float = 60.0) -> None:
    async def poll() -> None:
        while int(await client.get(key) or 0) < value:
            await asyncio.sleep(0.05)
    await asyncio.wait_for(poll(), timeout)


async def test_topics_become_state_and_numbered_updates(make_settings) -> None:
    settings = make_settings(partitions=2)
    await prepare_topics_async(settings, agent_modules=MODULES)
    rt = build_app(settings, agent_modules=MODULES)
    keys = Keys(settings.redis_prefix)
    client = aioredis.from_url(settings.redis_url)

    async def send(spec: topics.TopicSpec, key: str, event: schemas.Event) -> None:
        await rt.topic(spec).send(key=key.encode(), value=schemas.encode(event))

    await rt.app.start()
    try:
        await send(topics.INCIDENTS, "231102-flood-1", incident(1, schemas.IncidentState.RAISED))
        await send(topics.INCIDENTS, "231102-flood-1", incident(2, schemas.IncidentState.ACKNOWLEDGED))
        await send(topics.CELL_RISK, "231102001001001", risk(schemas.Colour.RED, 0))
        await send(topics.CELL_RISK, "231102001001001", risk(schemas.Colour.RED, 5))  # unchanged: no update
        await send(topics.CELL_RISK, "231102001001001", risk(schemas.Colour.ORANGE, 10))
        await send(topics.GAUGE_STATE, "hlj-heihe", schemas.GaugeState(
            source="t", event_time=T0, gauge_id="hlj-heihe", stage_m=7.6, trend=schemas.TrendState.RISING,
            rate_m_per_h=0.1, colour=schemas.Colour.YELLOW))
        await send(topics.DEAD_LETTER, "x", schemas.DeadLetter(source="t", event_time=T0, topic="amur.ingest.raw",
                                                              reason="bad", raw="{}"))
        await rt.topic(topics.INCIDENTS).send(key=b"x", value=b'{"not": "an incident"}')
        await wait_for_seq(client, keys.seq(Channel.INCIDENTS), 2)
        await wait_for_seq(client, keys.seq(Channel.CELLS), 2)
        await wait_for_seq(client, keys.seq(Channel.GAUGES), 1)
        stored = await client.hget(keys.state(Channel.INCIDENTS), "231102-flood-1")
        assert schemas.decode(schemas.IncidentChanged, stored).state is schemas.IncidentState.ACKNOWLEDGED
        updates = await client.xrange(keys.updates(Channel.CELLS))
        assert [(i, orjson.loads(f[b"d"])["colour"]) for i, f in updates] == [(b"1-0", "red"), (b"2-0", "orange")]
        assert await client.xrange(keys.gauge_series("hlj-heihe")) != []
        for _ in range(100):
            counters = await client.hgetall(keys.counters)
            if counters.get(b"deadletter:amur.ingest.raw"):
                break
            await asyncio.sleep(0.05)
        assert counters[b"deadletter:amur.ingest.raw"] == b"1"
        assert int(counters[b"events"]) == 7  # the undecodable payload is refused, not projected
    finally:
        await rt.app.stop()
        await client.aclose()


async def test_deleting_an_absent_entry_numbers_nothing(make_settings) -> None:
    settings = make_settings()
    keys = Keys(settings.redis_prefix)
    client = aioredis.from_url(settings.redis_url)
    projector = RedisProjector(client, keys, 100, 10)
    forecast = schemas.CrestForecast(
        source="t", event_time=T0, forecast_id="f", gauge_id="hlj-heihe", river="heilongjiang", crest_no=5,
        from_gauge_id="hlj-huma", issued_at=T0, arrival_time=T0, arrival_low=T0, arrival_high=T0, stage_m=8.0,
        stage_low_m=7.8, stage_high_m=8.2, colour=schemas.Colour.ORANGE)
    cancelled = msgspec.structs.replace(forecast, cancelled=True)
    await projector.apply([project(cancelled, keys)])
    assert await client.get(keys.seq(Channel.FORECASTS)) is None
    await projector.apply([project(forecast, keys), project(cancelled, keys)])
    assert await client.get(keys.seq(Channel.FORECASTS)) == b"2"
    assert await client.hlen(keys.state(Channel.FORECASTS)) == 0
    assert [f[b"d"] for _, f in await client.xrange(keys.updates(Channel.FORECASTS))][1] == b""
    await client.aclose()
