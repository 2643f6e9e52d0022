"""End to end on the embedded broker: evidence from three sources becomes one incident, commands,
notifications to a loopback receiver, the audit chain, the CLI; and a worker killed with SIGKILL
mid-burst loses and duplicates nothing."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

import msgspec
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from stream import schemas, topics
from stream.cli.alerts import latest_revisions, read_incidents
from stream.cli.main import main as amur
from stream.embedded.services import free_port
from stream.incidents.audit import read_lines, verify_lines
from stream.incidents.cap import validate_cap
from stream.incidents.signature import sign_command
from stream.runtime.admin import bootstrap_servers, prepare_topics_async
from stream.runtime.app import build_app, kafka_url
from stream.schemas import (
    Colour,
    CommandAction,
    FindingKind,
    GaugeState,
    GridEvent,
    IncidentChanged,
    OperatorCommand,
    Role,
    TrendState,
    VisionFinding,
)
from tests.conftest import settings_env
from tests.helpers.incidents import CELL_A, CELL_B, CELL_C

pytestmark = pytest.mark.integration
MODULES = ["stream.agents.incidents"]


def write_places(path: Path) -> Path:
    square = lambda lon: [[lon, 50.2], [lon + 0.01, 50.2], [lon + 0.01, 50.21], [lon, 50.21], [lon, 50.2]]  # noqa
    path.write_text(json.dumps({
        "gauges": {"hlj-heihe": [CELL_A]},
        "cameras": {"cam-1": {CELL_B: 0.6}, "cam-2": {CELL_B: 0.4, CELL_C: 0.2}, "cam-3": {CELL_A: 0.9}},
        "outlines": {CELL_A: square(127.50), CELL_B: square(127.51), CELL_C: square(127.52)},
    }))
    return path


def write_contacts(path: Path, url: str) -> Path:
    path.write_text(f"""departments:
  - id: aihui-emergency
    grid_code: "231102"
    hazards: all
    drill_contacts:
      - {{name: drill-desk, channel: robot, style: dingtalk, url: "{url}"}}
