"""Record camera frames from a live sampler, replay the archive as a drill, twice: the same fire, the same incidents.

On the session's broker and Redis: a live sampler (the real Sampler, analyser and
model) analyses rendered frames of three registry cameras, one forest camera with
flames from the fifth sample, publishes FrameSamples and findings and writes its
thumbnails to Redis; `amur record`'s Recorder archives them. Then `amur drill run
ARCHIVE --speed max` replays the archive twice (each drill's worker a real
subprocess). Each drill analyses the recorded images again and raises the fire:
the same camera finding as live, at the same event times, and the two runs give
the same incident stream (fingerprint) and the same CAP documents.

Nothing is mocked. The camera fetch is the one part skipped live: the frames are
handed to the sampler's analysis directly (rendered by the simulated fleet's
renderer), as its fetch would.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from stream import schemas, topics
from stream.cli.main import main as amur
from stream.drills.feed import _ToKafka
from stream.drills.recorder import Recorder
from stream.drills.runs import canonical, fingerprint, incident_stream, saved_incidents
from stream.schemas import FindingKind
from tests.helpers.dispatch import read_topics
from tests.helpers.fleet import NOON_HEIHE

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]  # two drills, each a worker subprocess

FIRE_CAMERA, QUIET_FOREST, STREET = "23112400201326003001", "23112300201326003002", "23118200001325000001"
ROUNDS, ONSET, STEP = 9, 4, timedelta(seconds=30)


class _Kept(_ToKafka):
    """The live sampler's outputs: the live topics, and a copy of the findings for the test."""

    def __init__(self, producer, settings) -> None:  # type: ignore[no-untyped-def]
        super().__init__(producer, settings)
        self.kept: list[schemas.VisionFinding] = []

    async def send_findings(self, findings) -> None:  # type: ignore[no-untyped-def]
        self.kept.extend(findings)
        await super().send_findings(findings)


async def _record_live(settings, archive: Path) -> list[schemas.VisionFinding]:  # type: ignore[no-untyped-def]
    import redis.asyncio as aioredis
    from aiokafka import AIOKafkaProducer

    from gis.registry import load_cameras
    from stream.cameras.sampler import Sampler, targets_from_registry
    from stream.runtime.admin import bootstrap_servers
    from stream.runtime.app import kafka_url
    from stream.runtime.metrics import Metrics
    from vision.analysis.model import FireSmokeModel
    from vision.evidence import EvidenceStore
    from vision.fleet.camera import fleet_from_registry
    from vision.fleet.events import EventKind, ScriptedEvent
    from vision.fleet.render import FrameRenderer, encode_jpeg
    from vision.sampling import FrameAnalyser
    from vision.sources.outcome import Fetched, FetchOutcome

    registry = [c for c in load_cameras() if c.camera_id in (FIRE_CAMERA, QUIET_FOREST, STREET)]
    fleet = fleet_from_registry(registry, seed=7)
    renderer = FrameRenderer(seed=7)
    flames = ScriptedEvent("fire", EventKind.FLAME, frozenset({FIRE_CAMERA}), NOON_HEIHE, None, 1.0)

    stop = asyncio.Event()
    recorder = Recorder(settings, archive, from_beginning=True)
    recording = asyncio.create_task(recorder.run(stop))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers(kafka_url(settings)))
    await producer.start()
    redis = aioredis.Redis.from_url(settings.redis_url)
    outputs = _Kept(producer, settings)
    sampler = Sampler(settings, targets_from_registry(settings, registry, lambda c: []), outputs, Metrics(), redis,
                      analyser=FrameAnalyser(FireSmokeModel.load, EvidenceStore(settings.vision_evidence_dir, 50_000_000)))
    await sampler.start()
    sampler.owned = frozenset(fleet)
    try:
        for i in range(ROUNDS):
            at = NOON_HEIHE + i * STEP
            for camera_id in sorted(fleet):
                events = (flames,) if i >= ONSET and camera_id == FIRE_CAMERA else ()
                data = encode_jpeg(renderer.render(fleet[camera_id], at, events))
                await sampler.analyse(camera_id, Fetched(camera_id, FetchOutcome.OK, data), at.timestamp())
            await producer.flush()
            assert sampler.writer is not None
            await sampler.writer.flush()
            # the thumbnail in Redis is the camera's latest: record this round before the next one replaces it
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 60
            while recorder.stats.images + recorder.stats.images_missing < (i + 1) * len(fleet):
                assert loop.time() < deadline and not recording.done(), f"round {i} not recorded: {recorder.stats}"
                await asyncio.sleep(0.1)
    finally:
        stop.set()
        await recording
        await sampler.stop()
        await producer.stop()
        await redis.aclose()
    assert recorder.stats.images == ROUNDS * len(fleet) and recorder.stats.images_missing == 0
    return outputs.kept


