"""REST beside the websocket (aiohttp): the page, health, metrics, incidents, CAP, thumbnails.

Read endpoints that show incidents or pictures need ``Authorization: Bearer
<token>`` and answer within the token's scope; health, metrics, the OpenAPI
description, the page and its map layers are open on the loopback address.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from command_ui.errors import AuthError
from command_ui.hub import Hub
from command_ui.inventory import WallCameras
from command_ui.live import CLAIM_S, CONTENT_TYPE, LivePolicy, LiveStreams, camera_in_scope, pump
from command_ui.mapdata import PageData
from command_ui.openapi import OPENAPI
from command_ui.scope import incident_in_scope, request_in_scope
from command_ui.tokens import Claims, verify
from command_ui.view import camera_fault, select_requests
from stream import schemas
from stream.errors import AmurError
from stream.incidents import cap
from stream.incidents.places import PlaceIndex
from stream.screens.projection import Channel

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent / "web"
STATIC_DIR = WEB_DIR / "static"
VENDOR_FILES = {"echarts.min.js": WEB_DIR / "node_modules" / "echarts" / "dist" / "echarts.min.js"}
CAMERA_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
CAP_SENDER = "amur@heihe.local"
CAP_ZONE = ZoneInfo("Asia/Shanghai")
"""Defaults; the gateway passes AMUR_CAP_SENDER / AMUR_CAP_TIMEZONE."""
MAX_INCIDENTS = 1000
SERIES_POINTS = 2000


def json_response(value: object, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(value), status=status, content_type="application/json")


def problem(status: int, code: str, detail: str) -> web.Response:
    return json_response({"code": code, "detail": detail}, status)


def authenticated(handler: Callable[[Any, web.Request, Claims], Awaitable[web.Response]]
                  ) -> Callable[[Any, web.Request], Awaitable[web.Response]]:
    """A handler that needs a valid operator token: called with its claims, or answered 401."""
    @functools.wraps(handler)
    async def checked(self: Any, request: web.Request) -> web.Response:
        try:
            claims = self.claims(request)
        except AuthError as exc:
            return problem(401, "unauthorized", str(exc))
        return await handler(self, request, claims)

    return checked


REQUEST_STATUSES = frozenset(s.value for s in schemas.RequestStatus)


def request_filters(query: Mapping[str, str]) -> dict[str, Any]:
    """The ``/api/requests`` filters of a query; :class:`ValueError` names a bad parameter and its value."""
    status, overdue, queue = query.get("status", ""), query.get("overdue", ""), query.get("queue", "")
    if status and status not in REQUEST_STATUSES:
        raise ValueError(f"status must be one of {sorted(REQUEST_STATUSES)}, got {status!r}")
    if overdue not in ("", "true", "false"):
        raise ValueError(f"overdue must be true or false, got {overdue!r}")
    if queue not in ("", "dispatcher"):
        raise ValueError(f"queue must be dispatcher, got {queue!r}")
    return {"status": status, "department": query.get("department", ""),
            "overdue": None if not overdue else overdue == "true", "queue": True if queue else None}


def query_limit(query: Mapping[str, str]) -> int:
    """``limit`` clamped to 1..MAX_INCIDENTS; :class:`ValueError` naming the value when it is no integer."""
    try:
        return min(MAX_INCIDENTS, max(1, int(query.get("limit", MAX_INCIDENTS))))
    except ValueError:
        raise ValueError(f"limit must be an integer, got {query.get('limit')!r}") from None


class RestApi:
    def __init__(self, hub: Hub, maps: PageData, secret: str, registry: CollectorRegistry, ws_port: int,
                 camera_ids: frozenset[str], clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 cap_sender: str = CAP_SENDER, cap_zone: ZoneInfo = CAP_ZONE,
                 cap_places: Callable[[], PlaceIndex] | None = None, ws_url: str = "",
                 camera_cells: Mapping[str, str] | None = None,
                 live: LivePolicy = LivePolicy(fps=2.0, max_streams=16),
                 claim: Callable[[str, float, datetime | None], Awaitable[None]] | None = None,
                 inventory: WallCameras | None = None):
        self.camera_cells = camera_cells
        self.inventory = inventory
        """The registry's cameras plus the inventory's channels (None: the registry's only, from ``maps``)."""
        """Camera -> its grid cell, for the scope rule of pictures (None: every camera is in every scope)."""
        self.live = LiveStreams(live)
        self.claim = claim
        """Claims a camera at the sampler: (camera id, priority, until); priority 0 withdraws."""
        self.cap_sender, self.cap_zone = cap_sender, cap_zone
        self._load_places = cap_places
        """Loads the cell outlines and place names of the CAP ``<area>`` (as `amur alerts cap` does)."""
        self._places: asyncio.Task[PlaceIndex] | None = None
        self.hub = hub
        self.maps = maps
        self.secret = secret
        self.registry = registry
        self.ws_port = ws_port
        self.ws_url = ws_url
        """Where the page opens the websocket behind a proxy; empty = the page's host at ``ws_port``."""
        self.camera_ids = camera_ids
        self.clock = clock

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024)
        app.add_routes([
            web.get("/", self.index),
            web.get("/config.json", self.config),
            web.get("/vendor/{name}", self.vendor),
            web.get("/api/health", self.health),
            web.get("/metrics", self.metrics),
            web.get("/openapi.json", self.openapi),
            web.get("/api/map", self.map_layers),
            web.get("/api/cameras", self.cameras),
            web.get("/api/gauges", self.gauges),
            web.get("/api/departments", self.departments),
            web.get("/api/gauges/{gauge_id}/series", self.gauge_series),
            web.get("/api/incidents", self.incidents),
            web.get("/api/requests", self.requests),
            web.get("/api/cap", self.cap_feed),
            web.get("/api/cameras/{camera_id}/thumbnail", self.thumbnail),
            web.get("/api/cameras/{camera_id}/live", self.live_view),
        ])
        app.router.add_static("/static/", STATIC_DIR)
        return app

    # ------------------------------------------------------------------ page and open endpoints

    async def index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC_DIR / "index.html")

    async def config(self, request: web.Request) -> web.Response:
        return json_response({"ws_port": self.ws_port, "ws_url": self.ws_url or None})

    async def vendor(self, request: web.Request) -> web.StreamResponse:
        path = VENDOR_FILES.get(request.match_info["name"])
        if path is None or not path.is_file():
            return problem(404, "not_found", f"no vendored file {request.match_info['name']!r} (run make web)")
        return web.FileResponse(path)

    async def health(self, request: web.Request) -> web.Response:
        try:
            redis_ok = bool(await self.hub.client.ping())
        except Exception as exc:  # noqa: BLE001 - health reports any failure
            log.warning("health: redis unreachable error=%s", exc)
            redis_ok = False
        body = {"status": "ok" if redis_ok else "degraded", "redis": redis_ok,
                "clients": len(self.hub.sessions), "seq": {c.value: n for c, n in self.hub.mirror.head.items()}}
        return json_response(body, 200 if redis_ok else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def openapi(self, request: web.Request) -> web.Response:
        return json_response(OPENAPI)

    async def map_layers(self, request: web.Request) -> web.Response:
        return web.Response(body=self.maps.layers, content_type="application/json")

    async def cameras(self, request: web.Request) -> web.Response:
        body = self.inventory.body if self.inventory is not None else self.maps.cameras
        return web.Response(body=body, content_type="application/json")

    async def gauges(self, request: web.Request) -> web.Response:
        return web.Response(body=self.maps.gauges, content_type="application/json")

    async def departments(self, request: web.Request) -> web.Response:
        return web.Response(body=self.maps.departments, content_type="application/json")

    async def gauge_series(self, request: web.Request) -> web.Response:
        gauge_id = request.match_info["gauge_id"]
        if not CAMERA_ID.match(gauge_id):
            return problem(400, "invalid", f"gauge id {gauge_id!r} is not an identifier")
        keys = self.hub.keys
        raw = await self.hub.client.xrevrange(keys.gauge_series(gauge_id), count=SERIES_POINTS)
        crests = await self.hub.client.xrevrange(keys.crest_series(gauge_id), count=50)
        observed = [[f[b"t"].decode(), float(f[b"stage"])] for _, f in reversed(raw)]
        state = self.hub.mirror.state
        forecast = state[Channel.FORECASTS].get(gauge_id)
        return json_response({
            "gauge_id": gauge_id, "observed": observed,
            "crests": [orjson.Fragment(f[b"d"]) for _, f in reversed(crests)],
            "forecast": orjson.Fragment(forecast) if forecast else None,
        })

    # ------------------------------------------------------------------ scoped endpoints

    def claims(self, request: web.Request) -> Claims:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            raise AuthError("missing Authorization: Bearer token")
        return verify(self.secret, header.removeprefix("Bearer ").strip(), now=self.clock())

    def _scoped_incidents(self, claims: Claims) -> list[schemas.IncidentChanged]:
        found = (schemas.decode(schemas.IncidentChanged, d) for d in self.hub.mirror.state[Channel.INCIDENTS].values())
        return [i for i in found if incident_in_scope(claims.scope, i)]

    @authenticated
    async def incidents(self, request: web.Request, claims: Claims) -> web.Response:
        """?state=open|<state>&colour=<colour>&hazard=<hazard>&limit=N, newest first."""
        query = request.query
        wanted_state = query.get("state", "")
        incidents = self._scoped_incidents(claims)
        if wanted_state == "open":
            incidents = [i for i in incidents if i.state not in (schemas.IncidentState.RESOLVED,
                                                                   schemas.IncidentState.EXPIRED)]
        elif wanted_state:
            incidents = [i for i in incidents if i.state.value == wanted_state]
        for name in ("colour", "hazard"):
            if query.get(name):
                incidents = [i for i in incidents if getattr(i, name).value == query[name]]
        try:
            limit = query_limit(query)
        except ValueError as exc:
            return problem(400, "invalid", str(exc))
        incidents.sort(key=lambda i: i.event_time, reverse=True)
        return json_response([schemas.to_builtins(i) for i in incidents[:limit]])

    @authenticated
    async def requests(self, request: web.Request, claims: Claims) -> web.Response:
        """?status=<status>&department=<id>&overdue=true|false&queue=dispatcher&limit=N: open requests in scope."""
        query = request.query
        try:
            filters, limit = request_filters(query), query_limit(query)
        except ValueError as exc:
            return problem(400, "invalid", str(exc))
        found = (schemas.decode(schemas.RequestChanged, d) for d in self.hub.mirror.state[Channel.REQUESTS].values())
        scoped = [r for r in found if request_in_scope(claims.scope, r)]
        return json_response([schemas.to_builtins(r) for r in select_requests(scoped, **filters)[:limit]])

    @authenticated
    async def cap_feed(self, request: web.Request, claims: Claims) -> web.Response:
        try:
            places = await self.cap_places()
        except (AmurError, OSError) as exc:
            log.error("cap feed: places not loaded error=%s", exc)
            return problem(503, "places_unavailable", f"cell outlines could not be loaded: {exc}")
        feed = cap.cap_feed(self._scoped_incidents(claims), self.clock(), sender=self.cap_sender, zone=self.cap_zone,
                            outlines=places.outline if places else None, place_name=places.name if places else None)
        return web.Response(text=feed, content_type="application/atom+xml")

    async def cap_places(self) -> PlaceIndex | None:
        """The place index, loaded once in a thread on the first CAP request (the GIS layers take seconds)."""
        if self._load_places is None:
            return None
        if self._places is None:
            self._places = asyncio.ensure_future(asyncio.to_thread(self._load_places))
        return await asyncio.shield(self._places)

    def _camera(self, request: web.Request) -> tuple[str, web.Response | None]:
        """The requested camera if the token may see it; else the problem to answer."""
        try:
            claims = self.claims(request)
        except AuthError as exc:
            return "", problem(401, "unauthorized", str(exc))
        camera_id = request.match_info["camera_id"]
        known = camera_id in self.camera_ids or (self.inventory is not None and self.inventory.known(camera_id))
        if not CAMERA_ID.match(camera_id) or not known:
            return camera_id, problem(404, "unknown_camera", f"no camera {camera_id[:64]!r}")
        cell_of = self.inventory.cell if self.inventory is not None else \
            self.camera_cells.get if self.camera_cells is not None else None
        if cell_of is not None and not camera_in_scope(claims.scope, cell_of(camera_id)):
            return camera_id, problem(403, "out_of_scope", f"camera {camera_id!r} is outside scope {claims.scope!r}")
        return camera_id, None

    def _fault(self, camera_id: str) -> str | None:
        state = self.hub.mirror.state
        return camera_fault(state[Channel.CAMERAS].get(camera_id), state[Channel.CAMERA_FAULTS].get(camera_id),
                            now=self.clock(), hold_s=self.hub.fault_hold_s)

    async def live_view(self, request: web.Request) -> web.StreamResponse:
        """The camera's sampled frames as MJPEG while watched (:mod:`command_ui.live`); its fault ends the stream."""
        camera_id, refused = self._camera(request)
        if refused is not None:
            return refused
        if not self.live.acquire(camera_id):
            return problem(503, "live_view_full",
                           f"{self.live.policy.max_streams} live views are open (gateway_live_max_streams)")
        # no-store: camera pictures never land in a cache. Chromium reports such a streamed response as
        # net::ERR_ABORTED to DevTools when it ends, although the page has read it all (test_ui_live_browser.py)
        response = web.StreamResponse(headers={"Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"})
        renew: asyncio.Task[None] | None = None
        try:
            await response.prepare(request)
            if self.claim is not None:
                renew = asyncio.create_task(self._keep_claimed(camera_id))

            async def read() -> bytes | None:
                return await self.hub.client.get(self.hub.keys.thumbnail(camera_id))

            await pump(response.write, read, lambda: self._fault(camera_id), self.live.policy.fps,
                       closed=lambda: request.transport is None or request.transport.is_closing())
        except (ConnectionError, asyncio.CancelledError):
            pass  # the page stopped watching
        finally:
            self.live.release(camera_id)
            if renew is not None:
                renew.cancel()
            if self.claim is not None and not self.live.watched(camera_id):
                await asyncio.shield(self._claim_safely(camera_id, 0.0, None))
        return response

    async def _keep_claimed(self, camera_id: str) -> None:
        while True:
            until = self.clock() + timedelta(seconds=CLAIM_S)
            await self._claim_safely(camera_id, 100.0, until)
            await asyncio.sleep(CLAIM_S / 3)

    async def _claim_safely(self, camera_id: str, priority: float, until: datetime | None) -> None:
        try:
            assert self.claim is not None
            await self.claim(camera_id, priority, until)
        except Exception as exc:  # noqa: BLE001 - a live view without a raised priority is still a view
            log.warning("live view claim not sent camera=%s priority=%s error=%r", camera_id, priority, exc)

    async def thumbnail(self, request: web.Request) -> web.Response:
        """The latest JPEG of a camera in scope; 409 with the fault when faulty; 204 when no recent frame."""
        camera_id, refused = self._camera(request)
        if refused is not None:
            return refused
        fault = self._fault(camera_id)
        if fault is not None:
            return problem(409, "camera_fault", fault)
        jpeg = await self.hub.client.get(self.hub.keys.thumbnail(camera_id))
        if not jpeg:  # a known, healthy camera whose last frame has aged out: nothing to show, not an error
            return web.Response(status=204, headers={"Cache-Control": "no-store"})
        return web.Response(body=jpeg, content_type="image/jpeg", headers={"Cache-Control": "no-store"})