""")
    return path


async def incident_app(settings):  # type: ignore[no-untyped-def]
    """The incident agents on their own topics, and a queue of every IncidentChanged they publish."""
    await prepare_topics_async(settings, agent_modules=MODULES)
    rt = build_app(settings, agent_modules=MODULES)
    seen: asyncio.Queue[IncidentChanged] = asyncio.Queue()

    @rt.app.agent(rt.topic(topics.INCIDENTS), name="test_collect_incidents")
    async def collect(stream):  # type: ignore[no-untyped-def]
        async for payload in stream:
            await seen.put(schemas.decode(IncidentChanged, payload))

    return rt, seen


async def test_three_sources_become_one_incident_each_and_operators_act(make_settings, tmp_path: Path,
) -> None:
    hits: dict[str, list[dict]] = defaultdict(list)

    async def robot(request: web.Request) -> web.Response:  # refuses the first try of every notification
        mine = hits[request.headers["Idempotency-Key"]]
        mine.append(await request.json())
        failing_first = len(mine) == 1
        return web.json_response({"errcode": 1 if failing_first else 0, "errmsg": "busy" if failing_first else "ok"})

    app = web.Application()
    app.router.add_post("/robot", robot)
    receiver = TestServer(app, host="127.0.0.1")
    await receiver.start_server()
    settings = make_settings(partitions=2, incident_places=write_places(tmp_path / "places.json"),
                             notify_contacts=write_contacts(tmp_path / "contacts.yaml",
                                                            str(receiver.make_url("/robot"))),
                             notify_backoff_s=0.05, incident_tick_s=1.0, audit_log=tmp_path / "audit.jsonl")
    rt, seen = await incident_app(settings)

    letters: asyncio.Queue[schemas.DeadLetter] = asyncio.Queue()

    @rt.app.agent(rt.topic(topics.DEAD_LETTER), name="test_collect_dead_letters")
    async def collect_letters(stream):  # type: ignore[no-untyped-def]
        async for payload in stream:
            await letters.put(schemas.decode(schemas.DeadLetter, payload))

    async def wait_for(predicate, timeout: float = 60.0) -> IncidentChanged:  # type: ignore[no-untyped-def]
        async def scan() -> IncidentChanged:
            while True:
                event = await seen.get()
                if predicate(event):
                    return event
        return await asyncio.wait_for(scan(), timeout)

    async def send(spec: topics.TopicSpec, key: str, event: object) -> None:
        await rt.topic(spec).send(key=key.encode(), value=schemas.encode(event))

    now = datetime.now(timezone.utc)
    await rt.app.start()
    try:
        await asyncio.sleep(1.0)
        await send(topics.GAUGE_STATE, "hlj-heihe", GaugeState(
            source="hydro", event_time=now, gauge_id="hlj-heihe", stage_m=7.6, trend=TrendState.RISING,
            rate_m_per_h=0.04, colour=Colour.YELLOW))
        await send(topics.FINDINGS, "cam-1", VisionFinding(
            source="vision", event_time=now, camera_id="cam-1", kind=FindingKind.WATER_RISE, score=0.8, confirmed=True))
        await send(topics.GRID_EVENTS, CELL_C, GridEvent(
            source="open311", event_time=now, report_id="r-flood", service_code="flood_report", lon=127.525,
            lat=50.205, cell_code=CELL_C))
        for camera in ("cam-1", "cam-2"):
            await send(topics.FINDINGS, camera, VisionFinding(
                source="vision", event_time=now, camera_id=camera, kind=FindingKind.SMOKE, score=0.7, confirmed=True))
        await send(topics.GRID_EVENTS, CELL_C, GridEvent(
            source="open311", event_time=now, report_id="r-fire", service_code="fire_report", lon=127.525,
            lat=50.205, cell_code=CELL_C))
        flood = await wait_for(lambda e: e.hazard is schemas.Hazard.FLOOD and len(e.evidence) == 3)
        fire = await wait_for(lambda e: e.hazard is schemas.Hazard.FIRE and len(e.evidence) == 3)
        assert flood.cells == [CELL_A, CELL_B, CELL_C] and flood.drill
        assert sorted(e.camera_id for e in fire.evidence if e.camera_id) == ["cam-1", "cam-2"]
        assert flood.incident_id != fire.incident_id
        delivered = await wait_for(lambda e: e.incident_id == flood.incident_id and any(
            n.status == "delivered" for n in e.notifications))
        [note] = delivered.notifications
        assert note.attempts == 2 and note.contact == "aihui-emergency/drill-desk"  # errcode 1 first, then ok

        key = settings.jwt_secret.get_secret_value()
        base = dict(source="gateway", event_time=datetime.now(timezone.utc), incident_id=flood.incident_id,
                    operator="wang.li", scope="231102")
        # the stream itself refuses what the gateway would: a viewer, and an officer of another county
        await send(topics.COMMANDS, flood.incident_id, sign_command(OperatorCommand(
            command_id=uuid.uuid4().hex, action=CommandAction.ACKNOWLEDGE, role=Role.VIEWER, **base), key))
        refused = await wait_for(lambda e: e.change == "command_refused")
        assert "viewer" in (refused.refusal or "")
        await send(topics.COMMANDS, flood.incident_id, sign_command(OperatorCommand(
            command_id=uuid.uuid4().hex, action=CommandAction.ACKNOWLEDGE, role=Role.DUTY_OFFICER,
            **{**base, "scope": "231123"}), key))
        refused = await wait_for(lambda e: e.change == "command_refused")
        assert "outside operator wang.li's scope 231123" in (refused.refusal or "")
        # forged on the topic: unsigned, signed with another key, or a viewer's signed command raised to officer
        viewer = sign_command(OperatorCommand(command_id=uuid.uuid4().hex, action=CommandAction.ACKNOWLEDGE,
                                              role=Role.VIEWER, **base), key)
        for forged in (OperatorCommand(command_id=uuid.uuid4().hex, action=CommandAction.ACKNOWLEDGE,
                                       role=Role.ADMIN, **{**base, "scope": "231100"}),
                       sign_command(OperatorCommand(command_id=uuid.uuid4().hex, action=CommandAction.ACKNOWLEDGE,
                                                    role=Role.ADMIN, **base), "not-the-key"),
                       msgspec.structs.replace(viewer, role=Role.DUTY_OFFICER)):
            await send(topics.COMMANDS, flood.incident_id, forged)
        forged_letters = [await asyncio.wait_for(letters.get(), 30) for _ in range(3)]
        assert [letter.field for letter in forged_letters] == ["signature"] * 3
        await send(topics.COMMANDS, flood.incident_id, sign_command(OperatorCommand(
            command_id=uuid.uuid4().hex, action=CommandAction.ACKNOWLEDGE, role=Role.DUTY_OFFICER, **base), key))
        acked = await wait_for(lambda e: e.change == "acknowledged")
        assert acked.state is schemas.IncidentState.ACKNOWLEDGED and acked.incident_id == flood.incident_id

        # what cannot be placed is dead-lettered with the value, and the agents keep running
        await send(topics.COMMANDS, "bogus", sign_command(OperatorCommand(
            command_id=uuid.uuid4().hex, action=CommandAction.RESOLVE, role=Role.DUTY_OFFICER,
            **{**base, "incident_id": "bogus"}), key))
        await send(topics.GRID_EVENTS, "x", GridEvent(
            source="open311", event_time=now, report_id="r-harbin", service_code="fire_report", lon=126.6,
            lat=45.7, cell_code="230102001001001"))
        got = [await asyncio.wait_for(letters.get(), 30) for _ in range(2)]
        assert sorted(letter.field for letter in got) == ["cells", "incident_id"]
        assert any("230102001001001" in letter.reason for letter in got)
        await send(topics.GRID_EVENTS, CELL_A, GridEvent(
            source="open311", event_time=now, report_id="r-flood-2", service_code="flood_report", lon=127.505,
            lat=50.205, cell_code=CELL_A))
        assert len((await wait_for(lambda e: e.change == "evidence_added")).evidence) == 4
    finally:
        await rt.app.stop()
        await receiver.close()

    # the robot got the markdown twice for each notification (one retry), and the audit chain verifies
    assert len(hits) == 2 and all(len(h) == 2 and h[0] == h[1] and h[0]["msgtype"] == "markdown"
                                  for h in hits.values())
    head = verify_lines(read_lines(settings.audit_log))
    assert head.count >= 8
    # the CLI reads the incidents topic: one line per incident, latest revision, and a valid CAP message
    events = await read_incidents(settings, settings.drill_id)
    assert {e.incident_id for e in events} == {flood.incident_id, fire.incident_id}


async def test_a_drill_escalates_on_its_own_virtual_time(make_settings, tmp_path: Path) -> None:
    """A 2021 flood replayed now: an unacknowledged red escalates ack_red_s of *event* time after it was
    raised (judged on the wall clock it would be five years overdue at the first tick), and the escalation
    records the limit's time, not the time of the tick or reading that found it due."""
    settings = make_settings(partitions=2, incident_places=write_places(tmp_path / "places.json"),
                             incident_tick_s=0.2, incident_ack_red_s=100.0)
    assert settings.drill_id and settings.incident_clock == "auto"  # a drill: the event clock
    rt, seen = await incident_app(settings)

    start = datetime(2021, 7, 12, 8, tzinfo=timezone.utc)
    await rt.app.start()
    try:
        await asyncio.sleep(1.0)
        escalated = None
        for step in range(21):  # a red gauge every 30 virtual seconds for 10 minutes, 50x faster than real time
            await rt.topic(topics.GAUGE_STATE).send(key=b"hlj-heihe", value=schemas.encode(GaugeState(
                source="hydro", event_time=start + timedelta(seconds=30 * step), gauge_id="hlj-heihe", stage_m=9.1,
                trend=TrendState.RISING, rate_m_per_h=0.1, colour=Colour.RED)))
            await asyncio.sleep(0.6)
            while not seen.empty():
                event = seen.get_nowait()
                if event.change == "raised":
                    raised = event
                elif event.change == "escalated" and escalated is None:
                    escalated = event
        assert escalated is not None and escalated.incident_id == raised.incident_id
        # due 100 s after it was raised; readings (and the ticks that follow them) come every 30 s
        assert escalated.event_time == raised.event_time + timedelta(seconds=100)
    finally:
        await rt.app.stop()


