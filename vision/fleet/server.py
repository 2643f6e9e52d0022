"""`amur sim cameras`: every camera of the sample as an HTTP snapshot endpoint, from one process.

``GET /cameras/{id}/snapshot.jpg`` answers like an ONVIF ``GetSnapshotUri``: a
JPEG of the camera's scene at the fleet's virtual time. The control API scripts
events and faults and tells the truth about them (for evaluation):

- ``POST /control/events`` ``{"kind", "camera_ids"|"cells"|"bbox", "start"?, "end"?|"duration_s"?, "intensity"?}``
- ``GET /control/events``, ``DELETE /control/events[/{event_id}]``
- ``GET /control/truth?camera_id=..[&at=ISO]``: events active for a camera at a virtual time
- ``GET /control/clock``, ``POST /control/clock`` ``{"at"?, "speed"?}``
- ``GET /cameras``: the fleet (id, scene, size)

Rendering and JPEG encoding run in a small thread pool (OpenCV releases the
GIL), so a hanging fault or a slow encode never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
import struct
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from vision.fleet.camera import FleetCamera, fleet_from_registry
from vision.fleet.errors import InvalidEventRequest
from vision.fleet.events import (
    SERVER_FAULTS,
    EventBook,
    EventKind,
    ScriptedEvent,
    parse_event_request,
)
from vision.fleet.render import (
    FrameRenderer,
    corrupt_jpeg,
    encode_jpeg,
    seed_of,
    step_of,
)

log = logging.getLogger(__name__)

HANG_S = 3600.0
"""How long a TIMEOUT camera holds a request (clients give up long before)."""


class VirtualClock:
    """Virtual time = ``start`` + ``speed`` x wall seconds since it was set."""

    def __init__(self, start: datetime, speed: float = 1.0) -> None:
        self.set(start, speed)

    def set(self, start: datetime, speed: float) -> None:
        if start.tzinfo is None:
            raise InvalidEventRequest(f"at: time without a zone: {start.isoformat()}")
        if speed <= 0:
            raise InvalidEventRequest(f"speed: must be > 0, got {speed}")
        self.start, self.speed, self._wall0 = start, speed, time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self._wall0) * self.speed)


@dataclass(frozen=True)
class FleetStats:
    served: int
    cache_hits: int
    faults: int


class Fleet:
    """The fleet's state: cameras, renderer, scripted events, caches. Built in :func:`run_fleet`."""

    def __init__(self, cameras: dict[str, FleetCamera], *, seed: int, clock: VirtualClock, threads: int = 2,
                 cache_frames: int = 512) -> None:
        self.cameras = cameras
        self.seed = seed
        self.clock = clock
        self.book = EventBook()
        self.renderer = FrameRenderer(seed=seed)
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="fleet-render")
        self.cache_frames = cache_frames
        self._jpegs: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._ids = itertools.count(1)
        self.served = self.cache_hits = self.faults = 0

    def warm(self) -> int:
        """Render every panorama the fleet's cameras look at (blocking; a few seconds for 5,000 cameras)."""
        needed = {(c.scene, c.variant, c.width, c.height) for c in self.cameras.values()}
        for key in sorted(needed):
            self.renderer.panorama(*key)
        return len(needed)

    def stats(self) -> FleetStats:
        return FleetStats(self.served, self.cache_hits, self.faults)

    def add_event(self, payload: dict[str, Any]) -> ScriptedEvent:
        event = parse_event_request(payload, (c.place for c in self.cameras.values()),
                                    event_id=f"ev{next(self._ids)}", now=self.clock.now())
        self.book.add(event)
        log.info("event added event_id=%s kind=%s cameras=%s", event.event_id, event.kind, len(event.camera_ids))
        return event

    def _cached(self, key: tuple[Any, ...]) -> bytes | None:
        data = self._jpegs.get(key)
        if data is not None:
            self._jpegs.move_to_end(key)
            self.cache_hits += 1
        return data

    def _remember(self, key: tuple[Any, ...], data: bytes) -> None:
        self._jpegs[key] = data
        while len(self._jpegs) > self.cache_frames:
            self._jpegs.popitem(last=False)

    def render_jpeg(self, camera: FleetCamera, at: datetime, events: tuple[ScriptedEvent, ...]) -> bytes:
        """Blocking: render and encode (runs in the pool)."""
        data = encode_jpeg(self.renderer.render(camera, at, events))
        if any(e.kind is EventKind.CORRUPT for e in events):
            data = corrupt_jpeg(data, seed_of(self.seed, camera.camera_id, step_of(at)))
        return data

    async def snapshot(self, camera: FleetCamera, at: datetime, events: tuple[ScriptedEvent, ...]) -> bytes:
        frozen = next((e for e in events if e.kind is EventKind.FROZEN), None)
        if frozen is not None:  # the image stops at the moment the fault began
            at = frozen.start
            events = tuple(e for e in self.book.active_for(camera.camera_id, at) if e.kind is not EventKind.FROZEN)
            key: tuple[Any, ...] = ("frozen", frozen.event_id, camera.camera_id)
        else:
            key = (camera.camera_id, step_of(at), tuple(e.event_id for e in events))
        data = self._cached(key)
        if data is None:
            loop = asyncio.get_running_loop()
            data = await loop.run_in_executor(self.pool, self.render_jpeg, camera, at, events)
            self._remember(key, data)
        return data