def _drill(settings, archive: Path, run_id: str) -> tuple[list[schemas.IncidentChanged], list[tuple]]:  # type: ignore[no-untyped-def]
    assert amur(["drill", "run", str(archive), "--speed", "max", "--run-id", run_id, "--settle", "2",
                 "--timeout", "600"]) == 0
    incidents = saved_incidents(settings, run_id)
    assert incidents is not None
    name = topics.topic_name(topics.FINDINGS, run_id)
    records = asyncio.run(read_topics(settings, [name], until=10_000, timeout_s=8))[name]
    findings = [schemas.decode(schemas.VisionFinding, r.value) for r in records]
    return incidents, sorted((f.camera_id, f.kind, f.confirmed, f.event_time) for f in findings)


def _cap_documents(settings, incidents: list[schemas.IncidentChanged]) -> list[str]:  # type: ignore[no-untyped-def]
    from stream.cli.alerts import latest_revisions
    from stream.incidents.cap import cap_xml
    from stream.incidents.places import load_places

    places = load_places(settings.incident_places, settings.gis_manifest)
    return [cap_xml(canonical(i), sender=settings.cap_sender, zone=ZoneInfo(settings.cap_timezone), outlines=places.outline,
                    place_name=places.name) for i in sorted(latest_revisions(incidents).values(),
                                                            key=lambda i: i.incident_id)]


def test_a_recorded_fire_raises_the_same_finding_and_incident_in_two_identical_drills(
        make_settings, tmp_path: Path, monkeypatch, capsys: pytest.CaptureFixture) -> None:
    from stream.runtime.admin import prepare_topics
    from tests.conftest import settings_env

    settings = make_settings(partitions=2, record_segment_s=1.0, incident_tick_s=1.0, dispatch_tick_s=1.0,
                             gis_rescore_interval_s=1.0, ingest_health_interval_s=1.0,
                             vision_evidence_dir=tmp_path / "evidence")
    prepare_topics(settings, agent_modules=[])
    archive = tmp_path / "archive"
    live = asyncio.run(_record_live(settings, archive))
    live_fire = sorted((f.camera_id, f.kind, f.confirmed, f.event_time) for f in live
                       if f.kind in (FindingKind.FIRE, FindingKind.SMOKE))
    assert live_fire and {c for c, *_ in live_fire} == {FIRE_CAMERA}, live_fire
    assert amur(["record", "verify", str(archive)]) == 0

    for name, value in settings_env(settings).items():
        if name.startswith("AMUR_"):
            monkeypatch.setenv(name, value)
    first_incidents, first_findings = _drill(settings, archive, settings.drill_id + "a")
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == settings.drill_id + "a"  # the run id alone on the last line
    second_incidents, second_findings = _drill(settings, archive, settings.drill_id + "b")

    # the recorded pixels gave the drill the same fire findings as live, at the same (event) times
    drill_fire = [f for f in first_findings if f[1] in (FindingKind.FIRE, FindingKind.SMOKE)]
    assert drill_fire == live_fire
    fires = [i for i in first_incidents if i.hazard is schemas.Hazard.FIRE and FIRE_CAMERA in i.cameras]
    assert fires and all(i.drill for i in first_incidents)
    # and the same incidents, in the same order, with the same ids and the same CAP documents, twice
    assert first_findings == second_findings
    assert incident_stream(first_incidents) == incident_stream(second_incidents)
    assert fingerprint(first_incidents) == fingerprint(second_incidents)
    assert _cap_documents(settings, first_incidents) == _cap_documents(settings, second_incidents)
    assert "<status>Exercise</status>" in _cap_documents(settings, first_incidents)[0]

    # `amur alerts` answers for the finished run from what the drill saved
    run_id = settings.drill_id + "a"
    assert amur(["alerts", "list", "--json", "--drill", run_id]) == 0
    listed = capsys.readouterr().out
    assert fires[0].incident_id in listed
    assert amur(["alerts", "cap", fires[0].incident_id, "--drill", run_id]) == 0
    assert "<status>Exercise</status>" in capsys.readouterr().out
