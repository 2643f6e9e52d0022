"""The HTTP batch-ingest adapter over a real loopback socket and the embedded broker."""

from __future__ import annotations

import socket
import time
from datetime import datetime, timedelta, timezone

import aiohttp
import orjson
import pytest
from aiohttp import web
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from stream import topics
from stream.cli.main import main as amur
from stream.embedded.services import free_port
from stream.ingest.http.server import build_ingest_app
from stream.ingest.inventory import Inventory, Site
from stream.ingest.registry import load_registry
from stream.runtime.admin import bootstrap_servers, prepare_topics_async
from stream.runtime.app import kafka_url
from stream.runtime.metrics import Metrics
from stream.schemas import (
    DeadLetter,
    SensorKind,
    SensorReading,
    WaterLevel,
    decode,
    encode,
)
from tests.conftest import settings_env


def test_check_body_limits_and_whole_body_errors() -> None:
    from stream.errors import InvalidEvent
    from stream.ingest.http.server import check_body
    from stream.ingest.validation import TimeLimits

    now = datetime.now(timezone.utc)
    level = encode(WaterLevel(source="hydrology.river-gauges", event_time=now, gauge_id="hlj-heihe", stage_m=7.0))
    limits = TimeLimits(300, 86400)
    body = b"[" + b",".join([level] * 3) + b"]"
    assert len(check_body(body, load_registry(), INVENTORY, limits, now.timestamp(), 3).accepted) == 3
    with pytest.raises(InvalidEvent, match="4 items in one call, at most 3") as info:
        check_body(b"[" + b",".join([level] * 4) + b"]", load_registry(), INVENTORY, limits, now.timestamp(), 3)
    assert info.value.field == "items"
    with pytest.raises(InvalidEvent, match="not valid JSON"):
        check_body(b"<xml/>", load_registry(), INVENTORY, limits, now.timestamp(), 3)

INVENTORY = Inventory.from_sites([Site("temperature-00001", 127.5, 50.2, SensorKind.TEMPERATURE)], [],
                                 [Site("hlj-heihe", 127.5, 50.25)])


@pytest.mark.integration
async def test_post_returns_per_item_errors_and_produces_valid_items(make_settings, caplog) -> None:
    settings = make_settings(partitions=2, ingest_api_keys="gauge-office-key")
    await prepare_topics_async(settings, agent_modules=[])
    bootstrap = bootstrap_servers(kafka_url(settings))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    metrics = Metrics()
    runner = web.AppRunner(build_ingest_app(settings, load_registry(), INVENTORY, producer, metrics))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest", fetch_max_wait_ms=10)
    consumer.subscribe([f"drill.{settings.drill_id}.{topics.RAW_INGEST.name}",
                        f"drill.{settings.drill_id}.{topics.DEAD_LETTER.name}"])
    await consumer.start()
    try:
        now = datetime.now(timezone.utc)
        good = SensorReading(source="meteorology.temperature-sensors", event_time=now, sensor_id="temperature-00001",
                             kind=SensorKind.TEMPERATURE, value=70.0, unit="degF")
        level = WaterLevel(source="hydrology.river-gauges", event_time=now, gauge_id="hlj-heihe", stage_m=7.2)
        items = [orjson.loads(encode(good)), orjson.loads(encode(level)),
                 {**orjson.loads(encode(good)), "value": "warm"},
                 {**orjson.loads(encode(good)), "event_time": (now + timedelta(days=2)).isoformat()},
                 {**orjson.loads(encode(level)), "gauge_id": "hlj-atlantis"}]
        url = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession(headers={"X-Api-Key": "gauge-office-key"}) as http:
            # no key, or a wrong one: 403 naming the field, nothing produced, the key never logged
            for headers in ({"X-Api-Key": ""}, {"X-Api-Key": "guessed-key"}):
                async with http.post(f"{url}/ingest", data=orjson.dumps(items), headers=headers) as response:
                    assert response.status == 403
                    assert (await response.json())["errors"][0]["field"] == "api_key"
            assert "api key refused path=/ingest" in caplog.text and "guessed-key" not in caplog.text
            async with http.post(f"{url}/ingest", data=orjson.dumps(items)) as response:
                assert response.status == 200
                answer = await response.json()
            async with http.post(f"{url}/ingest", data=b"[1, 2") as response:
                assert response.status == 400
                assert (await response.json())["errors"][0]["reason"].startswith("not valid JSON")
            async with http.get(f"{url}/metrics") as response:
                text = await response.text()
        assert answer["accepted"] == 2 and answer["rejected"] == 3
        assert [(e["index"], e["field"], e["value"]) for e in answer["errors"]] == [
            (2, "value", "warm"), (3, "event_time", (now + timedelta(days=2)).isoformat()),
            (4, "gauge_id", "hlj-atlantis")]
        assert 'amur_events_total{outcome="accepted",source="meteorology.temperature-sensors"} 1.0' in text
        assert 'amur_events_total{outcome="dead_lettered",source="hydrology.river-gauges"} 1.0' in text

        got: dict[str, list[bytes]] = {}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and sum(len(v) for v in got.values()) < 6:
            for tp, msgs in (await consumer.getmany(timeout_ms=200)).items():
                got.setdefault(tp.topic.rsplit(".", 1)[-1] if "deadletter" in tp.topic else "raw", []).extend(
                    m.value for m in msgs)
        raw = [orjson.loads(v) for v in got["raw"]]
        produced = sorted((doc[0]["type"], len(doc)) for doc in raw)
        assert produced == [("sensor_reading", 1), ("water_level", 1)]
        converted = decode(list[SensorReading], next(v for v in got["raw"] if b"sensor_reading" in v))
        assert converted[0].unit == "degC" and converted[0].value == pytest.approx((70.0 - 32) / 1.8)
        letters = [decode(DeadLetter, v) for v in got["deadletter"]]
        assert sorted(str(d.field) for d in letters) == ["None", "event_time", "gauge_id", "value"]
        assert all(d.topic == "http:/ingest" for d in letters)
    finally:
        await consumer.stop()
        await runner.cleanup()
        await producer.stop()


@pytest.mark.parametrize("argv, options", [(["ingest"], ("--host", "--port", "AMUR_INGEST_HTTP_PORT"))])
def test_help_lists_the_options(argv: list[str], options: tuple[str, ...], capsys) -> None:
    assert amur([*argv, "--help"]) == 0
    out = capsys.readouterr().out
    assert all(option in out for option in options)


def test_a_port_out_of_range_is_a_one_line_usage_error(capsys) -> None:
    assert amur(["ingest", "--port", "70000"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "'--port'" in lines[0] and lines[0].startswith("amur ingest: error:")


@pytest.mark.integration
def test_a_taken_port_is_a_one_line_error_that_says_what_to_set(make_settings, monkeypatch, capsys) -> None:
    for variable, value in settings_env(make_settings()).items():
        if variable.startswith("AMUR_"):
            monkeypatch.setenv(variable, value)
    monkeypatch.setattr("stream.runtime.logs.configure", lambda level: None)  # keep pytest's logging
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert amur(["ingest", "--host", "127.0.0.1", "--port", str(port)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"amur ingest: cannot listen on 127.0.0.1:{port}")
    assert "AMUR_INGEST_HTTP_PORT" in lines[0]
