"""`amur deadletter tail` and `replay` against the embedded broker: letters from the real ingest adapter are
shown with reason, source, time and raw payload, filtered, followed, corrected and sent back."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
import orjson
import pytest
from aiohttp import web
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from stream import schemas, topics
from stream.cli.deadletter import line_of, matches, plan_replay
from stream.cli.main import main as amur
from stream.embedded.services import free_port
from stream.ingest.http.server import build_ingest_app
from stream.ingest.inventory import load_inventory
from stream.ingest.registry import load_registry
from stream.runtime.admin import bootstrap_servers, prepare_topics_async
from stream.runtime.app import kafka_url
from stream.runtime.metrics import Metrics
from tests.conftest import REPO_ROOT, settings_env

NOW = datetime(2026, 7, 20, 8, 0, tzinfo=timezone.utc)


def letter(**fields: object) -> schemas.DeadLetter:
    base: dict[str, object] = dict(source="hydrology.river-gauges", event_time=NOW, topic="http:/ingest",
                                   reason="stage_m 'high' is not a number", field="stage_m", value="high",
                                   raw='{"type":"water_level"}')
    return schemas.DeadLetter(**{**base, **fields})  # type: ignore[arg-type]


def test_filters_and_lines_name_time_source_reason_and_raw() -> None:
    one = letter(raw='{"a":\t1}\n')
    assert line_of(one).split("\t") == [NOW.isoformat(), "hydrology.river-gauges", "http:/ingest",
                                        "stage_m 'high' is not a number", "stage_m=high", '{"a": 1}\\n']
    assert matches(one, "NOT A NUMBER", None) and matches(one, "stage_m", None) and matches(one, None, None)
    assert not matches(one, "too late", None) and not matches(one, None, "meteorology.rain-gauges")


def test_replay_sends_ingest_letters_and_skips_the_rest_saying_why() -> None:
    lines = [json.dumps(schemas.to_builtins(x)) for x in (
        letter(), letter(topic="drill.t1.ingest.raw"), letter(topic="amur.grid.events"), letter(raw="b64:AAEC"))]
    plan = plan_replay([*lines, "", "{not json"])
    assert plan.sends == [("hydrology.river-gauges", b'{"type":"water_level"}')] * 2
    assert [s.split(":")[0] for s in plan.skipped] == ["line 3", "line 4", "line 6"]
    assert "amur.grid.events" in plan.skipped[0] and "b64" in plan.skipped[1]


@pytest.mark.integration
async def test_tail_follow_and_replay_on_the_embedded_broker(make_settings, monkeypatch, capsys, tmp_path: Path
                                                             ) -> None:
    settings = make_settings(partitions=2, ingest_api_keys="k")
    for name, value in settings_env(settings).items():
        monkeypatch.setenv(name, value)
    await prepare_topics_async(settings, agent_modules=[])
    bootstrap = bootstrap_servers(kafka_url(settings))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    runner = web.AppRunner(build_ingest_app(settings, load_registry(), load_inventory(), producer, Metrics()))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    now = datetime.now(timezone.utc).isoformat()
    level = {"type": "water_level", "source": "hydrology.river-gauges", "event_time": now, "gauge_id": "hlj-heihe"}

    async def post(items: list[dict]) -> dict:
        async with aiohttp.ClientSession() as http, http.post(
                f"http://127.0.0.1:{port}/ingest", data=orjson.dumps(items), headers={"X-Api-Key": "k"}) as response:
            return await response.json()

    follower = None
    try:
        answer = await post([{**level, "stage_m": "high"}, {**level, "gauge_id": "hlj-atlantis", "stage_m": 7.0}])
        assert answer["rejected"] == 2
        # tail: every letter with its reason, source, time and raw payload; --reason filters
        assert await asyncio.to_thread(amur, ["deadletter", "tail"]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert len(lines) == 2 and all(line.split("\t")[1] == "hydrology.river-gauges" for line in lines)
        assert any('"stage_m":"high"' in line and "\tstage_m=high\t" in line for line in lines)
        assert await asyncio.to_thread(amur, ["deadletter", "tail", "--reason", "gauge_id", "--json"]) == 0
        [only] = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
        assert only["field"] == "gauge_id" and only["value"] == "hlj-atlantis"

        # --follow prints letters that arrive later, until interrupted
        follower = subprocess.Popen([sys.executable, "-m", "stream.cli.main", "deadletter", "tail", "--follow",
                                     "--reason", "stage_m"], env=settings_env(settings), cwd=REPO_ROOT,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = await asyncio.wait_for(asyncio.to_thread(follower.stdout.readline), 60)  # the existing letter
        assert "stage_m=high" in first
        await post([{**level, "stage_m": "very high"}])
        later = await asyncio.wait_for(asyncio.to_thread(follower.stdout.readline), 60)
        assert "stage_m=very high" in later
        follower.send_signal(signal.SIGTERM)
        assert follower.wait(60) == 0

        # replay: the corrected letter goes back to the raw-ingest topic, keyed by its source
        assert await asyncio.to_thread(amur, ["deadletter", "tail", "--json", "--reason", "stage_m"]) == 0
        letters = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
        assert len(letters) == 2
        corrected = tmp_path / "corrected.jsonl"
        corrected.write_text("".join(json.dumps({**x, "raw": json.dumps({**json.loads(x["raw"]), "stage_m": 7.4})})
                                     + "\n" for x in letters[:1]))
        assert await asyncio.to_thread(amur, ["deadletter", "replay", str(corrected)]) == 0
        assert capsys.readouterr().out.startswith(f"sent 1 to drill.{settings.drill_id}.ingest.raw")
    finally:
        if follower is not None and follower.poll() is None:
            follower.kill()
        await runner.cleanup()
        await producer.stop()
    consumer = AIOKafkaConsumer(topics.topic_name(topics.RAW_INGEST, settings.drill_id), bootstrap_servers=bootstrap,
                                auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), 30)
    finally:
        await consumer.stop()
    assert record.key == b"hydrology.river-gauges" and json.loads(record.value)["stage_m"] == 7.4
