"""End to end on the embedded broker and Redis: Open311 and 110 requests reach their department with
deadlines, escalate on the event clock when ignored, are accepted, rejected as not ours, re-routed (audited)
and closed over HTTP; a hazard call becomes incident evidence; a burst of 1,000 is accepted with none lost."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from gis.registry import load_cells
from stream import schemas, topics
from stream.incidents.audit import read_lines, verify_lines
from stream.runtime.admin import prepare_topics_async
from stream.runtime.app import build_app
from stream.schemas import IncidentChanged, RequestChanged, RequestStatus
from tests.helpers.dispatch import KEYS, front_door, read_topics
from tests.helpers.webhooks import receiver

pytestmark = pytest.mark.integration
MODULES = ["stream.agents.dispatch", "stream.agents.incidents"]
AIHUI = load_cells()[0]  # an urban cell of Aihui district


class Collected:
    """Every event of one kind the worker publishes, and a bounded wait for the one wanted."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[object] = asyncio.Queue()
        self.seen: list[object] = []

    async def wait_for(self, predicate: Callable[[object], bool], timeout: float = 90.0) -> object:
        for event in self.seen:
            if predicate(event):
                return event

        async def scan() -> object:
            while True:
                event = await self.queue.get()
                self.seen.append(event)
                if predicate(event):
                    return event
        return await asyncio.wait_for(scan(), timeout)


def worker(settings, modules: list[str]):  # type: ignore[no-untyped-def]
    rt = build_app(settings, agent_modules=modules)
    requests, incidents = Collected(), Collected()

    @rt.app.agent(rt.topic(topics.DISPATCH), name="test_collect_requests")
    async def collect(stream):  # type: ignore[no-untyped-def]
        async for payload in stream:
            await requests.queue.put(schemas.decode(RequestChanged, payload))

    if "stream.agents.incidents" in modules:
        @rt.app.agent(rt.topic(topics.INCIDENTS), name="test_collect_incidents")
        async def collect_incidents(stream):  # type: ignore[no-untyped-def]
            async for payload in stream:
                await incidents.queue.put(schemas.decode(IncidentChanged, payload))

    return rt, requests, incidents


def change(request_id: str, what: str) -> Callable[[object], bool]:
    return lambda e: isinstance(e, RequestChanged) and e.request_id == request_id and e.change == what


