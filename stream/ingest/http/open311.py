"""Open311 GeoReport v2 front door for grid workers and the public, on `amur ingest`.

Pure functions decide (catalogue, parsing, cell assignment, the GridEvent, the
request document, filters); :func:`add_open311_routes` wires them into the
ingest adapter's aiohttp app, reusing its Kafka producer and metrics. Submitted
requests live in Redis (``<redis_prefix>open311:``) so every adapter process
answers for all of them; their status (open, then closed) is the projection's
``open311:status`` entry, written as the incident a request is evidence of
changes (``stream.screens.projection.report_status``). Only the ``.json`` format is served.
"""

from __future__ import annotations

import asyncio
import csv
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import redis.asyncio as aioredis
from aiohttp import web
from aiokafka import AIOKafkaProducer

from gis.assign import CellIndex, assign_points
from stream import topics
from stream.errors import InvalidEvent
from stream.ingest.intake import Rejection, dead_letter, raw_text
from stream.ingest.outcome import Outcome
from stream.runtime.metrics import Metrics
from stream.schemas import GridEvent, Hazard, encode
from stream.settings import Settings

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
SERVICES_CSV = DATA_DIR / "open311_services.csv"
DEPARTMENTS_CSV = DATA_DIR / "departments.csv"
SOURCE = "open311"
"""The ``source`` of every GridEvent and the metrics label of this front door."""
PLACE = "http:/open311/v2/requests"
"""What a dead letter from this front door names as the place it came in."""
DEFAULT_WINDOW = timedelta(days=90)  # GeoReport v2: start_date defaults to 90 days before end_date
MAX_RESULTS = 1000  # GeoReport v2: at most 1000 requests per GET requests
OPTIONAL_TEXT = ("address_string", "email", "first_name", "last_name", "phone", "media_url", "device_id")


class Open311Error(InvalidEvent):
    """A refused Open311 call; ``status`` is the HTTP status (400, 403, 404)."""

    def __init__(self, reason: str, *, field: str | None, value: object | None, status: int = 400) -> None:
        super().__init__(reason, field=field, value=value)
        self.status = status

    def document(self) -> list[dict[str, object]]:
        return [{"code": self.status, "description": self.reason}]


@dataclass(frozen=True)
class Service:
    service_code: str
    service_name: str
    service_name_zh: str
    group: str
    department: str
    """Department id of stream/ingest/data/departments.csv responsible for the reports."""
    hazard: Hazard
    keywords: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class ServiceRequest:
    """A parsed POST requests body (the api_key is checked apart and not kept)."""

    service_code: str
    lat: float
    lon: float
    description: str
    extra: tuple[tuple[str, str], ...] = ()
    """Optional GeoReport fields given (address_string, email, ...)."""


@dataclass(frozen=True)
class RequestFilter:
    ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None


def load_services(path: Path = SERVICES_CSV, departments: Path = DEPARTMENTS_CSV) -> dict[str, Service]:
    """The catalogue; a row naming an unknown department or hazard is refused with its line."""
    with departments.open(encoding="utf-8", newline="") as f:
        known = {row["department_id"] for row in csv.DictReader(f)}
    services: dict[str, Service] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            if row["department"] not in known:
                raise InvalidEvent(f"{path.name}:{line}: unknown department {row['department']!r}",
                                   field="department", value=row["department"])
            try:
                hazard = Hazard(row["hazard"])
            except ValueError:
                raise InvalidEvent(f"{path.name}:{line}: unknown hazard {row['hazard']!r}",
                                   field="hazard", value=row["hazard"]) from None
            services[row["service_code"]] = Service(
                row["service_code"], row["service_name"], row["service_name_zh"], row["group"], row["department"],
                hazard, tuple(k for k in row["keywords"].split(";") if k), row["description"])
    return services


def service_document(service: Service) -> dict[str, object]:
    """One entry of GET services (GeoReport fields, then Amur's: zh name, department, hazard)."""
    return {"service_code": service.service_code, "service_name": service.service_name,
            "description": service.description, "metadata": False, "type": "realtime",
            "keywords": ",".join(service.keywords), "group": service.group,
            "service_name_zh": service.service_name_zh, "department": service.department,
            "hazard": service.hazard.value}