def _reset_connection(request: web.Request) -> None:
    """Close with a TCP RST (SO_LINGER 0): the client sees 'connection reset by peer'."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def _fleet(request: web.Request) -> Fleet:
    return request.app[FLEET_KEY]


async def snapshot(request: web.Request) -> web.StreamResponse:
    fleet = _fleet(request)
    camera = fleet.cameras.get(request.match_info["camera_id"])
    if camera is None:
        raise web.HTTPNotFound(text=f"unknown camera {request.match_info['camera_id']!r}")
    at = fleet.clock.now()
    events = fleet.book.active_for(camera.camera_id, at)
    faults = {e.kind for e in events} & SERVER_FAULTS
    if faults:
        fleet.faults += 1
    if EventKind.OFFLINE in faults:
        _reset_connection(request)
        raise asyncio.CancelledError  # nothing more to send on a reset connection
    if EventKind.TIMEOUT in faults:
        await asyncio.sleep(HANG_S)
    if EventKind.HTTP_500 in faults:
        raise web.HTTPInternalServerError(text="camera encoder failure (simulated)")
    data = await fleet.snapshot(camera, at, events)
    fleet.served += 1
    return web.Response(body=data, content_type="image/jpeg",
                        headers={"X-Amur-Virtual-Time": at.isoformat(), "Cache-Control": "no-store"})


async def list_cameras(request: web.Request) -> web.Response:
    cameras = [{"camera_id": c.camera_id, "scene": c.scene.value, "width": c.width, "height": c.height,
                "lon": c.lon, "lat": c.lat, "cell_code": c.cell_code} for c in _fleet(request).cameras.values()]
    return web.json_response(cameras)


async def post_event(request: web.Request) -> web.Response:
    try:
        payload = await request.json()
        if not isinstance(payload, dict):
            raise InvalidEventRequest(f"body: expected a JSON object, got {type(payload).__name__}")
        event = _fleet(request).add_event(payload)
    except (InvalidEventRequest, ValueError) as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response(event.to_json(), status=201)


async def list_events(request: web.Request) -> web.Response:
    return web.json_response([e.to_json() for e in _fleet(request).book.all()])


async def delete_event(request: web.Request) -> web.Response:
    event_id = request.match_info.get("event_id")
    book = _fleet(request).book
    if event_id is None:
        book.clear()
        return web.json_response({"removed": "all"})
    if book.remove(event_id) is None:
        raise web.HTTPNotFound(text=f"unknown event {event_id!r}")
    return web.json_response({"removed": event_id})


async def truth(request: web.Request) -> web.Response:
    fleet = _fleet(request)
    camera_id = request.query.get("camera_id", "")
    if camera_id not in fleet.cameras:
        return web.json_response({"error": f"camera_id: unknown camera {camera_id!r}"}, status=400)
    try:
        at = datetime.fromisoformat(request.query["at"]) if "at" in request.query else fleet.clock.now()
    except ValueError:
        return web.json_response({"error": f"at: not an ISO 8601 time: {request.query['at']!r}"}, status=400)
    active = fleet.book.active_for(camera_id, at)
    return web.json_response({"camera_id": camera_id, "at": at.isoformat(),
                              "events": [{"event_id": e.event_id, "kind": e.kind.value, "intensity": e.intensity}
                                         for e in active]})


async def clock(request: web.Request) -> web.Response:
    fleet = _fleet(request)
    if request.method == "POST":
        payload = await request.json()
        try:
            at = datetime.fromisoformat(payload["at"]) if payload.get("at") else fleet.clock.now()
            fleet.clock.set(at, float(payload.get("speed", fleet.clock.speed)))
        except (InvalidEventRequest, ValueError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
    stats = fleet.stats()
    return web.json_response({"now": fleet.clock.now().isoformat(), "speed": fleet.clock.speed,
                              "served": stats.served, "cache_hits": stats.cache_hits, "faults": stats.faults})


FLEET_KEY: web.AppKey[Fleet] = web.AppKey("fleet", Fleet)


def build_web_app(fleet: Fleet) -> web.Application:
    app = web.Application()
    app[FLEET_KEY] = fleet
    app.router.add_get("/cameras", list_cameras)
    app.router.add_get("/cameras/{camera_id}/snapshot.jpg", snapshot)
    app.router.add_post("/control/events", post_event)
    app.router.add_get("/control/events", list_events)
    app.router.add_delete("/control/events", delete_event)
    app.router.add_delete("/control/events/{event_id}", delete_event)
    app.router.add_get("/control/truth", truth)
    app.router.add_route("*", "/control/clock", clock)

    async def close_pool(_: web.Application) -> None:
        fleet.pool.shutdown(wait=False, cancel_futures=True)

    app.on_cleanup.append(close_pool)
    return app


def load_fleet(seed: int, speed: float, start: datetime) -> Fleet:
    from gis.registry import load_cameras  # the camera registry of the sample

    cameras = fleet_from_registry(load_cameras(), seed=seed)
    return Fleet(cameras, seed=seed, clock=VirtualClock(start, speed))


def run_fleet(*, host: str, port: int, seed: int, speed: float, start: datetime) -> None:
    """Serve the sample's camera fleet on ``host:port`` until interrupted (blocking).

    Typed arguments only (vision/ reads no environment or flags): `amur sim cameras`
    (stream/sim/cameras.py) passes them. ``start`` is the virtual time at start-up
    and must carry a zone; ``speed`` is virtual seconds per wall second. A banner on
    stdout says when every panorama is rendered and the port is about to listen.
    """
    fleet = load_fleet(seed, speed, start)
    fleet.warm()
    print(f"simulated fleet: {len(fleet.cameras)} cameras on http://{host}:{port}/cameras/{{id}}/snapshot.jpg",
          flush=True)
    web.run_app(build_web_app(fleet), host=host, port=port, print=None, access_log=None, shutdown_timeout=2.0)
