"""The demonstration's calls from outside the feeds: smoke for the simulated fleet, a citizen's Open311 report,
two 110 non-emergency calls.

:func:`play` scripts the smoke on the fleet at once (its start and end are
times on the fleet's clock), then sends the report and the calls when each is
due, through the same front doors as any citizen and the 110 centre (``amur
ingest``: Open311, ``POST /110/v1/calls``). The fleet and the
ingest adapter start beside the simulator, so each call is retried for a while;
every outcome is one log line with ``demonstration=``. The feed simulator plays
the gauge (:class:`stream.sim.scenarios.demonstration.DemonstrationScenario`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import aiohttp

from stream.sim.scenarios.demonstration import Call110, Demonstration

log = logging.getLogger(__name__)

RETRY_S = 2.0
PATIENCE_S = 180.0
"""How long a call is retried while its server does not answer."""


@dataclass(frozen=True)
class Endpoints:
    fleet: str
    """Base URL of `amur sim cameras` (``http://127.0.0.1:8090``)."""
    open311: str
    """Base URL of `amur ingest` (``http://127.0.0.1:8070``)."""
    api_key: str
    """The Open311 key."""
    feed110_key: str | None = None
    """The 110 feed's key (None: the calls are not sent)."""


def smoke_event(demo: Demonstration) -> dict[str, object]:
    """The fleet's ``POST /control/events`` body."""
    return {"kind": "smoke", "camera_ids": [demo.smoke.camera_id], "start": demo.smoke.start.isoformat(),
            "end": demo.smoke.end.isoformat(), "intensity": 1.0}


def report_fields(demo: Demonstration, api_key: str) -> dict[str, str]:
    """The GeoReport v2 ``POST requests.json`` fields."""
    r = demo.report
    return {"service_code": r.service_code, "lat": f"{r.lat:.6f}", "long": f"{r.lon:.6f}",
            "description": r.description, "api_key": api_key}


async def play(demo: Demonstration, endpoints: Endpoints, wall_at: Callable[[datetime], float],
               stop: asyncio.Event, resumed: bool = False) -> None:
    """Script the smoke now and send the report and the calls at their times (``wall_at``: the loop time of a
    virtual time).

    ``resumed`` (the simulator was restarted): the fleet has the smoke already, and what was due was sent."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        async def smoke() -> str:
            async with session.post(f"{endpoints.fleet}/control/events", json=smoke_event(demo)) as response:
                return f"{response.status} {await response.text()}"

        async def report() -> str:
            async with session.post(f"{endpoints.open311}/open311/v2/requests.json",
                                    data=report_fields(demo, endpoints.api_key)) as response:
                return f"{response.status} {await response.text()}"

        def call_110(call: Call110) -> Callable[[], Awaitable[str]]:
            async def send() -> str:
                async with session.post(f"{endpoints.open311}/110/v1/calls", json=call.body(),
                                        headers={"X-Api-Key": endpoints.feed110_key or ""}) as response:
                    return f"{response.status} {await response.text()}"
            return send

        if not resumed:
            await _call("smoke", smoke, stop)
        due = [(demo.report.at, "citizen report", report)]
        if endpoints.feed110_key:
            due += [(call.at, f"110 call {call.call_id}", call_110(call)) for call in demo.calls]
        for at, what, send in sorted(due, key=lambda d: d[0]):
            wait = wall_at(at) - asyncio.get_running_loop().time()
            if resumed and wait <= 0:
                continue
            if wait > 0:
                try:
                    await asyncio.wait_for(stop.wait(), wait)
                    return
                except asyncio.TimeoutError:
                    pass
            await _call(what, send, stop)


async def _call(what: str, call: Callable[[], Awaitable[str]], stop: asyncio.Event) -> None:
    """Make one call, retrying connection failures for :data:`PATIENCE_S`; log what came of it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE_S
    while not stop.is_set():
        try:
            answer = await call()
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            if loop.time() > deadline:
                log.error("demonstration=%r failed error=%r", what, exc)
                return
            try:
                await asyncio.wait_for(stop.wait(), RETRY_S)
            except asyncio.TimeoutError:
                pass
            continue
        level = logging.INFO if answer[:1] == "2" else logging.ERROR
        log.log(level, "demonstration=%r answer=%s", what, answer[:300])
        return
