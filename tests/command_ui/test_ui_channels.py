"""GB/T 28181 and ONVIF channels on the wall: the camera layer, pictures and live view, scoped like registry cameras.

Pure: the layer rows (the catalogue's names escaped). On a real gateway and Redis: a
channel the platform places after the gateway started appears on ``/api/cameras``, its
thumbnail and live view are served to an operator of its county (403 to another
county's), its fault replaces its picture, and a channel no longer placed is unknown.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone

import aiohttp
import pytest
import redis.asyncio as aioredis

from command_ui.inventory import WallCameras, channel_rows
from command_ui.server import start_gateway
from command_ui.tokens import issue
from gis.registry import load_cameras
from stream import schemas
from stream.agents.projection import RedisProjector
from stream.cameras.channels import ChannelStore
from stream.embedded.services import free_port
from stream.runtime.admin import prepare_topics_async
from stream.screens.projection import Keys, project
from vision.gb28181.placement import Channel, Placement

AIHUI = next(c for c in load_cameras() if c.county_code == "231102")
BEIAN = next(c for c in load_cameras() if c.county_code == "231182")
BOUND_S = 60.0


def channel(channel_id: str, cell: str | None, lon: float | None = 127.5, lat: float | None = 50.2,
            name: str = "江边", county: str = "231102") -> Channel:
    return Channel(channel_id, "23110200001180000001", name, "forestry", county, lon, lat, cell)


def test_layer_rows_are_placed_channels_with_escaped_labels() -> None:
    rows = channel_rows([channel("2", "231102001001001", name="<img src=x onerror=alert(1)>"),
                         channel("1", "231102001001002", lon=127.123456789),
                         channel("3", None, lon=None, lat=None)])
    assert [r[0] for r in rows] == ["1", "2"]  # unplaced channels are listed to place, not drawn
    assert rows[0][3] == 127.12346 and rows[0][2] == "231102"
    assert "<img" not in rows[1][1] and "&lt;img" in rows[1][1]


def test_channels_join_the_registry_cameras_and_never_shadow_them() -> None:
    cameras = WallCameras([["reg", "forest", "231102", 127.0, 50.0]], {"reg": "231102001001001"})
    cameras.set_channels([channel("ch", "231102001001002"), channel("reg", "231123001001001")])
    assert cameras.known("ch") and cameras.cell("ch") == "231102001001002"
    assert cameras.cell("reg") == "231102001001001"  # a registry id in a catalogue keeps its registry cell
    cameras.set_channels([])
    assert not cameras.known("ch") and cameras.known("reg")


async def until(probe: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + BOUND_S
    while not await probe():
        assert asyncio.get_running_loop().time() < deadline, f"not within {BOUND_S} s: {what}"
        await asyncio.sleep(0.1)


@pytest.mark.integration
async def test_a_placed_channel_is_on_the_layer_and_live_in_its_scope(make_settings) -> None:
    settings = make_settings(ws_port=free_port(), vision_inventory_refresh_s=0.2)
    await prepare_topics_async(settings, agent_modules=[])
    client = aioredis.from_url(settings.redis_url)
    keys = Keys(settings.redis_prefix)
    store = ChannelStore(client, settings.redis_prefix)
    mine = channel("23110200001320000001", AIHUI.cell_code, AIHUI.lon, AIHUI.lat)
    theirs = channel("23118200001320000002", BEIAN.cell_code, BEIAN.lon, BEIAN.lat, county="231182")
    faulty = channel("23110200001320000003", AIHUI.cell_code, AIHUI.lon, AIHUI.lat)
    gateway = await start_gateway(settings)
    now = datetime.now(timezone.utc)
    headers = {"Authorization": "Bearer " + issue(settings.jwt_secret.get_secret_value(), subject="o",
                                                  role=schemas.Role.VIEWER, scope="231102", now=now, ttl_s=600)}
    base = f"http://127.0.0.1:{settings.http_port}"
    try:
        async with aiohttp.ClientSession() as http:
            async def layer() -> dict[str, list]:
                async with http.get(base + "/api/cameras") as response:
                    return {row[0]: row for row in await response.json()}

            registry_count = len(await layer())
            # placed after the gateway started: sampled thumbnails and a fault as the sampler and projection leave them
            await store.save(Placement(placed=(mine, theirs, faulty), unplaced=(), skipped=()))
            await client.set(keys.thumbnail(mine.channel_id), b"\xff\xd8channel", ex=60)
            await client.set(keys.thumbnail(faulty.channel_id), b"\xff\xd8stale", ex=60)
            offline = schemas.VisionFinding(source="gb28181", event_time=now, camera_id=faulty.channel_id,
                                            kind=schemas.FindingKind.OFFLINE, score=1.0, confirmed=True)
            await RedisProjector(client, keys, 1000, 100).apply([project(offline, keys)])

            async def on_layer() -> bool:
                return mine.channel_id in await layer()

            await until(on_layer, "the channel on the camera layer")
            rows = await layer()
            assert len(rows) == registry_count + 3
            assert rows[mine.channel_id] == [mine.channel_id, "江边 · forestry", "231102",
                                             round(AIHUI.lon, 5), round(AIHUI.lat, 5)]

            async with http.get(f"{base}/api/cameras/{mine.channel_id}/thumbnail", headers=headers) as response:
                assert response.status == 200 and await response.read() == b"\xff\xd8channel"
            async with http.get(f"{base}/api/cameras/{theirs.channel_id}/thumbnail", headers=headers) as response:
                assert response.status == 403  # another county's channel: outside the operator's scope
            async with http.get(f"{base}/api/cameras/{faulty.channel_id}/thumbnail", headers=headers) as response:
                assert response.status == 409 and (await response.json())["detail"] == "offline"
            async with http.get(f"{base}/api/cameras/{mine.channel_id}/live", headers=headers) as response:
                assert response.status == 200 and response.content_type == "multipart/x-mixed-replace"
                first = await asyncio.wait_for(response.content.readuntil(b"\xff\xd8channel\r\n"), 30)
                assert b"Content-Type: image/jpeg" in first

            # an operator unplaces it (or its device deletes it): the wall forgets it
            await store.save(Placement(placed=(), unplaced=(channel(mine.channel_id, None, None, None),), skipped=()))

            async def gone() -> bool:
                return mine.channel_id not in await layer()

            await until(gone, "the unplaced channel off the layer")
            async with http.get(f"{base}/api/cameras/{mine.channel_id}/thumbnail", headers=headers) as response:
                assert response.status == 404
    finally:
        await gateway.stop()
        await client.aclose()
