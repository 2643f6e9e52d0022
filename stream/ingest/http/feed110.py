"""The 110 non-emergency feed on `amur ingest`: ``POST /110/v1/calls`` (format in docs/dispatch.md).

The 110 centre sends calls that need no police (a cold flat, a blocked drain, a
noisy barbecue) as one JSON object or an array. Each call's category text is
mapped to a responsibility item by the keyword table
(:mod:`stream.dispatch.keywords`), placed in its grid cell (or at the county
its address names) and routed; a call no keyword matches, or placed nowhere,
goes to the dispatcher queue, never dropped. Every accepted call is on the
grid-events topic before the answer. The feed has its own API keys
(``AMUR_FEED110_API_KEYS``, header ``X-Api-Key``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

import orjson
from aiohttp import web
from aiokafka import AIOKafkaProducer

from gis.assign import CellIndex, assign_points
from stream import topics
from stream.dispatch.calls import SOURCE, Call, Refused, call_event, decode_calls
from stream.dispatch.gazetteer import Gazetteer, place_of_address
from stream.dispatch.keywords import KeywordTable
from stream.dispatch.responsibility import ResponsibilityList
from stream.dispatch.routing import Place, Routing, route
from stream.errors import InvalidEvent
from stream.incidents.grid import CITY_CODE
from stream.ingest.http.keys import given_key, guard_keys, key_refusal
from stream.ingest.http.open311 import LazyCells, LazyLoaded, parse_api_keys
from stream.ingest.intake import Rejection, dead_letter, raw_text
from stream.ingest.outcome import Outcome
from stream.runtime.metrics import Metrics
from stream.schemas import GridEvent, encode
from stream.settings import Settings

PLACE = "http:/110/v1/calls"
"""What a dead letter from this front door names as the place it came in."""


def place_call(call: Call, cells: CellIndex | None, names: Mapping[str, tuple[str, ...]],
               places: Gazetteer | None = None) -> Place:
    """The call's cell; else (no location, or a point in no cell) the village or township its address names
    (``places``), else the county it names; else the city."""
    if call.lat is not None and call.lon is not None and cells is not None:
        found = assign_points(cells, [call.lon], [call.lat])
        if not found.outside[0]:
            return Place(str(found.cell_code[0]))
    return place_of_address(call.address or "", names, places)


def routed_call(call: Call, keywords: KeywordTable, responsibilities: ResponsibilityList, place: Place
                ) -> tuple[GridEvent, Routing]:
    """The call's GridEvent and routing: item by keyword, department by (item, place), deadlines from its time."""
    match = keywords.match(call.category, call.text)
    item = responsibilities.item(match.item_code) if match else None
    routing = route(responsibilities, item, place, call.time)
    return call_event(call, item, place, routing), routing


def answer(event: GridEvent, routing: Routing) -> dict[str, object]:
    return {"call_id": event.report_id.removeprefix(f"{SOURCE}-"), "request_id": event.report_id,
            "item_code": event.item_code, "department": routing.department, "place": event.cell_code,
            "queue": None if routing.department else "dispatcher", "queue_reason": routing.queue_reason,
            "accept_by": routing.accept_by.isoformat() if routing.accept_by else None,
            "resolve_by": routing.resolve_by.isoformat() if routing.resolve_by else None}


def add_110_routes(app: web.Application, settings: Settings, producer: AIOKafkaProducer, metrics: Metrics, *,
                   responsibilities: ResponsibilityList, keywords: KeywordTable, cells: LazyCells,
                   counties: Mapping[str, tuple[str, ...]], places: LazyLoaded[Gazetteer] | None = None) -> None:
    keys = parse_api_keys(settings.feed110_api_keys.get_secret_value())
    guard_keys(app)
    grid_topic = topics.topic_name(topics.GRID_EVENTS, settings.drill_id)
    dlq_topic = topics.topic_name(topics.DEAD_LETTER, settings.drill_id)
    max_future = timedelta(seconds=settings.ingest_max_future_s)

    def refused_doc(index: int | None, exc: InvalidEvent) -> dict[str, object]:
        return {"index": index, "field": exc.field, "value": exc.value, "reason": exc.reason}

    async def post_calls(request: web.Request) -> web.Response:
        refusal = key_refusal(request, given_key(request), keys, "AMUR_FEED110_API_KEYS", time.monotonic())
        if refusal is not None:
            metrics.count(SOURCE, Outcome.REJECTED)
            return web.json_response({"accepted": 0, "errors": [{"index": None, "field": "api_key", "value": None,
                                                                  "reason": refusal[1]}]}, status=refusal[0])
        body = await request.read()
        now = datetime.now(timezone.utc)
        try:
            decoded = decode_calls(body, now, max_future)
        except InvalidEvent as exc:
            await _dead_letter([Rejection(SOURCE, exc, raw_text(body))], now)
            return web.json_response({"accepted": 0, "rejected": 1, "calls": [], "errors": [refused_doc(None, exc)]},
                                     status=400)
        calls = [c for c in decoded if isinstance(c, Call)]
        index = await cells.get() if any(c.lat is not None for c in calls) else None
        named = await places.get() if places is not None and any(c.address for c in calls) else None
        routed = [routed_call(c, keywords, responsibilities, place_call(c, index, counties, named)) for c in calls]
        sends = [await producer.send(grid_topic, key=(e.cell_code or CITY_CODE).encode(), value=encode(e))
                 for e, _ in routed]
        await asyncio.gather(*sends)  # every accepted call is on the topic before the answer
        metrics.count(SOURCE, Outcome.ACCEPTED, len(routed))
        refused = [c for c in decoded if isinstance(c, Refused)]
        await _dead_letter([Rejection(SOURCE, r.error, raw_text(r.raw), r.index) for r in refused], now)
        status = 201 if routed else 400
        return web.Response(body=orjson.dumps({
            "accepted": len(routed), "rejected": len(refused), "calls": [answer(e, r) for e, r in routed],
            "errors": [refused_doc(r.index, r.error) for r in refused]}), status=status,
            content_type="application/json")

    async def _dead_letter(rejected: list[Rejection], now: datetime) -> None:
        if not rejected:
            return
        letters = [encode(dead_letter(r, PLACE, now.timestamp())) for r in rejected]
        await asyncio.gather(*[await producer.send(dlq_topic, key=SOURCE.encode(), value=v) for v in letters])
        metrics.count(SOURCE, Outcome.REJECTED, len(rejected))
        metrics.count(SOURCE, Outcome.DEAD_LETTERED, len(rejected))

    app.add_routes([web.post("/110/v1/calls", post_calls)])
