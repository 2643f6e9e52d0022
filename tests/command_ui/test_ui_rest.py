"""REST beside the websocket, on a real gateway and Redis: health, OpenAPI, incidents, CAP, thumbnails."""

from __future__ import annotations

import asyncio
import math
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer

from command_ui.server import Gateway, start_gateway
from command_ui.tokens import issue
from gis.registry import load_cameras, load_cells
from stream import schemas, topics
from stream.agents.projection import RedisProjector
from stream.cli.main import main as amur
from stream.embedded.services import free_port
from stream.incidents.cap import CAP_NS, MAX_POLYGONS, feed_alerts, validate_cap
from stream.runtime.admin import bootstrap_servers, prepare_topics_async
from stream.runtime.app import kafka_url
from stream.screens.projection import Keys, project
from tests.conftest import settings_env
from tests.helpers.dispatch_scenario import morning

pytestmark = pytest.mark.integration

CAMERAS = [c.camera_id for c in load_cameras() if c.county_code == "231102"][:3]
"""Aihui cameras: the tokens below are scoped to Aihui (231102)."""
OUTSIDE = next(c.camera_id for c in load_cameras() if c.county_code == "231182")


def incident(incident_id: str, cell: str, state: schemas.IncidentState, minutes: int,
             now: datetime) -> schemas.IncidentChanged:
    return schemas.IncidentChanged(
        source="t", event_time=now - timedelta(minutes=minutes), incident_id=incident_id, hazard=schemas.Hazard.FLOOD,
        colour=schemas.Colour.ORANGE, state=state, title="黑龙江水位超警戒", cells=[cell],
        grid_path=["231100", cell[:6], cell[:9], cell[:12], cell], raised_at=now - timedelta(minutes=minutes),
        lon=127.5, lat=50.2)


@pytest.fixture
async def api(make_settings) -> AsyncIterator[tuple[str, dict, Gateway]]:
    settings = make_settings(ws_port=free_port())
    now = datetime.now(timezone.utc)  # per test: faults and tokens age, and the suite takes minutes
    await prepare_topics_async(settings, agent_modules=[])
    client = aioredis.from_url(settings.redis_url)
    keys = Keys(settings.redis_prefix)
    events = [
        incident("231102-flood-a1", "231102001001001", schemas.IncidentState.RAISED, 5, now),
        incident("231102-flood-a2", "231102001001002", schemas.IncidentState.RESOLVED, 50, now),
        incident("231123-flood-x1", "231123001001001", schemas.IncidentState.ACKNOWLEDGED, 20, now),
        schemas.FrameSample(source="t", event_time=now, camera_id=CAMERAS[0], status=schemas.DecodeStatus.OK),
        schemas.FrameSample(source="t", event_time=now, camera_id=CAMERAS[1], status=schemas.DecodeStatus.OK),
        schemas.VisionFinding(source="t", event_time=now, camera_id=CAMERAS[1], kind=schemas.FindingKind.COVERED,
                              score=0.9, confirmed=True),
        *morning(now).changes,
    ]
    await RedisProjector(client, keys, 1000, 100).apply(project(e, keys) for e in events)
    await client.set(keys.thumbnail(CAMERAS[0]), b"\xff\xd8jpeg", ex=60)
    await client.set(keys.thumbnail(CAMERAS[1]), b"\xff\xd8stale", ex=60)
    gateway = await start_gateway(settings)
    secret = settings.jwt_secret.get_secret_value()
    headers = {"Authorization": "Bearer " + issue(secret, subject="o", role=schemas.Role.VIEWER, scope="231102",
                                                  now=now, ttl_s=600)}
    try:
        yield f"http://127.0.0.1:{settings.http_port}", headers, gateway
    finally:
        await gateway.stop()
        await client.aclose()


