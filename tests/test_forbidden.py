"""Every forbidden action, tried against the real ingest adapter and gateway (real broker and Redis), is refused
with a 4xx and the documented error — never a 500, never applied. Each case fails if its protection is removed.

The stream's own refusals of forged and out-of-scope commands are in
tests/stream/agents/test_incidents_agents.py; tampered tokens in tests/command_ui/test_ui_gateway.py;
the loopback listeners in tests/stream/embedded/test_supervisor.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timezone

import aiohttp
import orjson
import pytest
from aiohttp import web
from aiokafka import AIOKafkaProducer
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from command_ui.server import Gateway, start_gateway
from command_ui.tokens import issue
from stream import schemas
from stream.embedded.services import free_port
from stream.ingest.http.server import build_ingest_app
from stream.ingest.inventory import load_inventory
from stream.ingest.registry import load_registry
from stream.runtime.admin import bootstrap_servers, prepare_topics_async
from stream.runtime.app import kafka_url
from stream.runtime.metrics import Metrics

pytestmark = pytest.mark.integration

KEYS = dict(ingest_api_keys="ingest-k", open311_api_keys="open311-k", feed110_api_keys="feed-k",
            dispatch_api_keys="grid-office:dispatch-k")

TRAVERSALS = ["../", "..%2f", "%2e%2e/", "%2e%2e%2f", "..%5c", "%252e%252e%252f", "....//", "%2f", "/"]
"""Ways to climb out of a served directory; each is followed by a target below."""
TARGETS = ["etc/passwd", "../../../../../../etc/passwd", "stream/settings.py", "%2fetc%2fpasswd"]
SECRETS = (b"root:x:0:0", b"amur-development-secret", b"import ")
"""What would show that a file outside the served set leaked."""


@dataclass
class Servers:
    ingest: str
    gateway: Gateway
    settings: object

    @property
    def page(self) -> str:
        return f"http://127.0.0.1:{self.gateway.http_port}"


@pytest.fixture
async def servers(make_settings, tmp_path) -> AsyncIterator[Servers]:
    settings = make_settings(partitions=1, ws_port=free_port(), open311_media_dir=tmp_path / "media",
                             open311_max_media_bytes=2048, ingest_http_max_items=5, **KEYS)
    await prepare_topics_async(settings, agent_modules=[])
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers(kafka_url(settings)))
    await producer.start()
    runner = web.AppRunner(build_ingest_app(settings, load_registry(), load_inventory(settings.gis_manifest),
                                            producer, Metrics()))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    gateway = await start_gateway(settings)
    try:
        yield Servers(f"http://127.0.0.1:{port}", gateway, settings)
    finally:
        await gateway.stop()
        await runner.cleanup()
        await producer.stop()


async def raw_get(base: str, path: str) -> tuple[int, bytes]:
    """GET ``path`` exactly as written (no client normalisation of ``..`` or escapes)."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    response = await asyncio.wait_for(reader.read(), 30)
    writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


async def test_path_traversal_on_every_file_serving_endpoint_is_refused(servers: Servers) -> None:
    prefixes = {servers.page: ["/static/", "/vendor/", "/api/cameras/{}/thumbnail", "/api/gauges/{}/series", "/"],
                servers.ingest: ["/open311/v2/media/", "/dispatch/v1/requests/{}"]}
    tried = 0
    for base, routes in prefixes.items():
        for route in routes:
            for climb in TRAVERSALS:
                for target in TARGETS:
                    attack = climb + target
                    path = route.format(attack) if "{}" in route else route + attack
                    status, body = await raw_get(base, path)
                    tried += 1
                    assert 400 <= status < 500 or (status == 200 and route == "/" and path == "/"), (path, status)
                    assert not any(secret in body for secret in SECRETS), (path, body[:200])
    assert tried == 7 * len(TRAVERSALS) * len(TARGETS)
    # and what is meant to be served still is
    assert (await raw_get(servers.page, "/"))[0] == 200