def check_format(fmt: str) -> None:
    if fmt != "json":
        raise Open311Error(f"format not supported: {fmt!r}; this server answers .json only", field="format",
                           value=fmt)


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
        raise Open311Error(f"{name} is required (addresses are not geocoded; send lat and long)", field=name,
                           value=raw)
    try:
        value = float(raw)
    except ValueError:
        raise Open311Error(f"{name}={raw!r} is not a number", field=name, value=raw) from None
    if not -limit <= value <= limit:  # also refuses nan
        raise Open311Error(f"{name}={raw} is outside -{limit:g}..{limit:g}", field=name, value=raw)
    return value


def parse_request(fields: Mapping[str, str], services: Mapping[str, Service]) -> ServiceRequest:
    """A POST requests body (form fields or a flat JSON object, values as text)."""
    code = fields.get("service_code", "").strip()
    if code not in services:
        raise Open311Error(f"service_code {code!r} is not in the catalogue (GET services.json)",
                           field="service_code", value=code)
    description = fields.get("description", "")
    if len(description) > 4000:
        raise Open311Error(f"description has {len(description)} characters, at most 4000", field="description",
                           value=description[:40])
    extra = tuple((name, fields[name]) for name in OPTIONAL_TEXT if fields.get(name))
    return ServiceRequest(code, _coordinate(fields, "lat", 90.0), _coordinate(fields, "long", 180.0),
                          description, extra)


def grid_event(request: ServiceRequest, service: Service, cell_code: str, report_id: str,
               now: datetime) -> GridEvent:
    return GridEvent(source=SOURCE, event_time=now, report_id=report_id, service_code=request.service_code,
                     description=request.description, lon=request.lon, lat=request.lat, cell_code=cell_code,
                     department=service.department)


def request_document(event: GridEvent, service: Service, notice: str) -> dict[str, object]:
    """The stored and served GeoReport request (plus Amur's cell_code)."""
    when = event.event_time.isoformat(timespec="seconds")
    return {"service_request_id": event.report_id, "status": "open", "status_notes": None,
            "service_name": service.service_name, "service_code": service.service_code,
            "description": event.description, "agency_responsible": event.department, "service_notice": notice,
            "requested_datetime": when, "updated_datetime": when, "expected_datetime": None, "address": None,
            "address_id": None, "zipcode": None, "lat": event.lat, "long": event.lon, "media_url": None,
            "cell_code": event.cell_code}


def with_status(document: Mapping[str, Any], status: bytes | None) -> dict[str, Any]:
    """A stored request with the status its incident gave it (``open311:status``, see
    ``stream.screens.projection.report_status``); as stored (open) while no incident has taken it up."""
    return {**document, **orjson.loads(status)} if status else dict(document)


def service_notice(service: Service, cell_code: str, department_names: Mapping[str, str]) -> str:
    name = department_names.get(service.department, service.department)
    return f"routed to {name} for grid cell {cell_code}"


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


def cell_of(index: CellIndex, lon: float, lat: float) -> str:
    """The grid cell holding the point; a point in no cell (outside the city) is refused naming lat/long."""
    assignment = assign_points(index, [lon], [lat])
    if assignment.outside[0]:
        raise Open311Error(f"lat={lat:g} long={lon:g} lies outside every grid cell of the city",
                           field="lat/long", value=f"{lat:g},{lon:g}")
    return str(assignment.cell_code[0])


def load_department_names(path: Path = DEPARTMENTS_CSV) -> dict[str, str]:
    with path.open(encoding="utf-8", newline="") as f:
        return {row["department_id"]: f"{row['name_zh']} ({row['name']})" for row in csv.DictReader(f)}


# --------------------------------------------------------------------------- HTTP


async def _fields(request: web.Request) -> dict[str, str]:
    """Form-encoded/multipart fields, or a flat JSON object; values as text (files ignored)."""
    if request.content_type == "application/json":
        try:
            doc = orjson.loads(await request.read())
        except orjson.JSONDecodeError as exc:
            raise Open311Error(f"body is not valid JSON: {exc}", field="body", value=None) from None
        if not isinstance(doc, dict):
            raise Open311Error("JSON body must be an object of GeoReport fields", field="body",
                               value=type(doc).__name__)
        return {k: "" if v is None else str(v) for k, v in doc.items()}
    return {k: v for k, v in (await request.post()).items() if isinstance(v, str)}


def _json(doc: object, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(doc), status=status, content_type="application/json")


