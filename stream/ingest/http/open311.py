"""Open311 GeoReport v2 front door for grid workers and the public, on `amur ingest`.

Pure functions decide (catalogue, parsing, placing, routing, the GridEvent, the
request document, filters); :func:`add_open311_routes` wires them into the
ingest adapter's aiohttp app, reusing its Kafka producer and metrics. Every
endpoint answers ``.json`` and ``.xml`` (:mod:`stream.ingest.http.georeport`),
and every refusal is a GeoReport error list ``[{"code", "description"}]``.

The catalogue is generated from the responsibility list (``AMUR_DISPATCH_LIST``,
:mod:`stream.dispatch.catalogue`): one service per service code of an item. A
request is placed in its grid cell (or, given only ``address_string``, at the
county its address names) and routed to the item's department for that county,
with its deadlines; the GridEvent is on the grid-events topic before the 201.
Submitted requests live in Redis (``<redis_prefix>open311:``) so every adapter
process answers for all of them; their status is laid over from two hashes:
``open311:dispatch`` (the dispatch agent: accepted, re-routed, resolved,
closed ...) and ``open311:status`` (the incident a hazard report is evidence
of), the later update winning.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Generic, TypeVar

import orjson
import redis.asyncio as aioredis
from aiohttp import BodyPartReader, web
from aiokafka import AIOKafkaProducer

from gis.assign import CellIndex, assign_points
from stream import topics
from stream.dispatch.catalogue import Service, services
from stream.dispatch.gazetteer import Gazetteer, gazetteer, place_of_address
from stream.dispatch.responsibility import (
    DEPARTMENTS_CSV,
    ResponsibilityList,
    load_list,
    read_departments,
)
from stream.dispatch.routing import (
    Place,
    Routing,
    county_names,
    route,
)
from stream.errors import InvalidEvent
from stream.ingest.http.georeport import FORMATS, render
from stream.ingest.http.keys import guard_keys, key_refusal
from stream.ingest.intake import Rejection, dead_letter, raw_text
from stream.ingest.outcome import Outcome
from stream.runtime.metrics import Metrics
from stream.schemas import GridEvent, Hazard, encode
from stream.settings import Settings

SOURCE = "open311"
"""The ``source`` of every GridEvent and the metrics label of this front door."""
PLACE = "http:/open311/v2/requests"
"""What a dead letter from this front door names as the place it came in."""
DEFAULT_WINDOW = timedelta(days=90)  # GeoReport v2: start_date defaults to 90 days before end_date
MAX_RESULTS = 1000  # GeoReport v2: at most 1000 requests per GET requests
OPTIONAL_TEXT = ("address_string", "address_id", "email", "first_name", "last_name", "phone", "media_url",
                 "device_id")
#: Leading bytes of the image formats a report's photo may have, and the file extension kept.
IMAGE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "jpg"), (b"\x89PNG\r\n\x1a\n", "png"), (b"GIF87a", "gif"), (b"GIF89a", "gif"),
)


class Open311Error(InvalidEvent):
    """A refused Open311 call; ``status`` is the HTTP status (400, 403, 404, 413, 415)."""

    def __init__(self, reason: str, *, field: str | None, value: object | None, status: int = 400) -> None:
        super().__init__(reason, field=field, value=value)
        self.status = status

    def document(self) -> list[dict[str, object]]:
        return [{"code": self.status, "description": self.reason}]


@dataclass(frozen=True)
class ServiceRequest:
    """A parsed POST requests body (the api_key is checked apart and not kept)."""

    service_code: str
    lat: float | None
    lon: float | None
    description: str
    extra: tuple[tuple[str, str], ...] = ()
    """Optional GeoReport fields given (address_string, email, ...)."""

    @property
    def address(self) -> str | None:
        return dict(self.extra).get("address_string") or dict(self.extra).get("address_id")


@dataclass(frozen=True)
class Media:
    """A photo sent with a request: checked bytes and the extension of their format."""

    data: bytes
    extension: str


@dataclass(frozen=True)
class RequestFilter:
    ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None


def load_services(responsibilities: ResponsibilityList | None = None) -> dict[str, Service]:
    """The catalogue: every service code of the responsibility list (None: the bundled list)."""
    return services(responsibilities or load_list())


def service_document(service: Service) -> dict[str, object]:
    """One entry of GET services (GeoReport fields, then Amur's: zh name, item, departments, hazard, deadlines)."""
    item = service.item
    return {"service_code": service.service_code, "service_name": item.name_en,
            "description": service.description, "metadata": False, "type": "realtime",
            "keywords": item.name_zh, "group": item.category,
            "service_name_zh": item.name_zh, "item_code": item.code, "department": service.department,
            "departments_by_county": [{"county": c, "department": d} for c, d in item.departments.items()],
            "hazard": item.hazard.value if item.hazard else None,
            "accept_within_s": int(item.accept_within.total_seconds()),
            "resolve_within_s": int(item.resolve_within.total_seconds())}


def service_definition(service: Service) -> dict[str, object]:
    """GET services/{code}: the GeoReport definition (no extra attributes) with the service's own fields."""
    return {**service_document(service), "attributes": []}


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise Open311Error(f"format not supported: {fmt!r}; this server answers .json and .xml", field="format",
                           value=fmt)
    return fmt


def parse_api_keys(setting: str) -> frozenset[str]:
    return frozenset(key.strip() for key in setting.split(",") if key.strip())


def check_api_key(given: str | None, allowed: frozenset[str]) -> None:
    if not allowed:
        raise Open311Error("posting is disabled: no API keys are configured (AMUR_OPEN311_API_KEYS)",
                           field="api_key", value=None, status=403)
    if not given or not any(hmac.compare_digest(given.encode(), key.encode()) for key in allowed):
        raise Open311Error("api_key missing or not accepted", field="api_key", value=None, status=403)


def _coordinate(fields: Mapping[str, str], name: str, limit: float) -> float:
    raw = fields.get(name, "").strip()
    if not raw:
        raise Open311Error(f"{name} is required with {'long' if name == 'lat' else 'lat'}", field=name, value=raw)
    try:
        value = float(raw)
    except ValueError:
        raise Open311Error(f"{name}={raw!r} is not a number", field=name, value=raw) from None
    if not -limit <= value <= limit:  # also refuses nan
        raise Open311Error(f"{name}={raw} is outside -{limit:g}..{limit:g}", field=name, value=raw)
    return value


def parse_request(fields: Mapping[str, str], catalogue: Mapping[str, Service]) -> ServiceRequest:
    """A POST requests body (form fields or a flat JSON object, values as text)."""
    code = fields.get("service_code", "").strip()
    if code not in catalogue:
        raise Open311Error(f"service_code {code!r} is not in the catalogue (GET services.json)",
                           field="service_code", value=code)
    description = fields.get("description", "")
    if len(description) > 4000:
        raise Open311Error(f"description has {len(description)} characters, at most 4000", field="description",
                           value=description[:40])
    extra = tuple((name, fields[name].strip()) for name in OPTIONAL_TEXT if fields.get(name, "").strip())
    located = fields.get("lat", "").strip() or fields.get("long", "").strip()
    if not located and not any(name in ("address_string", "address_id") for name, _ in extra):
        raise Open311Error("no location and no address: send lat and long, or address_string", field="lat",
                           value="")
    if not located:
        return ServiceRequest(code, None, None, description, extra)
    return ServiceRequest(code, _coordinate(fields, "lat", 90.0), _coordinate(fields, "long", 180.0),
                          description, extra)


def check_media(data: bytes, limit: int) -> Media:
    """A photo's bytes, if an image (JPEG, PNG, GIF, by content) of at most ``limit`` bytes."""
    if len(data) > limit:
        raise Open311Error(f"media has more than {limit} bytes", field="media", value=len(data), status=413)
    extension = next((ext for magic, ext in IMAGE_MAGIC if data.startswith(magic)), None)
    if extension is None:
        raise Open311Error("media is not an image (JPEG, PNG or GIF)", field="media", value=data[:8].hex(),
                           status=415)
    return Media(data, extension)


def place_request(request: ServiceRequest, cells: CellIndex | None, names: Mapping[str, tuple[str, ...]],
                  places: Gazetteer | None = None) -> Place:
    """The cell of a located request (outside the city: refused); else the village or township its address names
    (``places``), else the county, else the city."""
    if request.lat is not None and request.lon is not None and cells is not None:
        return Place(cell_of(cells, request.lon, request.lat))
    return place_of_address(request.address or "", names, places)


def grid_event(request: ServiceRequest, service: Service, place: Place, routing: Routing, report_id: str,
               now: datetime) -> GridEvent:
    return GridEvent(source=SOURCE, event_time=now, report_id=report_id, service_code=request.service_code,
                     description=request.description, lon=request.lon, lat=request.lat,
                     cell_code=place.code if place.county else None, department=routing.department,
                     item_code=service.item.code, hazard=service.hazard or Hazard.OTHER, address=request.address)


def request_document(event: GridEvent, service: Service, notice: str, routing: Routing,
                     media_url: str | None = None) -> dict[str, object]:
    """The stored and served GeoReport request (plus Amur's cell_code and item_code)."""
    when = event.event_time.isoformat(timespec="seconds")
    expected = routing.resolve_by.isoformat(timespec="seconds") if routing.resolve_by else None
    return {"service_request_id": event.report_id, "status": "open", "status_notes": None,
            "service_name": service.item.name_en, "service_code": service.service_code,
            "description": event.description, "agency_responsible": event.department, "service_notice": notice,
            "requested_datetime": when, "updated_datetime": when, "expected_datetime": expected,
            "address": event.address, "address_id": None, "zipcode": None, "lat": event.lat, "long": event.lon,
            "media_url": media_url, "cell_code": event.cell_code, "item_code": service.item.code}


def with_status(document: Mapping[str, Any], *statuses: bytes | None) -> dict[str, Any]:
    """A stored request with its statuses laid over, the later ``updated_datetime`` last (so it wins):
    the dispatch agent's (``open311:dispatch``) and the incident's (``open311:status``, see
    ``stream.screens.projection.report_status``); as stored (open) while neither has spoken."""
    found = sorted((orjson.loads(s) for s in statuses if s), key=lambda s: s.get("updated_datetime") or "")
    out = dict(document)
    for status in found:
        out.update(status)
    return out


def service_notice(routing: Routing, place: Place, department_names: Mapping[str, str]) -> str:
    if routing.department is None:
        return f"with the dispatcher ({routing.queue_reason}) for {place.code}"
    name = department_names.get(routing.department, routing.department)
    where = f"grid cell {place.code}" if len(place.code) == 15 else f"county {place.code}"
    accept = routing.accept_by.isoformat(timespec="minutes") if routing.accept_by else "-"
    resolve = routing.resolve_by.isoformat(timespec="minutes") if routing.resolve_by else "-"
    return f"routed to {name} for {where}; accepted by {accept}, resolved by {resolve}"


def _aware(query: Mapping[str, str], name: str) -> datetime | None:
    raw = query.get(name, "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(f"{name}={raw!r} is not an ISO 8601 time", field=name, value=raw) from None
    if value.tzinfo is None:
        raise Open311Error(f"{name}={raw!r} has no time zone", field=name, value=raw)
    return value


def _listed(query: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in query.get(name, "").split(",") if part.strip())


def parse_filter(query: Mapping[str, str], now: datetime) -> RequestFilter:
    """GET requests parameters; ids override everything, else the window defaults to the last 90 days."""
    ids = _listed(query, "service_request_id")
    if ids:
        return RequestFilter(ids=ids)
    statuses = _listed(query, "status")
    for status in statuses:
        if status not in ("open", "closed"):
            raise Open311Error(f"status {status!r} is neither open nor closed", field="status", value=status)
    end = _aware(query, "end_date") or now
    start = _aware(query, "start_date") or end - DEFAULT_WINDOW
    if start > end:
        raise Open311Error(f"start_date {start.isoformat()} is after end_date {end.isoformat()}",
                           field="start_date", value=start.isoformat())
    return RequestFilter((), _listed(query, "service_code"), statuses, start, end)


def select_requests(documents: Iterable[Mapping[str, Any]], wanted: RequestFilter) -> list[Mapping[str, Any]]:
    """The matching request documents, newest first, at most MAX_RESULTS."""
    def keep(doc: Mapping[str, Any]) -> bool:
        if wanted.ids:
            return doc["service_request_id"] in wanted.ids
        when = datetime.fromisoformat(doc["requested_datetime"])
        return ((not wanted.service_codes or doc["service_code"] in wanted.service_codes)
                and (not wanted.statuses or doc["status"] in wanted.statuses)
                and (wanted.start is None or when >= wanted.start) and (wanted.end is None or when <= wanted.end))
    chosen = sorted((d for d in documents if keep(d)), key=lambda d: d["requested_datetime"], reverse=True)
    return chosen[:MAX_RESULTS]


def load_cell_index(manifest: Path | None = None) -> CellIndex:
    """The cell layer of a layer set (None: the bundled Heihe sample) in WGS84, as an STRtree."""
    from gis.crs import WGS84
    from gis.layers import DEFAULT_MANIFEST, read_layer, read_manifest

    spec = next(s for s in read_manifest(manifest or DEFAULT_MANIFEST).layers if s.role == "cell")
    cells = read_layer(spec).to_crs(WGS84)
    return CellIndex.build(cells[spec.id_field].astype(str).to_numpy(), cells.geometry.to_numpy())


def load_county_names(manifest: Path | None = None) -> dict[str, tuple[str, ...]]:
    """County code -> the names an address may call it, from the layer set's county layer."""
    from gis.layers import DEFAULT_MANIFEST, read_layer, read_manifest

    spec = next(s for s in read_manifest(manifest or DEFAULT_MANIFEST).layers if s.role == "county")
    layer = read_layer(spec)
    return county_names({str(r[spec.id_field]): (str(r.get("name", "")), str(r.get("name_zh", "")))
                         for _, r in layer.iterrows()})


def load_gazetteer(manifest: Path | None = None) -> Gazetteer:
    """The township and village names of a layer set (None: the bundled Heihe sample), for placing addresses."""
    from gis.layers import DEFAULT_MANIFEST, read_layer, read_manifest

    specs = {s.role: s for s in read_manifest(manifest or DEFAULT_MANIFEST).layers}

    def names(role: str) -> dict[str, tuple[str, str]]:
        if role not in specs:  # a layer set without villages places addresses at townships at most
            return {}
        layer = read_layer(specs[role])
        return {str(r[specs[role].id_field]): (str(r.get("name") or ""), str(r.get("name_zh") or ""))
                for _, r in layer.iterrows()}

    return gazetteer(names("township"), names("village"))


T = TypeVar("T")


class LazyLoaded(Generic[T]):
    """Something read from the GIS layers, loaded in a thread on first use and shared by the front doors."""

    def __init__(self, load: Callable[[], T]) -> None:
        self._load = load
        self._value: T | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> T:
        async with self._lock:
            if self._value is None:
                self._value = await asyncio.to_thread(self._load)
        return self._value


class LazyCells(LazyLoaded[CellIndex]):
    """The cell index of a layer set (about 2 s for the sample)."""

    def __init__(self, manifest: Path | None) -> None:
        super().__init__(lambda: load_cell_index(manifest))
        self.manifest = manifest


class ReportIds:
    """``311-<n>`` ids unique across adapter processes: each process reserves a block of ``n`` from one Redis
    counter (``INCRBY``) and hands it out, one Redis round trip per block instead of per request."""

    def __init__(self, redis: aioredis.Redis, key: str, block: int = 100) -> None:
        self.redis, self.key, self.block = redis, key, block
        self._next, self._end = 0, 0
        self._lock = asyncio.Lock()

    async def next(self) -> str:
        async with self._lock:
            if self._next >= self._end:
                self._end = int(await self.redis.incrby(self.key, self.block)) + 1
                self._next = self._end - self.block
            self._next += 1
            return f"311-{self._next - 1}"


def cell_of(index: CellIndex, lon: float, lat: float) -> str:
    """The grid cell holding the point; a point in no cell (outside the city) is refused naming lat/long."""
    assignment = assign_points(index, [lon], [lat])
    if assignment.outside[0]:
        raise Open311Error(f"lat={lat:g} long={lon:g} lies outside every grid cell of the city",
                           field="lat/long", value=f"{lat:g},{lon:g}")
    return str(assignment.cell_code[0])


def load_department_names(path: Path = DEPARTMENTS_CSV) -> dict[str, str]:
    return {dept: f"{zh} ({en})" for dept, (en, zh) in read_departments(path).items()}


# --------------------------------------------------------------------------- HTTP


async def _multipart(request: web.Request, max_media: int) -> tuple[dict[str, str], Media | None]:
    """Text fields and the ``media`` photo of a multipart body, reading at most ``max_media`` + 1 photo bytes."""
    fields: dict[str, str] = {}
    media: Media | None = None
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or not part.name:
            continue
        if part.filename is None:
            fields[part.name] = (await part.read(decode=True)).decode(part.get_charset("utf-8"), "replace")
            continue
        if part.name != "media":
            raise Open311Error(f"file field {part.name!r} is not taken; send the photo as media", field=part.name,
                               value=part.filename)
        data = bytearray()
        while chunk := await part.read_chunk(64 * 1024):
            data += chunk
            if len(data) > max_media:
                raise Open311Error(f"media has more than {max_media} bytes", field="media", value=part.filename,
                                   status=413)
        media = check_media(bytes(data), max_media)
    return fields, media


async def _fields(request: web.Request, max_media: int) -> tuple[dict[str, str], Media | None]:
    """Form-encoded or multipart fields (with the photo), or a flat JSON object; values as text."""
    if request.content_type == "application/json":
        try:
            doc = orjson.loads(await request.read())
        except orjson.JSONDecodeError as exc:
            raise Open311Error(f"body is not valid JSON: {exc}", field="body", value=None) from None
        if not isinstance(doc, dict):
            raise Open311Error("JSON body must be an object of GeoReport fields", field="body",
                               value=type(doc).__name__)
        return {k: "" if v is None else str(v) for k, v in doc.items()}, None
    try:
        if request.content_type == "multipart/form-data":
            return await _multipart(request, max_media)
        return {k: v for k, v in (await request.post()).items() if isinstance(v, str)}, None
    except Open311Error:
        raise
    except ValueError as exc:  # aiohttp's parsers: no boundary, a broken part, undecodable text
        raise Open311Error(f"body is not valid {request.content_type}: {exc}", field="body",
                           value=request.content_type) from None


def _answer(kind: str, docs: list[Mapping[str, object]], fmt: str, status: int = 200) -> web.Response:
    body, content_type = render(kind, docs, fmt)
    return web.Response(body=body, status=status, content_type=content_type, charset="utf-8")


def add_open311_routes(app: web.Application, settings: Settings, producer: AIOKafkaProducer, metrics: Metrics,
                       *, responsibilities: ResponsibilityList | None = None, cells: LazyCells | None = None,
                       counties: Mapping[str, tuple[str, ...]] | None = None,
                       places: LazyLoaded[Gazetteer] | None = None) -> None:
    """Serve ``/open311/v2/...`` on ``app``; POSTs go to the grid-events topic through ``producer``.

    The responsibility list is loaded here unless given, at start-up: a broken list stops the adapter.
    """
    listed = responsibilities or load_list(settings.dispatch_list, manifest=settings.gis_manifest)
    catalogue = load_services(listed)
    departments = load_department_names()
    counties = counties if counties is not None else load_county_names(settings.gis_manifest)
    cells = cells or LazyCells(settings.gis_manifest)
    keys = parse_api_keys(settings.open311_api_keys.get_secret_value())
    guard_keys(app)
    grid_topic = topics.topic_name(topics.GRID_EVENTS, settings.drill_id)
    dlq_topic = topics.topic_name(topics.DEAD_LETTER, settings.drill_id)
    prefix = settings.redis_prefix + "open311:"
    media_dir = settings.open311_media_dir / (settings.drill_id or "live")
    redis = aioredis.from_url(settings.redis_url or f"redis://127.0.0.1:{settings.embedded_redis_port}/0")
    report_ids = ReportIds(redis, prefix + "next_id")

    def fmt_of(request: web.Request) -> str:
        fmt = request.match_info["format"]
        return fmt if fmt in FORMATS else "json"

    async def refuse(request: web.Request, exc: Open311Error, raw: Mapping[str, str] | None = None,
                     kind: str = "errors") -> web.Response:
        metrics.count(SOURCE, Outcome.REJECTED)
        if raw is not None:  # authorised but invalid: dead-lettered like every refused input (key removed)
            now = datetime.now(timezone.utc).timestamp()
            body = raw_text(orjson.dumps({k: v for k, v in raw.items() if k != "api_key"}))
            await producer.send_and_wait(dlq_topic, key=SOURCE.encode(),
                                         value=encode(dead_letter(Rejection(SOURCE, exc, body), PLACE, now)))
            metrics.count(SOURCE, Outcome.DEAD_LETTERED)
        return _answer(kind, exc.document(), fmt_of(request), exc.status)

    async def services_list(request: web.Request) -> web.Response:
        try:
            fmt = check_format(request.match_info["format"])
        except Open311Error as exc:
            return await refuse(request, exc)
        return _answer("services", [service_document(s) for s in catalogue.values()], fmt)

    async def service_one(request: web.Request) -> web.Response:
        code = request.match_info["service_code"]
        try:
            fmt = check_format(request.match_info["format"])
            if code not in catalogue:
                raise Open311Error(f"service_code {code!r} is not in the catalogue", field="service_code",
                                   value=code, status=404)
        except Open311Error as exc:
            return await refuse(request, exc)
        return _answer("service_definition", [service_definition(catalogue[code])], fmt)

    async def post_request(request: web.Request) -> web.Response:
        fields: dict[str, str] | None = None
        try:
            fmt = check_format(request.match_info["format"])
            fields, media = await _fields(request, settings.open311_max_media_bytes)
            refusal = key_refusal(request, fields.get("api_key") or request.query.get("api_key"), keys,
                                  "AMUR_OPEN311_API_KEYS", time.monotonic())
            if refusal is not None:
                raise Open311Error(refusal[1], field="api_key", value=None, status=refusal[0])
        except Open311Error as exc:
            return await refuse(request, exc)
        try:
            parsed = parse_request(fields, catalogue)
            located = parsed.lat is not None
            named = await places.get() if places is not None and not located and parsed.address else None
            place = place_request(parsed, await cells.get() if located else None, counties, named)
        except Open311Error as exc:
            return await refuse(request, exc, fields)
        service = catalogue[parsed.service_code]
        now = datetime.now(timezone.utc)
        routing = route(listed, service.item, place, now)
        report_id = await report_ids.next()
        media_url = None
        if media is not None:
            name = f"{report_id}.{media.extension}"
            await asyncio.to_thread(_store, media_dir / name, media.data)
            media_url = f"/open311/v2/media/{name}"
        event = grid_event(parsed, service, place, routing, report_id, now)
        notice = service_notice(routing, place, departments)
        document = orjson.dumps(request_document(event, service, notice, routing, media_url))
        await asyncio.gather(  # both done before the 201: on the topic, and answerable by GET
            producer.send_and_wait(grid_topic, key=place.code.encode(), value=encode(event)),
            redis.hset(prefix + "requests", report_id, document))
        metrics.count(SOURCE, Outcome.ACCEPTED)
        return _answer("requests", [{"service_request_id": report_id, "service_notice": notice,
                                     "account_id": None}], fmt, 201)

    async def stored(ids: list[str]) -> list[dict[str, Any]]:
        found = zip(await redis.hmget(prefix + "requests", ids), await redis.hmget(prefix + "dispatch", ids),
                    await redis.hmget(prefix + "status", ids))
        return [with_status(orjson.loads(d), dispatched, status) for d, dispatched, status in found if d is not None]

    async def get_requests(request: web.Request) -> web.Response:
        try:
            fmt = check_format(request.match_info["format"])
            wanted = parse_filter(request.query, datetime.now(timezone.utc))
        except Open311Error as exc:
            return await refuse(request, exc)
        if wanted.ids:
            documents = await stored(list(wanted.ids))
        else:
            dispatched, statuses = await redis.hgetall(prefix + "dispatch"), await redis.hgetall(prefix + "status")
            documents = [with_status(orjson.loads(d), dispatched.get(request_id), statuses.get(request_id))
                         for request_id, d in (await redis.hgetall(prefix + "requests")).items()]
        return _answer("requests", select_requests(documents, wanted), fmt)

    async def get_request(request: web.Request) -> web.Response:
        request_id = request.match_info["request_id"]
        try:
            fmt = check_format(request.match_info["format"])
            found = await stored([request_id])
            if not found:
                raise Open311Error(f"service_request_id {request_id!r} not found", field="service_request_id",
                                   value=request_id, status=404)
        except Open311Error as exc:
            return await refuse(request, exc)
        return _answer("requests", found, fmt)

    async def get_token(request: web.Request) -> web.Response:
        # POST answers with the service_request_id at once: a token is that id
        token = request.match_info["token"]
        try:
            fmt = check_format(request.match_info["format"])
            if not await redis.hexists(prefix + "requests", token):
                raise Open311Error(f"token {token!r} not found", field="token", value=token, status=404)
        except Open311Error as exc:
            return await refuse(request, exc)
        return _answer("requests", [{"service_request_id": token, "token": token}], fmt)

    async def get_media(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        path = media_dir / name
        if not path.is_file():
            return _answer("errors", [{"code": 404, "description": f"media {name!r} not found"}], "json", 404)
        return web.FileResponse(path)

    async def close_redis(app: web.Application) -> None:
        await redis.aclose()

    app.on_cleanup.append(close_redis)
    base = "/open311/v2"
    app.add_routes([
        web.get(base + "/services.{format}", services_list),
        web.get(base + "/services/{service_code:[^/.]+}.{format}", service_one),
        web.post(base + "/requests.{format}", post_request),
        web.get(base + "/requests.{format}", get_requests),
        web.get(base + "/requests/{request_id:[^/.]+}.{format}", get_request),
        web.get(base + "/tokens/{token:[^/.]+}.{format}", get_token),
        web.get(base + "/media/{name:[A-Za-z0-9-]+\\.(?:jpg|png|gif)}", get_media),
    ])


def _store(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