async def test_every_write_path_refuses_a_missing_or_wrong_key(servers: Servers) -> None:
    ingest = servers.ingest
    body_110 = orjson.dumps({"call_id": "c1", "received_at": datetime.now(timezone.utc).isoformat(),
                             "category": "积水", "text": "路面积水", "lat": 50.25, "lon": 127.5})
    calls = [("/ingest", b"[]", "X-Api-Key", "ingest-k"),
             ("/110/v1/calls", body_110, "X-Api-Key", "feed-k"),
             ("/dispatch/v1/requests/r-1/actions", b'{"action": "accept"}', "X-Api-Key", "dispatch-k")]
    refused: list[tuple[str, int, bytes]] = []
    async with aiohttp.ClientSession() as http:
        for path, body, header, good in calls:
            for headers in ({}, {header: ""}, {header: good + "x"}, {header: good.upper()}):
                async with http.post(ingest + path, data=body, headers=headers) as response:
                    refused.append((path, response.status, await response.read()))
        form = {"service_code": "flood_report", "lat": "50.2611", "long": "127.4773", "description": "水"}
        for key in (None, "", "open311-kx"):
            async with http.post(ingest + "/open311/v2/requests.json",
                                 data={**form, **({"api_key": key} if key is not None else {})}) as response:
                refused.append(("open311", response.status, await response.read()))
        # ten wrong keys from one address (any path), then that address is refused outright, even with a good key
        async with http.post(ingest + "/ingest", data=b"[]", headers={"X-Api-Key": "ingest-k"}) as response:
            refused.append(("/ingest", response.status, await response.read()))
    assert [status for _, status, _ in refused] == [403] * 10 + [429] * 6, refused
    assert all(b"api_key" in body or b"API key" in body for _, _, body in refused), refused
    # websocket commands: no token, and a viewer's token, are refused
    ws_url = f"ws://127.0.0.1:{servers.gateway.ws_port}/"
    ws = await connect(ws_url)
    await ws.send(orjson.dumps({"type": "command", "command_id": "c1", "incident_id": "i1",
                                "action": "acknowledge"}).decode())
    assert orjson.loads(await ws.recv())["code"] == "auth"
    with pytest.raises(ConnectionClosed):
        await ws.recv()
    viewer = issue(servers.settings.jwt_secret.get_secret_value(), subject="v", role=schemas.Role.VIEWER,
                   scope="231100", now=datetime.now(timezone.utc), ttl_s=600)
    ws = await connect(ws_url)
    await ws.send(orjson.dumps({"type": "hello", "token": viewer}).decode())
    await ws.send(orjson.dumps({"type": "command", "command_id": "c2", "incident_id": "i1",
                                "action": "acknowledge"}).decode())
    while (reply := orjson.loads(await asyncio.wait_for(ws.recv(), 30))) and not any(
            m.get("type") == "command_result" for m in (reply if isinstance(reply, list) else [reply])):
        pass
    [result] = [m for m in reply if m.get("type") == "command_result"]
    assert result["ok"] is False and result["code"] == "forbidden"
    await ws.close()
    # the REST reads that need a token refuse without one
    async with aiohttp.ClientSession() as http:
        for path in ("/api/incidents", "/api/cameras/x/thumbnail"):
            async with http.get(servers.page + path) as response:
                assert response.status == 401, path


async def test_oversized_payloads_are_refused_with_the_documented_error(servers: Servers) -> None:
    reading = {"type": "water_level", "source": "hydrology.river-gauges", "gauge_id": "hlj-heihe", "stage_m": 7.0,
               "event_time": datetime.now(timezone.utc).isoformat()}
    async with aiohttp.ClientSession() as http:
        async with http.post(servers.ingest + "/ingest", data=orjson.dumps([reading] * 6),
                             headers={"X-Api-Key": "ingest-k"}) as response:  # more items than allowed
            assert response.status == 413 and (await response.json())["errors"][0]["field"] == "items"
        async with http.post(servers.ingest + "/ingest", data=b"[" + b" " * (33 * 1024 * 1024) + b"]",
                             headers={"X-Api-Key": "ingest-k"}) as response:  # over the adapter's body limit
            assert response.status == 413
        photo = aiohttp.FormData({"api_key": "open311-k", "service_code": "flood_report", "lat": "50.2611",
                                  "long": "127.4773", "description": "水"})
        photo.add_field("media", b"\x89PNG\r\n\x1a\n" + b"0" * 4096, filename="p.png", content_type="image/png")
        async with http.post(servers.ingest + "/open311/v2/requests.json", data=photo) as response:
            assert response.status == 413 and (await response.json())[0]["code"] == 413
        calls = orjson.dumps([{"call_id": f"c{i}", "text": "x"} for i in range(501)])
        async with http.post(servers.ingest + "/110/v1/calls", data=calls,
                             headers={"X-Api-Key": "feed-k"}) as response:
            assert response.status == 400 and (await response.json())["errors"][0]["field"] == "calls"
    ws = await connect(f"ws://127.0.0.1:{servers.gateway.ws_port}/")
    await ws.send("x" * (servers.settings.gateway_max_message_bytes + 1))
    with pytest.raises(ConnectionClosed) as closed:
        await ws.recv()
    assert closed.value.rcvd.code == 1009