async def test_health_metrics_and_openapi(api) -> None:
    base, _, gateway = api
    async with aiohttp.ClientSession() as http:
        async with http.get(base + "/api/health") as response:
            body = await response.json()
            assert response.status == 200 and body["redis"] and body["seq"]["incidents"] == 3
        async with http.get(base + "/metrics") as response:
            assert "amur_gateway_clients" in await response.text()
        async with http.get(base + "/openapi.json") as response:
            spec = await response.json()
    routes = {r.resource.canonical for r in gateway.runner.app.router.routes() if r.resource is not None}
    documented = set(spec["paths"]) | {"/vendor/{name}", "/static"}
    assert spec["openapi"].startswith("3.") and routes <= documented


async def test_incidents_are_scoped_and_filtered(api) -> None:
    base, headers, _ = api
    async with aiohttp.ClientSession() as http:
        async with http.get(base + "/api/incidents") as response:
            assert response.status == 401
        async with http.get(base + "/api/incidents", headers=headers) as response:
            assert [i["incident_id"] for i in await response.json()] == ["231102-flood-a1", "231102-flood-a2"]
        async with http.get(base + "/api/incidents?state=open", headers=headers) as response:
            assert [i["incident_id"] for i in await response.json()] == ["231102-flood-a1"]
        async with http.get(base + "/api/incidents?limit=x", headers=headers) as response:
            assert response.status == 400


async def test_requests_are_scoped_and_filtered(api) -> None:
    base, headers, _ = api
    async with aiohttp.ClientSession() as http:
        async with http.get(base + "/api/requests") as response:
            assert response.status == 401
        async with http.get(base + "/api/requests", headers=headers) as response:  # Aihui's open requests only
            assert {r["request_id"] for r in await response.json()} == {
                "311-cold", "311-manhole", "311-ignored", "110-20260110-0815-0042", "311-vending"}
        async with http.get(base + "/api/requests?overdue=true", headers=headers) as response:
            found = await response.json()
            assert [(r["request_id"], r["overdue"], r["escalation_level"]) for r in found] == [
                ("311-ignored", "accept", 2)]
        async with http.get(base + "/api/requests?queue=dispatcher&limit=1", headers=headers) as response:
            assert [r["request_id"] for r in await response.json()] == ["110-20260110-0815-0042"]  # the newest
        async with http.get(base + "/api/requests?department=heating&status=received", headers=headers) as response:
            assert {r["request_id"] for r in await response.json()} == {"311-cold", "311-ignored"}
        for bad, named in (("status=lost", "status"), ("overdue=yes", "overdue"), ("queue=x", "queue"),
                           ("limit=x", "limit")):
            async with http.get(f"{base}/api/requests?{bad}", headers=headers) as response:
                body = await response.json()
                assert response.status == 400 and body["detail"].startswith(named)
                assert repr(bad.split("=")[1]) in body["detail"]


async def test_cap_feed_holds_valid_alerts_of_active_incidents_in_scope(api) -> None:
    base, headers, _ = api
    async with aiohttp.ClientSession() as http:
        async with http.get(base + "/api/cap", headers=headers) as response:
            assert response.content_type == "application/atom+xml"
            feed = await response.text()
    alerts = feed_alerts(feed)
    assert len(alerts) == 1 and "231102-flood-a1" in alerts[0]
    validate_cap(alerts[0])  # against the OASIS CAP 1.2 schema


def cap_incident(incident_id: str, hazard: schemas.Hazard, cells: list[str], now: datetime) -> schemas.IncidentChanged:
    sent = now.astimezone(timezone(timedelta(hours=8))).replace(microsecond=0).isoformat()
    return schemas.IncidentChanged(
        source="amur", event_time=now, incident_id=incident_id, hazard=hazard, colour=schemas.Colour.ORANGE,
        state=schemas.IncidentState.RAISED, title=incident_id, cells=cells, drill=True, lon=127.5, lat=50.25,
        grid_path=["231100", "231102"], raised_at=now, cap_refs=[f"amur@heihe.local,{incident_id}.r1,{sent}"])


