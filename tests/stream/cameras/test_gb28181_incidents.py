"""A GB/T 28181 NVR's alarms through to incidents and the wall, end to end on loopback.

The simulated NVR registers with `amur cameras gb28181` (its ``serve``: real SIP
over UDP, the real grid lookup, the Redis inventory, findings produced to the
embedded broker), is armed by the guard command, and sends two alarms: a vendor
fire alarm on one channel and a video-loss alarm on another. The real incident
agents raise a fire incident pinning the first channel (and, by coverage, a third
channel placed in the same cell) and a camera-fault incident for the second; the real projection agents put the second's fault on the wall's
camera-fault state, where the gateway's live view reads it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
import redis.asyncio as aioredis

from gis import registry
from stream import schemas
from stream.cameras.gb28181_command import serve
from stream.runtime.admin import prepare_topics_async
from stream.runtime.app import build_app
from stream.screens.projection import Channel, Keys
from tests.helpers.gb28181_device import Device, SimChannel, channel_ids

pytestmark = pytest.mark.integration

DEVICE = "23110200001180000001"
MODULES = ["stream.agents.incidents", "stream.agents.projection"]
BOUND_S = 120.0
"""Generous: the grid and the place index load in seconds on a quiet machine, much longer on a loaded one."""
T = TypeVar("T")


async def until(probe: Callable[[], Awaitable[T | None]], what: str) -> T:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + BOUND_S
    while (found := await probe()) is None:
        assert loop.time() < deadline, f"not within {BOUND_S} s: {what}"
        await asyncio.sleep(0.1)
    return found


async def test_nvr_alarms_become_incidents_and_a_fault_on_the_wall(make_settings, capsys, tmp_path) -> None:
    county = [c for c in registry.load_cameras() if c.county_code == "231102"]
    aihui = [county[0], next(c for c in county if c.cell_code[:12] != county[0].cell_code[:12])]  # another village
    fire_channel, lost_channel, beside_channel = channel_ids("23110200", 3)
    settings = make_settings(
        partitions=1, gb28181_port=0, gb28181_password="nvr-pw", gb28181_alarm_kinds={"5/101": "fire"},
        incident_tick_s=1.0, audit_log=tmp_path / "audit.jsonl", vision_inventory_refresh_s=0.2,
        incident_max_cameras=64)  # room for every registry camera that sees the cell, and the channels after them
    await prepare_topics_async(settings, agent_modules=MODULES)
    rt = build_app(settings, agent_modules=MODULES)
    keys = Keys(settings.redis_prefix)
    client = aioredis.from_url(settings.redis_url)
    stop = asyncio.Event()
    platform = asyncio.create_task(serve(settings, stop))
    sim: Device | None = None
    await rt.app.start()
    try:
        async def sip_port() -> int | None:
            assert not platform.done(), "the platform stopped"
            out = capsys.readouterr().out
            return int(out.split(" on ")[1].split(" ")[0].rsplit(":", 1)[1]) if "UDP+TCP" in out else None

        port = await until(sip_port, "the platform listening")
        sim = Device(DEVICE, "nvr-pw", ("127.0.0.1", port), "2311000000", "23110000002000000001",
                     [SimChannel(cid, f"爱辉{i}", "231102", cam.lon, cam.lat)
                      for i, (cid, cam) in enumerate(zip((fire_channel, lost_channel, beside_channel),
                                                         (*aihui, aihui[0])))])
        await sim.start()
        assert await sim.register() == 200

        async def placed() -> dict[bytes, bytes] | None:
            found = await client.hgetall(f"{settings.redis_prefix}cameras:channels")
            return found if len(found) == 3 and sim is not None and sim.armed else None

        await until(placed, "the channels placed in the inventory and the device armed")

        async def known_to_incidents() -> bool | None:
            return len(rt.incident_places.cell_of_channel) == 3 or None

        await until(known_to_incidents, "the incident engine knows the channels' cells")
        assert sim.alarm(fire_channel, method=5, alarm_type=101, priority=1)  # vendor fire type, mapped in settings
        assert sim.alarm(lost_channel, method=2, alarm_type=1, priority=2)  # GB/T 28181 video loss

        async def incidents() -> list[schemas.IncidentChanged] | None:
            stored = await client.hgetall(keys.state(Channel.INCIDENTS))
            found = [schemas.decode(schemas.IncidentChanged, raw) for raw in stored.values()]
            return found if {i.hazard for i in found} >= {schemas.Hazard.FIRE, schemas.Hazard.CAMERA_FAULT} else None

        raised = {i.hazard: i for i in await until(incidents, "a fire and a camera-fault incident on the wall")}
        fire, fault = raised[schemas.Hazard.FIRE], raised[schemas.Hazard.CAMERA_FAULT]
        assert fire.cameras[0] == fire_channel and lost_channel not in fire.cameras
        assert beside_channel in fire.cameras  # pinned by coverage: a channel placed in the fire's cell
        assert fire.incident_id.startswith("231102-fire-") and fire.colour is schemas.Colour.ORANGE
        assert fault.cameras[0] == lost_channel and fault.colour is schemas.Colour.BLUE
        assert fire.cells and fault.cells  # each in the cell its channel was placed in

        async def camera_fault() -> bytes | None:
            return await client.hget(keys.state(Channel.CAMERA_FAULTS), lost_channel)

        assert b'"kind":"offline"' in await until(camera_fault, "the lost channel's fault on the wall")
        assert await client.hget(keys.state(Channel.CAMERA_FAULTS), fire_channel) is None
    finally:
        stop.set()
        await asyncio.wait_for(platform, 30)
        if sim is not None:
            await sim.stop()
        await rt.app.stop()
        await client.aclose()
