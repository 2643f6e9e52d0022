"""`amur cameras gb28181` end to end: a device's alarm and its channels' loss reach the findings topic."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer

from stream import schemas, topics
from stream.cameras.gb28181_command import serve
from stream.cli.main import main as amur
from stream.runtime.admin import bootstrap_servers, prepare_topics_async
from stream.runtime.app import kafka_url
from tests.helpers.gb28181_device import Device, SimChannel, channel_ids

pytestmark = pytest.mark.integration

DEVICE = "23110200001180000001"


async def test_alarm_to_the_findings_topic(make_settings, capsys) -> None:
    port = 0
    settings = make_settings(gb28181_port=port, gb28181_password="pw", gb28181_alarm_kinds={"5/101": "fire"})
    await prepare_topics_async(settings, agent_modules=[])
    stop = asyncio.Event()
    server = asyncio.create_task(serve(settings, stop))
    sim: Device | None = None
    try:
        deadline = asyncio.get_running_loop().time() + 120
        while "UDP+TCP" not in (out := capsys.readouterr().out):
            assert asyncio.get_running_loop().time() < deadline and not server.done()
            await asyncio.sleep(0.1)
        sip_port = int(out.split(" on ")[1].split(" ")[0].rsplit(":", 1)[1])
        channel = channel_ids("23110200", 1)[0]
        sim = Device(DEVICE, "pw", ("127.0.0.1", sip_port), "2311000000", "23110000002000000001",
                     [SimChannel(channel, "c1", "231102", 127.5, 50.2)])
        await sim.start()
        assert await sim.register() == 200
        while not sim.armed:
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.05)
        assert sim.alarm(channel, method=5, alarm_type=101)
        consumer = AIOKafkaConsumer(topics.topic_name(topics.FINDINGS, settings.drill_id),
                                    bootstrap_servers=bootstrap_servers(kafka_url(settings)),
                                    auto_offset_reset="earliest")
        await consumer.start()
        try:
            found: list[schemas.VisionFinding] = []
            while not found:
                assert asyncio.get_running_loop().time() < deadline, "no finding on the topic"
                batch = await consumer.getmany(timeout_ms=500)
                found += [schemas.decode(schemas.VisionFinding, m.value) for ms in batch.values() for m in ms]
        finally:
            await consumer.stop()
        assert [(f.camera_id, f.kind, f.source) for f in found] == [(channel, schemas.FindingKind.FIRE, "gb28181")]
    finally:
        stop.set()
        await asyncio.wait_for(server, 30)
        if sim is not None:
            await sim.stop()


def test_help() -> None:
    assert amur(["cameras", "gb28181", "--help"]) == 0
