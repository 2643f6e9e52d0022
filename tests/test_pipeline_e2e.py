"""The whole pipeline on the embedded broker: a gauge reading in, an incident out.

A water level above the warning level of the Heihe gauge enters through the raw
ingest topic (as a department feed would send it), is validated and routed by the
ingest agent, becomes a yellow GaugeState in the hydrology agent, and becomes one
flood incident in the incidents agent; a malformed reading in the same burst
lands in the dead-letter topic with its reason. Every agent module runs.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from aiokafka import AIOKafkaConsumer

from gis.registry import load_gauges
from stream import schemas, topics
from stream.runtime.admin import prepare_topics_async
from stream.runtime.app import AGENT_MODULES, build_app

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("clock", ["wall", "event"])  # a live feed, and a drill on the stream's own time
async def test_a_gauge_reading_above_warning_becomes_one_flood_incident(make_settings, clock: str) -> None:
    settings = make_settings(partitions=2, ingest_clock=clock)
    heihe = next(g for g in load_gauges() if g.gauge_id == "hlj-heihe")
    await prepare_topics_async(settings)
    rt = build_app(settings, list(AGENT_MODULES))
    bootstrap = settings.broker_url.split("://", 1)[1]
    watch = AIOKafkaConsumer(rt.topic_name(topics.INCIDENTS), rt.topic_name(topics.DEAD_LETTER),
                             bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await rt.app.start()
    await watch.start()
    try:
        await asyncio.sleep(settings.session_timeout_s)  # the worker joins its group
        now = datetime.now(timezone.utc).replace(microsecond=0)
        levels = [schemas.WaterLevel(source="hydrology.river-gauges", event_time=now - timedelta(minutes=10 * k),
                                     gauge_id=heihe.gauge_id, stage_m=heihe.warning_m + 0.3 - 0.02 * k)
                  for k in range(3, -1, -1)]
        raw = rt.topic(topics.RAW_INGEST)
        await raw.send(key=b"hydrology.river-gauges", value=schemas.encode(levels))
        await raw.send(key=b"hydrology.river-gauges", value=b'{"type":"water_level","stage_m":"high"}')

        incidents: dict[str, schemas.IncidentChanged] = {}
        dead: list[schemas.DeadLetter] = []
        deadline = asyncio.get_running_loop().time() + 60
        floods = lambda: [i for i in incidents.values() if i.hazard is schemas.Hazard.FLOOD]  # noqa: E731
        while asyncio.get_running_loop().time() < deadline and not (floods() and dead):
            for tp, records in (await watch.getmany(timeout_ms=500)).items():
                for record in records:
                    if tp.topic == rt.topic_name(topics.INCIDENTS):
                        event = schemas.decode(schemas.IncidentChanged, record.value)
                        incidents[event.incident_id] = event
                    else:
                        dead.append(schemas.decode(schemas.DeadLetter, record.value))
        # other sources of the registry fall silent during the test and raise outage incidents
        assert len(floods()) == 1, incidents
        (incident,) = floods()
        assert incident.colour is schemas.Colour.YELLOW  # at/above warning, below guaranteed
        assert any(e.evidence_id.endswith(heihe.gauge_id) for e in incident.evidence)
        assert dead and "stage_m" in (dead[0].field or dead[0].reason)
    finally:
        await watch.stop()
        await rt.app.stop()