async def test_requests_live_their_whole_life(make_settings, tmp_path: Path) -> None:
    settings = make_settings(partitions=2, dispatch_tick_s=0.3, audit_log=tmp_path / "audit.jsonl",
                             notify_attempts=1, **KEYS)
    assert settings.drill_id and settings.dispatch_clock == "auto"  # a drill: deadlines on the event clock
    rt, requests, incidents = worker(settings, MODULES)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    cold = now - timedelta(hours=10)
    calls = [
        {"call_id": "cold-1", "time": cold.isoformat(), "lat": AIHUI.lat, "lon": AIHUI.lon,
         "category": "暖气不热", "text": "家里只有十四度"},
        {"call_id": "levee-1", "time": now.isoformat(), "lat": AIHUI.lat, "lon": AIHUI.lon,
         "category": "险情", "text": "江堤渗水，有管涌"},
        {"call_id": "parking-1", "time": now.isoformat(), "address": "孙吴县城东十字路口", "category": "乱停车"},
        {"call_id": "parking-2", "time": now.isoformat(), "address": "孙吴县样例村003002村委会门前",
         "category": "乱停车"},  # a village of the GIS layers' names: placed at the village
        {"call_id": "what-1", "time": now.isoformat(), "address": "黑河市", "category": "咨询", "text": "户口迁移"},
        {"call_id": "bad-1", "time": now.isoformat(), "category": "噪音扰民"},  # no location, no address
    ]
    async with front_door(settings, MODULES) as door, aiohttp.ClientSession() as http:
        await rt.app.start()
        try:
            await asyncio.sleep(1.0)
            async with http.post(door.url + "/110/v1/calls", json=calls[:1]) as response:
                assert response.status == 403  # the feed has its own key
            async with http.post(door.url + "/110/v1/calls", json=calls, headers={"X-Api-Key": "key-110"}) as response:
                assert response.status == 201
                answer = await response.json()
            assert (answer["accepted"], answer["rejected"]) == (5, 1)
            assert [e["field"] for e in answer["errors"]] == ["address"]
            routed = {c["call_id"]: (c["item_code"], c["department"], c["place"], c["queue"]) for c in answer["calls"]}
            assert routed == {"cold-1": ("HEA-001", "heating", AIHUI.cell_code, None),
                              "levee-1": ("FLD-003", "water-affairs", AIHUI.cell_code, None),
                              "parking-1": ("URB-014", "traffic-police", "231124", None),
                              "parking-2": ("URB-014", "traffic-police", "231124003002", None),
                              "what-1": (None, None, None, "dispatcher")}
            form = {"api_key": "key-a", "service_code": "heating_leak", "lat": str(AIHUI.lat),
                    "long": str(AIHUI.lon), "description": "楼道暖气管跑水"}
            async with http.post(door.url + "/open311/v2/requests.json", data=form) as response:
                assert response.status == 201
                [created] = await response.json()
            rid = created["service_request_id"]

            # a grid worker's device sends straight to the topic, unplaced: the worker places it by its point
            device = schemas.GridEvent(source="grid-device-17", event_time=now, report_id="dev-17-1",
                                       service_code="street_light_out", lon=AIHUI.lon, lat=AIHUI.lat)
            await door.producer.send_and_wait(topics.topic_name(topics.GRID_EVENTS, settings.drill_id),
                                              key=b"dev-17", value=schemas.encode(device))
            placed = await requests.wait_for(change("dev-17-1", "received"))
            assert isinstance(placed, RequestChanged)
            assert (placed.place, placed.department, placed.channel) == (
                AIHUI.cell_code, "urban-management", "grid-device-17")

            received = await requests.wait_for(change(rid, "received"))
            assert isinstance(received, RequestChanged)
            assert (received.department, received.item_code, received.responsible) == (
                "heating", "HEA-002", AIHUI.cell_code)
            queued = await requests.wait_for(change("110-what-1", "queued"))
            assert isinstance(queued, RequestChanged) and queued.department is None and queued.place == "231100"

            # ignored for ten (event) hours, the cold flat has climbed from the cell to the city
            await requests.wait_for(lambda e: change("110-cold-1", "escalated")(e) and e.escalation_level == 4)
            climbed = [e for e in requests.seen if change("110-cold-1", "escalated")(e)]
            assert [(e.responsible, e.event_time) for e in climbed] == [  # type: ignore[attr-defined]
                (code, cold + timedelta(hours=2 * level)) for level, code in enumerate(
                    [AIHUI.cell_code[:12], AIHUI.cell_code[:9], AIHUI.cell_code[:6], "231100"], start=1)]
            assert climbed[2].notified == ["grid:231102", "heating", "housing"]  # type: ignore[attr-defined]

            async def act(key: str, body: dict[str, object], expect: str) -> RequestChanged:
                async with http.post(f"{door.url}/dispatch/v1/requests/{rid}/actions", json=body,
                                     headers={"X-Api-Key": key}) as response:
                    assert response.status == 202, await response.text()
                    action_id = (await response.json())["action_id"]
                found = await requests.wait_for(lambda e: change(rid, expect)(e) and e.revision > len(
                    [s for s in requests.seen if isinstance(s, RequestChanged) and s.request_id == rid]) - 1)
                assert isinstance(found, RequestChanged) and action_id
                return found

            async with http.post(f"{door.url}/dispatch/v1/requests/{rid}/actions", json={"action": "accept"},
                                 headers={"X-Api-Key": "wrong"}) as response:
                assert response.status == 403
            refused = await act("key-water", {"action": "accept"}, "refused")
            assert "water-supply may not accept a request held by heating" in (refused.reason or "")
            async def open311_doc(done: Callable[[dict[str, object]], bool]) -> dict[str, object]:
                """The citizen's view of the request, once the worker's projection shows what is awaited."""
                while True:
                    async with http.get(f"{door.url}/open311/v2/requests/{rid}.json") as response:
                        [doc] = await response.json()
                    if done(doc):
                        return doc
                    await asyncio.sleep(0.2)

            await act("key-heating", {"action": "accept"}, "accepted")
            doc = await asyncio.wait_for(open311_doc(lambda d: d["status_notes"] == "accepted by heating"), 30)
            assert doc["status"] == "open" and doc["expected_datetime"]
            rejected = await act("key-heating", {"action": "reject", "reason": "a water main, not a heating pipe"},
                                 "rejected")
            assert rejected.status is RequestStatus.REJECTED and rejected.department is None
            doc = await asyncio.wait_for(open311_doc(lambda d: d["agency_responsible"] is None), 30)
            assert (doc["status"], doc["status_notes"]) == (  # never closed to the citizen: back to dispatch
                "open", "with the dispatcher: rejected by heating: a water main, not a heating pipe")
            rerouted = await act("key-dispatch", {"action": "reroute", "item_code": "UTL-004",
                                                  "reason": "water main burst under the stairwell"}, "rerouted")
            assert (rerouted.department, rerouted.actor) == ("water-supply", "grid-office")
            await act("key-water", {"action": "accept"}, "accepted")
            await act("key-water", {"action": "resolve"}, "resolved")
            closed = await act("key-dispatch", {"action": "close"}, "closed")
            assert closed.status is RequestStatus.CLOSED

            doc = await asyncio.wait_for(open311_doc(lambda d: d["status"] == "closed"), 30)
            assert doc["agency_responsible"] == "water-supply"
            async with http.get(f"{door.url}/dispatch/v1/requests/{rid}") as response:
                assert (await response.json())["status"] == "closed"

            # the levee call is evidence of a flood incident in its place
            flood = await incidents.wait_for(lambda e: isinstance(e, IncidentChanged) and any(
                ref.evidence_id == "report:110-levee-1" for ref in e.evidence))
            assert flood.hazard is schemas.Hazard.FLOOD  # type: ignore[attr-defined]
            assert not any(isinstance(e, IncidentChanged) and any("cold-1" in r.evidence_id for r in e.evidence)
                           for e in incidents.seen)  # a cold flat is dispatched, not an incident

            # an action on a request nobody knows is dead-lettered naming it
            async with http.post(f"{door.url}/dispatch/v1/requests/311-424242/actions", json={"action": "accept"},
                                 headers={"X-Api-Key": "key-heating"}) as response:
                assert response.status == 202
            dlq = topics.topic_name(topics.DEAD_LETTER, settings.drill_id)
            letters = [schemas.decode(schemas.DeadLetter, r.value) for r in (await read_topics(
                settings, [dlq], until=2))[dlq]]
            assert sorted(str(letter.field) for letter in letters) == ["address", "request_id"]
            assert "311-424242" in next(letter.reason for letter in letters if letter.field == "request_id")
        finally:
            await rt.app.stop()
    # the re-route is in the audit chain: who moved it and why
    lines = list(read_lines(settings.audit_log))
    verify_lines(lines)
    moves = [json.loads(line)["data"] for line in lines if json.loads(line)["kind"] == "dispatch"
             and json.loads(line)["data"]["change"] in ("rerouted", "rejected")]
    assert [(m["change"], m["actor"], m["reason"]) for m in moves if m["request_id"] == rid] == [
        ("rejected", "heating", "a water main, not a heating pipe"),
        ("rerouted", "grid-office", "water main burst under the stairwell")]