def test_cli_prints_latest_revisions_and_cap(make_settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture) -> None:
    settings = make_settings(partitions=2, incident_places=write_places(tmp_path / "places.json"))
    asyncio.run(prepare_topics_async(settings, agent_modules=[]))

    async def publish() -> None:
        from aiokafka import AIOKafkaProducer

        base = IncidentChanged(source="amur", event_time=datetime(2026, 7, 12, tzinfo=timezone.utc),
                               incident_id="231102-flood-0123456789ab", hazard=schemas.Hazard.FLOOD,
                               colour=Colour.YELLOW, state=schemas.IncidentState.RAISED, title="flood", cells=[CELL_A],
                               drill=True, lon=127.5, lat=50.2,
                               cap_refs=["amur@heihe.local,231102-flood-0123456789ab.r1,2026-07-12T08:00:00+08:00"])
        upgraded = msgspec.structs.replace(base, revision=2, change="upgraded", colour=Colour.RED,
                                           cap_refs=base.cap_refs + ["amur@heihe.local,231102-flood-0123456789ab.r2,"
                                                                     "2026-07-12T08:10:00+08:00"])
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers(kafka_url(settings)))
        await producer.start()
        try:
            for event in (upgraded, base):  # out of order: the higher revision must still win
                await producer.send_and_wait(topics.topic_name(topics.INCIDENTS, settings.drill_id),
                                             key=event.incident_id.encode(), value=schemas.encode(event))
        finally:
            await producer.stop()

    asyncio.run(publish())
    for name, value in settings_env(settings).items():
        if name.startswith("AMUR_"):
            monkeypatch.setenv(name, value)
    assert amur(["alerts", "list", "--json"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    record = json.loads(line)
    assert record["id"] == "231102-flood-0123456789ab" and record["revision"] == 2 and record["colour"] == "red"
    assert amur(["alerts", "cap", "231102-flood-0123456789ab"]) == 0
    document = capsys.readouterr().out
    validate_cap(document)
    assert "<msgType>Update</msgType>" in document and "<status>Exercise</status>" in document
    assert amur(["alerts", "cap", "231102-flood-0123456789ab", "--history"]) == 0
    history = capsys.readouterr().out
    assert history.count("<alert") == 2
    assert history.index("<msgType>Alert</msgType>") < history.index("<msgType>Update</msgType>")
    assert amur(["alerts", "cap", "231102-flood-ffffffffffff"]) == 2


def start_worker(settings, log_path: Path) -> subprocess.Popen:  # type: ignore[no-untyped-def]
    env = settings_env(settings)
    env["AMUR_WORKER_WEB_PORT"] = str(free_port())
    amur = Path(sys.executable).parent / "amur"
    return subprocess.Popen([str(amur), "worker"], env=env, stdout=open(log_path, "wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def burst_cell(i: int) -> str:
    """Thirty places in distinct townships of the six counties: thirty separate incidents."""
    from stream.incidents.grid import COUNTY_CODES

    return f"{COUNTY_CODES[i % 6]}{i // 6 + 1:03d}001001"


async def wait_until(settings, predicate, timeout: float) -> list[IncidentChanged]:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        events = await read_incidents(settings, settings.drill_id)
        if predicate(events) or loop.time() > deadline:
            return events
        await asyncio.sleep(0.5)


def floods(events: list[IncidentChanged]) -> list[IncidentChanged]:
    """The burst's incidents: a full worker also raises source-outage incidents for the
    registry's feeds, which are silent during the test."""
    return [e for e in events if e.hazard is schemas.Hazard.FLOOD]


@pytest.mark.timeout(1200)  # the waits end as soon as the incidents are complete; the bounds are for a busy machine
async def test_sigkill_mid_burst_loses_and_duplicates_nothing(make_settings, tmp_path: Path) -> None:
    from aiokafka import AIOKafkaProducer

    contacts = tmp_path / "contacts.yaml"
    contacts.write_text("departments: []\n")  # fusion only: nobody to notify
    # no clock ticks during the test: every time in the state then comes from the events, so a
    # snapshot re-published after the crash must be byte-identical to the one published before it
    settings = make_settings(partitions=4, notify_contacts=contacts, audit_log=tmp_path / "audit.jsonl",
                             incident_tick_s=3600)
    await prepare_topics_async(settings)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers(kafka_url(settings)), linger_ms=0)
    await producer.start()
    now = datetime.now(timezone.utc)

    async def send_round(r: int) -> None:
        for i in range(30):
            report = GridEvent(source="open311", event_time=now + timedelta(seconds=r), report_id=f"burst-{i}-{r}",
                               service_code="flood_report", lon=127.0, lat=50.0, cell_code=burst_cell(i))
            await producer.send(topics.topic_name(topics.GRID_EVENTS, settings.drill_id),
                                key=report.cell_code.encode(), value=schemas.encode(report))
        await producer.flush()

    first = start_worker(settings, tmp_path / "worker-a.log")
    second = None
    try:
        for r in (0, 1):
            await send_round(r)
        seen = await wait_until(settings, lambda events: len(events) >= 1, 300)
        assert seen, (tmp_path / "worker-a.log").read_text()[-3000:]
        os.killpg(first.pid, signal.SIGKILL)  # mid-burst: the first incidents are out, most are not
        first.wait(10)
        for r in (2, 3):
            await send_round(r)
        second = start_worker(settings, tmp_path / "worker-b.log")

        def complete(events: list[IncidentChanged]) -> bool:
            latest = latest_revisions(floods(events))
            return len(latest) >= 30 and all(len(e.evidence) == 4 for e in latest.values())

        events = floods(await wait_until(settings, complete, 480))
    finally:
        await producer.stop()
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
    def logs() -> str:
        return "\n".join(f"--- {name}\n" + (tmp_path / name).read_text(errors="replace")[-1500:]
                         for name in ("worker-a.log", "worker-b.log"))

    by_id: dict[str, dict[int, set[bytes]]] = defaultdict(lambda: defaultdict(set))
    for event in events:
        by_id[event.incident_id][event.revision].add(schemas.encode(msgspec.structs.replace(event, source="x")))
    assert len(by_id) == 30, f"{len(by_id)} incidents for 30 places\n{logs()}"
    owners: dict[str, set[str]] = defaultdict(set)
    for event in events:
        for ref in event.evidence:
            owners[ref.evidence_id].add(event.incident_id)
    assert len(owners) == 120, f"{len(owners)} of 120 reports\n{logs()}"  # nothing lost
    assert all(len(ids) == 1 for ids in owners.values())  # nothing split over two incidents
    # a revision re-published after the crash is the same snapshot, never a different one
    differing = {i: r for i, revisions in by_id.items() for r, copies in revisions.items() if len(copies) > 1}
    assert not differing, f"revisions re-published with other content: {differing}\n{logs()}"
    assert all(sorted(revisions) == list(range(1, 5)) for revisions in by_id.values()), logs()


@pytest.mark.timeout(900)  # generous: the wait ends as soon as the last scoring has reached the incidents
async def test_a_replayed_rise_through_the_whole_pipeline_is_one_flood_incident(make_settings) -> None:
    """Issue 23's rise, replayed as a drill: the Heihe gauge from 7.0 m to 8.7 m over four hours (warning
    7.30, guaranteed 8.60) enters as raw water levels; the hydrology agent colours the gauge, the risk
    agent scores the cells along its reach, the incident agents fuse gauge and cells. One flood, one
    incident, whatever order the partitions deliver in."""
    from zoneinfo import ZoneInfo

    from aiokafka import AIOKafkaConsumer

    from gis.registry import load_gauges
    from stream.risk.score import RiskGrid, RiskInputs, score_grid
    from stream.runtime.app import AGENT_MODULES

    settings = make_settings(partitions=2, gis_rescore_interval_s=0.5)
    heihe = next(g for g in load_gauges() if g.gauge_id == "hlj-heihe")
    assert (heihe.warning_m, heihe.guaranteed_m) == (7.30, 8.60)
    await prepare_topics_async(settings)
    rt = build_app(settings, list(AGENT_MODULES))
    watch = AIOKafkaConsumer(rt.topic_name(topics.INCIDENTS), rt.topic_name(topics.GAUGE_STATE),
                             bootstrap_servers=bootstrap_servers(kafka_url(settings)), auto_offset_reset="earliest",
                             group_id=None)
    start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=4)
    levels = [schemas.WaterLevel(source="hydrology.river-gauges", event_time=start + timedelta(minutes=10 * k),
                                 gauge_id=heihe.gauge_id, stage_m=round(7.0 + 1.7 * k / 24, 3)) for k in range(25)]
    latest: dict[str, IncidentChanged] = {}
    final: list[GaugeState] = []
    expected: set[str] = set()

    async def drain(seconds: float) -> None:
        for tp, records in (await watch.getmany(timeout_ms=int(seconds * 1000))).items():
            for record in records:
                if tp.topic == rt.topic_name(topics.GAUGE_STATE):  # the hydrology agent's newest state
                    state = schemas.decode(GaugeState, record.value)
                    if not final or state.event_time > final[0].event_time:
                        final[:] = [state]
                        expected.clear()
                    continue
                event = schemas.decode(IncidentChanged, record.value)
                if event.hazard is schemas.Hazard.FLOOD and event.revision >= latest.get(
                        event.incident_id, event).revision:
                    latest[event.incident_id] = event

    grid = RiskGrid.load()

    def flooding_now() -> set[str]:
        """Cells the risk model colours at the newest gauge state: the incidents must come to hold all of them."""
        scores = score_grid(grid, RiskInputs({heihe.gauge_id: final[0]}, [], {}, {}, []),
                            now=final[0].event_time, tz=ZoneInfo("Asia/Shanghai")).flood
        return {str(grid.model.codes[scores.cells[j]]) for j in range(len(scores.cells)) if scores.colour[j] > 0}

    def risen() -> bool:
        return bool(expected) and expected <= {c for i in latest.values() for c in i.cells}

    await rt.app.start()
    await watch.start()
    try:
        await asyncio.sleep(settings.session_timeout_s)  # the worker joins its group
        for batch in (levels[:9], levels[9:]):  # the first two hours, then the rest, as a feed sends them
            await rt.topic(topics.RAW_INGEST).send(key=b"hydrology.river-gauges", value=schemas.encode(batch))
            await drain(2.0)
        deadline = asyncio.get_running_loop().time() + 720
        while not risen() and asyncio.get_running_loop().time() < deadline:
            await drain(1.0)
            if final and not expected:
                expected |= flooding_now()
        for _ in range(4):  # and anything still on its way
            await drain(0.5)
    finally:
        await watch.stop()
        await rt.app.stop()
    assert risen(), (len(expected), {i: len(e.cells) for i, e in latest.items()})
    assert len(latest) == 1, f"{len(latest)} flood incidents: " + "; ".join(
        f"{i} {e.state.value} {len(e.cells)} cells" for i, e in latest.items())
    [incident] = latest.values()
    assert incident.state is schemas.IncidentState.RAISED and incident.colour in (Colour.ORANGE, Colour.RED)
    assert {e.reach for e in incident.evidence} == {heihe.gauge_id}