def cap_polygon(text: str) -> list[tuple[float, float]]:
    """CAP 1.2 section 3.2.4: "lat,lon" pairs, at least four, the first equal to the last."""
    pairs = [tuple(map(float, pair.split(","))) for pair in text.split()]
    assert len(pairs) >= 4 and pairs[0] == pairs[-1]
    return pairs


async def test_cap_feed_gives_the_area_amur_alerts_cap_gives(make_settings, monkeypatch, capsys) -> None:
    """The same incidents through both paths: the feed's <alert> is the message `amur alerts cap` prints,
    with one polygon per cell for a small incident and a dissolved outline for an 849-cell flood."""
    settings = make_settings(ws_port=free_port())
    now = datetime.now(timezone.utc).replace(microsecond=0)
    cells = load_cells()
    heihe = (127.50294, 50.25632)
    flood_cells = sorted(cells, key=lambda c: math.dist((c.lon, c.lat), heihe))[:849]
    incidents = [
        cap_incident("231102-camera_fault-0123456789ab", schemas.Hazard.CAMERA_FAULT,
                     [c.cell_code for c in cells if c.village_code == "231102001001"][:6], now),
        cap_incident("231102-flood-0123456789ab", schemas.Hazard.FLOOD, [c.cell_code for c in flood_cells], now),
    ]
    await prepare_topics_async(settings, agent_modules=[])
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers(kafka_url(settings)),
                                max_request_size=4 * 1024 * 1024)
    await producer.start()
    try:
        for event in incidents:
            await producer.send_and_wait(topics.topic_name(topics.INCIDENTS, settings.drill_id),
                                         key=event.incident_id.encode(), value=schemas.encode(event))
    finally:
        await producer.stop()
    client = aioredis.from_url(settings.redis_url)
    await RedisProjector(client, Keys(settings.redis_prefix), 1000, 100).apply(project(e, Keys(settings.redis_prefix))
                                                                               for e in incidents)
    gateway = await start_gateway(settings)
    token = issue(settings.jwt_secret.get_secret_value(), subject="o", role=schemas.Role.VIEWER, scope="231100",
                  now=now, ttl_s=600)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{settings.http_port}/api/cap",
                                headers={"Authorization": f"Bearer {token}"}) as response:
                assert response.status == 200
                feed = {alert.findtext(f"{{{CAP_NS}}}incidents"): alert
                        for alert in map(ET.fromstring, feed_alerts(await response.text()))}
    finally:
        await gateway.stop()
        await client.aclose()

    for name, value in settings_env(settings).items():
        if name.startswith("AMUR_"):
            monkeypatch.setenv(name, value)
    ns = {"cap": CAP_NS}
    polygons = {}
    for incident in incidents:
        capsys.readouterr()
        assert await asyncio.to_thread(amur, ["alerts", "cap", incident.incident_id]) == 0  # it runs its own loop
        printed = capsys.readouterr().out
        validate_cap(printed)
        from_feed = ET.tostring(feed[incident.incident_id], encoding="unicode")
        validate_cap(from_feed)  # against the OASIS CAP 1.2 schema
        assert ET.canonicalize(from_feed) == ET.canonicalize(printed.split("\n", 1)[1])
        areas = ET.fromstring(printed.encode()).findall("cap:info/cap:area", ns)
        assert len(areas) == 2 and areas[0].find("cap:circle", ns) is None
        polygons[incident.hazard] = [cap_polygon(p.text) for p in areas[0].findall("cap:polygon", ns)]
    assert len(polygons[schemas.Hazard.CAMERA_FAULT]) == 6  # one per cell
    assert 1 <= len(polygons[schemas.Hazard.FLOOD]) <= MAX_POLYGONS  # 849 cells, dissolved