def add_open311_routes(app: web.Application, settings: Settings, producer: AIOKafkaProducer, metrics: Metrics,
                       *, services: Mapping[str, Service] | None = None) -> None:
    """Serve ``/open311/v2/...`` on ``app``; POSTs go to the grid-events topic through ``producer``."""
    catalogue = dict(services or load_services())
    departments = load_department_names()
    keys = parse_api_keys(settings.open311_api_keys.get_secret_value())
    grid_topic = topics.topic_name(topics.GRID_EVENTS, settings.drill_id)
    dlq_topic = topics.topic_name(topics.DEAD_LETTER, settings.drill_id)
    prefix = settings.redis_prefix + "open311:"
    redis = aioredis.from_url(settings.redis_url or f"redis://127.0.0.1:{settings.embedded_redis_port}/0")
    cells: list[CellIndex] = []  # loaded on the first POST (about 2 s for the sample), then kept
    cells_lock = asyncio.Lock()

    async def cell_index() -> CellIndex:
        async with cells_lock:
            if not cells:
                cells.append(await asyncio.to_thread(load_cell_index, settings.gis_manifest))
        return cells[0]

    async def refuse(exc: Open311Error, raw: Mapping[str, str] | None = None) -> web.Response:
        metrics.count(SOURCE, Outcome.REJECTED)
        if raw is not None:  # authorised but invalid: dead-lettered like every refused input (key removed)
            now = datetime.now(timezone.utc).timestamp()
            body = raw_text(orjson.dumps({k: v for k, v in raw.items() if k != "api_key"}))
            await producer.send_and_wait(dlq_topic, key=SOURCE.encode(),
                                         value=encode(dead_letter(Rejection(SOURCE, exc, body), PLACE, now)))
            metrics.count(SOURCE, Outcome.DEAD_LETTERED)
        return _json(exc.document(), exc.status)

    async def services_list(request: web.Request) -> web.Response:
        try:
            check_format(request.match_info["format"])
        except Open311Error as exc:
            return await refuse(exc)
        return _json([service_document(s) for s in catalogue.values()])

    async def service_one(request: web.Request) -> web.Response:
        code = request.match_info["service_code"]
        try:
            check_format(request.match_info["format"])
            if code not in catalogue:
                raise Open311Error(f"service_code {code!r} is not in the catalogue", field="service_code",
                                   value=code, status=404)
        except Open311Error as exc:
            return await refuse(exc)
        return _json(service_document(catalogue[code]))

    async def post_request(request: web.Request) -> web.Response:
        fields: dict[str, str] | None = None
        try:
            check_format(request.match_info["format"])
            fields = await _fields(request)
            check_api_key(fields.get("api_key") or request.query.get("api_key"), keys)
        except Open311Error as exc:
            return await refuse(exc)
        try:
            parsed = parse_request(fields, catalogue)
            cell = cell_of(await cell_index(), parsed.lon, parsed.lat)
        except Open311Error as exc:
            return await refuse(exc, fields)
        service = catalogue[parsed.service_code]
        report_id = f"311-{await redis.incr(prefix + 'next_id')}"
        event = grid_event(parsed, service, cell, report_id, datetime.now(timezone.utc))
        notice = service_notice(service, cell, departments)
        await producer.send_and_wait(grid_topic, key=cell.encode(), value=encode(event))
        await redis.hset(prefix + "requests", report_id, orjson.dumps(request_document(event, service, notice)))
        metrics.count(SOURCE, Outcome.ACCEPTED)
        return _json([{"service_request_id": report_id, "service_notice": notice, "account_id": None}], 201)

    async def get_requests(request: web.Request) -> web.Response:
        try:
            check_format(request.match_info["format"])
            wanted = parse_filter(request.query, datetime.now(timezone.utc))
        except Open311Error as exc:
            return await refuse(exc)
        if wanted.ids:
            ids = list(wanted.ids)
            found = zip(await redis.hmget(prefix + "requests", ids), await redis.hmget(prefix + "status", ids))
            documents = [with_status(orjson.loads(d), status) for d, status in found if d is not None]
        else:
            statuses = await redis.hgetall(prefix + "status")
            documents = [with_status(orjson.loads(d), statuses.get(request_id))
                         for request_id, d in (await redis.hgetall(prefix + "requests")).items()]
        return _json(select_requests(documents, wanted))

    async def get_request(request: web.Request) -> web.Response:
        request_id = request.match_info["request_id"]
        try:
            check_format(request.match_info["format"])
            stored = await redis.hget(prefix + "requests", request_id)
            if stored is None:
                raise Open311Error(f"service_request_id {request_id!r} not found", field="service_request_id",
                                   value=request_id, status=404)
        except Open311Error as exc:
            return await refuse(exc)
        return _json([with_status(orjson.loads(stored), await redis.hget(prefix + "status", request_id))])

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
    ])