async def test_a_burst_of_1000_requests_is_accepted_with_none_lost(make_settings) -> None:
    settings = make_settings(partitions=4, **KEYS)
    modules = ["stream.agents.dispatch"]
    rt, requests, _ = worker(settings, modules)
    cells = load_cells()[::29][:50]
    async with front_door(settings, modules) as door:
        await rt.app.start()
        try:
            gate = asyncio.Semaphore(50)

            async def post(i: int, http: aiohttp.ClientSession) -> str:
                cell = cells[i % len(cells)]
                form = {"api_key": "key-b", "service_code": "street_light_out", "lat": str(cell.lat),
                        "long": str(cell.lon), "description": f"burst {i} {uuid.uuid4().hex[:6]}"}
                async with gate, http.post(door.url + "/open311/v2/requests.json", data=form) as response:
                    assert response.status == 201
                    return str((await response.json())[0]["service_request_id"])

            async with aiohttp.ClientSession() as http:
                ids = await asyncio.gather(*(post(i, http) for i in range(1000)))
            assert len(set(ids)) == 1000
            grid_topic = topics.topic_name(topics.GRID_EVENTS, settings.drill_id)
            on_topic = (await read_topics(settings, [grid_topic], until=1000))[grid_topic]
            assert {schemas.decode(schemas.GridEvent, r.value).report_id for r in on_topic} == set(ids)

            async def all_received() -> None:
                while len({e.request_id for e in requests.seen if isinstance(e, RequestChanged)}) < 1000:
                    requests.seen.append(await requests.queue.get())
            await asyncio.wait_for(all_received(), 120)
            assert {e.request_id for e in requests.seen if isinstance(e, RequestChanged)} == set(ids)
        finally:
            await rt.app.stop()