async def test_thumbnails_only_for_known_healthy_cameras(api) -> None:
    base, headers, _ = api
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/api/cameras/{CAMERAS[0]}/thumbnail", headers=headers) as response:
            assert response.status == 200 and response.content_type == "image/jpeg"
            assert await response.read() == b"\xff\xd8jpeg"
        async with http.get(f"{base}/api/cameras/{CAMERAS[1]}/thumbnail", headers=headers) as response:
            assert response.status == 409 and (await response.json())["detail"] == "covered"  # not the stale picture
        async with http.get(f"{base}/api/cameras/{CAMERAS[2]}/thumbnail", headers=headers) as response:
            assert response.status == 204
        for bad in ("nope", "..%2F..%2Fetc%2Fpasswd", "%2E%2E"):
            async with http.get(f"{base}/api/cameras/{bad}/thumbnail", headers=headers) as response:
                assert response.status == 404
        async with http.get(f"{base}/api/cameras/{CAMERAS[0]}/thumbnail") as response:
            assert response.status == 401
        async with http.get(f"{base}/api/cameras/{OUTSIDE}/thumbnail", headers=headers) as response:
            assert response.status == 403 and OUTSIDE in (await response.json())["detail"]  # another county's


async def test_live_view_streams_frames_then_the_fault_and_claims_the_camera(api) -> None:
    base, headers, gateway = api
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/api/cameras/{CAMERAS[0]}/live", headers=headers) as response:
            assert response.status == 200 and response.content_type == "multipart/x-mixed-replace"
            first = await asyncio.wait_for(response.content.readuntil(b"\xff\xd8jpeg\r\n"), 30)
            assert b"Content-Type: image/jpeg" in first and b"Content-Length: 6" in first
        async with http.get(f"{base}/api/cameras/{CAMERAS[1]}/live", headers=headers) as response:
            body = await asyncio.wait_for(response.read(), 30)  # faulty: one fault part, and the stream ends
            assert b'{"fault": "covered"}' in body and b"image/jpeg" not in body
        async with http.get(f"{base}/api/cameras/{OUTSIDE}/live", headers=headers) as response:
            assert response.status == 403
    # while watched the camera was claimed at the sampler's top priority, and withdrawn when the view closed
    settings = gateway.settings
    assert settings is not None
    consumer = AIOKafkaConsumer(topics.topic_name(topics.CAMERA_PRIORITY, settings.drill_id),
                                bootstrap_servers=bootstrap_servers(kafka_url(settings)), auto_offset_reset="earliest")
    await consumer.start()
    try:
        claims: list[schemas.CameraPriority] = []
        deadline = asyncio.get_running_loop().time() + 60  # a bound; ends as soon as the withdrawal arrives
        while not any(c.priority == 0 and c.camera_id == CAMERAS[0] for c in claims):
            assert asyncio.get_running_loop().time() < deadline, f"no withdrawal among {claims}"
            batch = await consumer.getmany(timeout_ms=500)
            claims += [schemas.decode(schemas.CameraPriority, m.value) for ms in batch.values() for m in ms]
    finally:
        await consumer.stop()
    mine = [(c.priority, c.reason) for c in claims if c.camera_id == CAMERAS[0]]
    assert mine[0] == (100.0, "live view") and mine[-1] == (0.0, "live view")


async def test_page_and_its_assets_are_served_locally(api) -> None:
    base, _, _ = api
    async with aiohttp.ClientSession() as http:
        async with http.get(base + "/") as response:
            page = await response.text()
        assert "/vendor/echarts.min.js" in page and "http" not in page.replace("http-equiv", "")
        async with http.get(base + "/vendor/echarts.min.js") as response:
            assert response.status == 200 and len(await response.read()) > 500_000
        async with http.get(base + "/static/js/main.js") as response:
            assert response.status == 200
        async with http.get(base + "/api/map") as response:
            assert set(await response.json()) == {"city", "counties", "townships", "rivers", "cells"}
