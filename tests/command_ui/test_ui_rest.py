"""REST beside the websocket, on a real gateway and Redis: health, OpenAPI, incidents, CAP, thumbnails."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import aiohttp
import pytest
import redis.asyncio as aioredis

from command_ui.server import Gateway, start_gateway
from command_ui.tokens import issue
from gis.registry import load_cameras
from stream import schemas
from stream.agents.projection import RedisProjector
from stream.embedded.services import free_port
from stream.incidents.cap import feed_alerts, validate_cap
from stream.runtime.admin import prepare_topics_async
from stream.screens.projection import Keys, project

pytestmark = pytest.mark.integration

CAMERAS = [c.camera_id for c in load_cameras()[:3]]


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


async def test_cap_feed_holds_valid_alerts_of_active_incidents_in_scope(api) -> None:
    base, headers, _ = api
    async with aiohttp.ClientSession() as http:
        async with http.get(base + "/api/cap", headers=headers) as response:
            assert response.content_type == "application/atom+xml"
            feed = await response.text()
    alerts = feed_alerts(feed)
    assert len(alerts) == 1 and "231102-flood-a1" in alerts[0]
    validate_cap(alerts[0])  # against the OASIS CAP 1.2 schema


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