async def escalated_for_ten_hours(settings, posts: Callable[[], int]) -> None:  # type: ignore[no-untyped-def]
    """A cold flat reported ten event hours before a second report, on the dispatch worker; returns when the
    request has climbed to the city and ``posts()`` reached nine (four steps, two contacts each, one retry)."""
    await prepare_topics_async(settings, agent_modules=["stream.agents.dispatch"])
    rt, requests, _ = worker(settings, ["stream.agents.dispatch"])
    now = datetime.now(timezone.utc).replace(microsecond=0)
    reports = [schemas.GridEvent(source="open311", event_time=at, report_id=rid, service_code=service,
                                 lon=AIHUI.lon, lat=AIHUI.lat, cell_code=AIHUI.cell_code)
               for rid, service, at in (("311-cold", "heating_cold", now - timedelta(hours=10)),
                                        ("311-light", "street_light_out", now))]
    await rt.app.start()
    try:
        for event in reports:  # the second moves the event clock ten hours on
            await rt.topic(topics.GRID_EVENTS).send(key=event.report_id.encode(), value=schemas.encode(event))
        await requests.wait_for(lambda e: change("311-cold", "escalated")(e) and e.escalation_level == 4)
        for _ in range(600):  # a bounded wait that ends as soon as every notice is in
            if posts() >= 9:
                break
            await asyncio.sleep(0.1)
    finally:
        await rt.app.stop()


async def test_escalation_notices_reach_a_loopback_webhook(make_settings, tmp_path: Path) -> None:
    """Each of the four steps is delivered to the contacts it names, through the incidents' delivery."""
    def answer(name: str, calls: int) -> web.Response:
        return web.Response(status=503 if name == "heating" and calls == 1 else 200)  # retried

    async with receiver(answer) as hooks:
        contacts = tmp_path / "contacts.yaml"
        contacts.write_text(f"""departments:
  - {{id: grid-office, grid_code: "231100", hazards: [],
     drill_contacts: [{{name: city, channel: webhook, url: "{hooks.make_url('/grid-city')}"}}]}}
  - {{id: grid-office, grid_code: "231102", hazards: [],
     drill_contacts: [{{name: aihui, channel: webhook, url: "{hooks.make_url('/grid-aihui')}"}}]}}
  - {{id: heating, grid_code: "231100", hazards: [],
     drill_contacts: [{{name: desk, channel: webhook, url: "{hooks.make_url('/heating')}"}}]}}
""", encoding="utf-8")
        settings = make_settings(partitions=2, dispatch_tick_s=0.3, audit_log=tmp_path / "audit.jsonl",
                                 notify_contacts=contacts, notify_attempts=3, notify_backoff_s=0.05, **KEYS)
        posted: dict[str, list[tuple[dict[str, Any], dict[str, str]]]] = hooks.received  # type: ignore[attr-defined]
        await escalated_for_ten_hours(settings, lambda: sum(len(v) for v in posted.values()))
    received = {name: [(body, headers["Idempotency-Key"]) for body, headers in posts] for name, posts in posted.items()}
    # each level's grid office (the village and street have none of their own: Aihui's answers), the department
    # every time; the heating desk failed once and got the same idempotency key again
    levels = lambda name: [body["request"]["responsible"] for body, _ in received[name]]  # noqa: E731
    assert levels("grid-aihui") == [AIHUI.cell_code[:12], AIHUI.cell_code[:9], "231102"]
    assert levels("grid-city") == ["231100"]
    assert len(received["heating"]) == 5 and len({key for _, key in received["heating"]}) == 4
    assert received["heating"][0][1] == received["heating"][1][1]
    assert {body["notification"]["reason"] for name in received for body, _ in received[name]} == {"escalated"}
    # every outcome is in the audit chain, and the escalation contact nobody answers for is said, not dropped
    lines = list(read_lines(settings.audit_log))
    verify_lines(lines)
    notices = [json.loads(line)["data"] for line in lines if json.loads(line)["kind"] == "dispatch-notice"]
    assert sorted((n["status"], n.get("attempts")) for n in notices if n["status"] != "unreached") == \
        [("delivered", 1)] * 7 + [("delivered", 2)]
    assert [n["unreached"] for n in notices if n["status"] == "unreached"] == [["housing"], ["housing"]]
