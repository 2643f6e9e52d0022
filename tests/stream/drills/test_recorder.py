"""`amur record` on the session's real broker and Redis: what it archives, images included, and a full disk."""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from stream import schemas, topics
from stream.cli.main import main as amur
from stream.drills.archive import load_manifest, read_archive
from stream.drills.recorder import Recorder, event_time_of
from stream.embedded.supervisor import plan_parts
from stream.settings import load_settings

T0 = datetime(2024, 8, 1, tzinfo=timezone.utc)
BROKER_TIME = datetime(2030, 1, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize("payload, expected", [
    (b'{"event_time": "2024-08-01T00:00:00+00:00", "x": 1}', T0),
    (b'[{"event_time": "2024-08-01T00:00:00+00:00"}, {"event_time": "2024-08-02T00:00:00+00:00"}]', T0),
    (b'{"event_time": "2024-08-01T00:00:00"}', BROKER_TIME),  # no zone: not an event time we trust
    (b"not json", BROKER_TIME),
    (b"[]", BROKER_TIME),
])
def test_event_time_of_a_payload_or_the_broker_time(payload: bytes, expected: datetime) -> None:
    assert event_time_of(payload, BROKER_TIME) == expected


def test_amur_run_starts_the_recorder_only_when_asked() -> None:
    assert "recorder" not in [p.name for p in plan_parts(load_settings(), simulators=False)]
    [part] = [p for p in plan_parts(load_settings(record=True), simulators=False) if p.name == "recorder"]
    assert part.argv[-1] == "record"


def test_verify_command_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from stream.drills.archive import SegmentWriter, make_record

    writer = SegmentWriter(tmp_path)
    writer.append(make_record("ingest.raw", None, b"{}", T0))
    writer.seal(now=1.0)
    assert amur(["record", "verify", str(tmp_path)]) == 0
    assert "OK: every checksum matches" in capsys.readouterr().out
    segment = tmp_path / "segments" / "000001.jsonl.gz"
    segment.write_bytes(segment.read_bytes()[:-4])
    assert amur(["record", "verify", str(tmp_path)]) == 1
    assert "DAMAGED 000001.jsonl.gz: checksum mismatch" in capsys.readouterr().out


async def _produce(settings, messages: list[tuple[topics.TopicSpec, bytes, bytes]]) -> None:
    from aiokafka import AIOKafkaProducer

    from stream.runtime.admin import bootstrap_servers
    from stream.runtime.app import kafka_url

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers(kafka_url(settings)))
    await producer.start()
    try:
        for spec, key, value in messages:
            await producer.send_and_wait(topics.topic_name(spec, settings.drill_id), key=key, value=value)
    finally:
        await producer.stop()


def _inputs(settings) -> tuple[list[tuple[topics.TopicSpec, bytes, bytes]], bytes]:
    thumb = b"\xff\xd8 a thumbnail \xff\xd9"
    level = b'{"type":"water_level","source":"hydrology.river-gauges","gauge_id":"hlj-heihe",' \
            b'"event_time":"2024-08-01T00:00:00+00:00","stage_m":5.0}'
    grid = b'{"type":"grid_event","source":"open311","event_time":"2024-08-01T00:01:00+00:00"}'
    command = b'{"type":"operator_command","event_time":"2024-08-01T00:02:00+00:00"}'
    frame = schemas.encode(schemas.FrameSample(
        source="vision", event_time=T0 + timedelta(minutes=3), camera_id="cam-1", status=schemas.DecodeStatus.OK,
        image_ref=f"redis:{settings.redis_prefix}thumb:cam-1"))
    return [(topics.RAW_INGEST, b"hydrology.river-gauges", level), (topics.GRID_EVENTS, b"c1", grid),
            (topics.COMMANDS, b"i1", command), (topics.FRAMES, b"cam-1", frame),
            (topics.RAW_INGEST, b"x", b"\xff refused input")], thumb


async def _record_until(recorder: Recorder, count: int, timeout_s: float = 90.0) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(recorder.run(stop))
    deadline = asyncio.get_running_loop().time() + timeout_s
    while sum(load_manifest(recorder.root).counts.values()) < count:
        assert not task.done(), task.exception()
        assert asyncio.get_running_loop().time() < deadline, f"not recorded in {timeout_s:g} s: {recorder.stats}"
        await asyncio.sleep(0.2)
    stop.set()
    await asyncio.wait_for(task, 60)


@pytest.mark.integration
def test_the_recorder_archives_every_input_topic_and_the_frame_images(make_settings, tmp_path: Path) -> None:
    import redis

    from stream.runtime.admin import prepare_topics

    settings = make_settings(record_segment_s=0.5)
    prepare_topics(settings, agent_modules=[])
    messages, thumb = _inputs(settings)
    redis.Redis.from_url(settings.redis_url).set(f"{settings.redis_prefix}thumb:cam-1", thumb)
    asyncio.run(_produce(settings, messages))
    recorder = Recorder(settings, tmp_path / "archive", from_beginning=True)
    asyncio.run(_record_until(recorder, len(messages)))

    records = list(read_archive(tmp_path / "archive"))
    assert sorted((r.topic, r.payload()) for r in records) == sorted((s.name, v) for s, _, v in messages)
    [frame] = [r for r in records if r.topic == "frames.samples"]
    assert (tmp_path / "archive" / frame.image).read_bytes() == thumb
    assert recorder.stats.images == 1 and recorder.stats.images_missing == 0
    assert {r.topic: r.event_time for r in records if r.topic != "ingest.raw"} == {
        "grid.events": T0 + timedelta(minutes=1), "operator.commands": T0 + timedelta(minutes=2),
        "frames.samples": T0 + timedelta(minutes=3)}


@pytest.mark.integration
def test_a_full_disk_is_a_counted_fault_and_nothing_committed_is_lost(make_settings, tmp_path: Path,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    """The first segment is written to /dev/full (the kernel answers ENOSPC, as a full disk does): the
    recorder logs and counts it, rewinds to its last commit and records the same messages once the disk
    has room again (the link is gone after the failed attempt)."""
    from stream.runtime.admin import prepare_topics

    settings = make_settings(record_segment_s=0.5)
    prepare_topics(settings, agent_modules=[])
    messages, _ = _inputs(settings)
    asyncio.run(_produce(settings, messages))
    root = tmp_path / "archive"
    (root / "segments").mkdir(parents=True)
    os.symlink("/dev/full", root / "segments" / "000001.jsonl.gz.open")
    recorder = Recorder(settings, root, from_beginning=True)
    with caplog.at_level(logging.ERROR, logger="stream.drills.recorder"):
        asyncio.run(_record_until(recorder, len(messages), timeout_s=120))
    assert recorder.stats.write_faults >= 1
    assert any("record: write failed" in r.getMessage() and "No space left" in r.getMessage() for r in caplog.records)
    assert len(list(read_archive(root))) == len(messages)  # each once: the failed segment was dropped
    assert recorder.stats.recorded == len(messages)
