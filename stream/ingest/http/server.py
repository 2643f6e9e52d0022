"""`amur ingest`: HTTP batch ingest. One POST = many observations; per-item errors back.

``POST /ingest`` takes a JSON array of tagged observations (``sensor_reading``,
``weather_observation``, ``water_level``) or one ``reading_batch``. Every item is
validated (``stream.ingest.validation``); valid items are produced to the raw-ingest
topic grouped per source (key: source id) and acknowledged by the broker before
the answer; refused items go to the dead-letter topic and come back in
``errors`` with their index, field, value and reason. The workers then dedupe,
route and watch source health exactly as for direct Kafka producers.
``GET /metrics`` serves this adapter's counters; ``GET /healthz`` answers ok. Grid
events come in beside: Open311 GeoReport v2 (``/open311/v2/``), the 110
non-emergency feed (``/110/v1/calls``) and departments' actions on requests
(``/dispatch/v1/``), see docs/dispatch.md.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field

import click
import orjson
from aiohttp import web
from aiokafka import AIOKafkaProducer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from stream import topics
from stream.dispatch.keywords import load_keywords
from stream.dispatch.responsibility import load_list
from stream.errors import ConfigError, InvalidEvent
from stream.ingest.http.broker import BoundedProducer, broker_unavailable, start_until_reached
from stream.ingest.http.dispatch_actions import add_dispatch_routes
from stream.ingest.http.feed110 import add_110_routes
from stream.ingest.http.open311 import (
    LazyCells,
    LazyLoaded,
    add_open311_routes,
    load_county_names,
    load_gazetteer,
)
from stream.ingest.http.keys import given_key, guard_keys, key_refusal, parse_keys
from stream.ingest.intake import (
    UNREGISTERED,
    Rejection,
    dead_letter,
    decode_items,
    label_for,
    raw_text,
)
from stream.ingest.inventory import Inventory, load_inventory
from stream.ingest.outcome import Outcome
from stream.ingest.registry import Registry, load_registry
from stream.ingest.validation import Observation, TimeLimits, validate
from stream.runtime.admin import bootstrap_servers
from stream.runtime.metrics import Metrics
from stream.schemas import encode
from stream.settings import Settings, load_settings

log = logging.getLogger(__name__)

HTTP_TOPIC = "http:/ingest"
"""What a dead letter from this adapter names as the place it came in."""


@dataclass
class Checked:
    """The outcome of one HTTP body: accepted observations and the per-item refusals."""

    accepted: list[Observation] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)

    def errors(self) -> list[dict[str, object]]:
        return [{"index": r.index, "source": r.source, "field": r.error.field, "value": r.error.value,
                 "reason": r.error.reason} for r in self.rejected]


def check_body(body: bytes, registry: Registry, inventory: Inventory, limits: TimeLimits, now: float,
               max_items: int) -> Checked:
    """Validate every item of an HTTP body; raise InvalidEvent if the body as a whole is unusable."""
    items = decode_items(body, registry)
    if len(items) > max_items:
        raise InvalidEvent(f"{len(items)} items in one call, at most {max_items}", field="items", value=len(items))
    checked = Checked()
    for index, item in enumerate(items):
        if isinstance(item, Rejection):
            if item.index is None and len(items) == 1:
                raise item.error
            checked.rejected.append(Rejection(item.source, item.error, item.raw, index))
            continue
        try:
            checked.accepted.append(validate(item, registry, inventory, limits, now))
        except InvalidEvent as exc:
            checked.rejected.append(Rejection(label_for({"source": item.source}, registry), exc,
                                              encode(item).decode(), index))
    return checked


def build_ingest_app(settings: Settings, registry: Registry, inventory: Inventory,
                     producer: AIOKafkaProducer | BoundedProducer, metrics: Metrics) -> web.Application:
    if not isinstance(producer, BoundedProducer):  # a started producer (tests); `serve` passes its own
        producer = BoundedProducer(producer, settings.ingest_http_write_timeout_s)
    raw_topic = topics.topic_name(topics.RAW_INGEST, settings.drill_id)
    dlq_topic = topics.topic_name(topics.DEAD_LETTER, settings.drill_id)
    limits = TimeLimits(settings.ingest_max_future_s, settings.ingest_max_past_s)
    keys = parse_keys(settings.ingest_api_keys.get_secret_value())

    async def ingest(request: web.Request) -> web.Response:
        now = time.time()
        refusal = key_refusal(request, given_key(request), keys, "AMUR_INGEST_API_KEYS", time.monotonic())
        if refusal is not None:
            status, reason = refusal
            return _json({"accepted": 0, "rejected": 0, "errors": [
                {"index": None, "field": "api_key", "value": None, "reason": reason}]}, status)
        body = await request.read()
        try:
            checked = check_body(body, registry, inventory, limits, now, settings.ingest_http_max_items)
        except InvalidEvent as exc:
            status = 413 if exc.field == "items" else 400
            await _send_and_count(producer, dlq_topic, [Rejection(UNREGISTERED, exc, raw_text(body))], metrics, now)
            return _json({"accepted": 0, "rejected": 1, "errors": [
                {"index": None, "field": exc.field, "value": exc.value, "reason": exc.reason}]}, status)
        by_source: dict[str, list[Observation]] = defaultdict(list)
        for obs in checked.accepted:
            by_source[obs.source].append(obs)
        sends = [await producer.send(raw_topic, key=source.encode(), value=encode(items))
                 for source, items in by_source.items()]
        await asyncio.gather(*sends)
        for source, items in by_source.items():
            metrics.count(source, Outcome.ACCEPTED, len(items))
        await _send_and_count(producer, dlq_topic, checked.rejected, metrics, now)
        return _json({"accepted": len(checked.accepted), "rejected": len(checked.rejected),
                      "errors": checked.errors()}, 200)

    async def metrics_page(request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application(client_max_size=32 * 1024 * 1024, middlewares=[broker_unavailable])
    guard_keys(app)
    app.add_routes([web.post("/ingest", ingest), web.get("/metrics", metrics_page), web.get("/healthz", healthz)])
    # grid events: Open311, the 110 feed, departments' actions (a broken responsibility list stops start-up here)
    responsibilities = load_list(settings.dispatch_list, manifest=settings.gis_manifest)
    keywords = load_keywords(settings.dispatch_keywords, responsibilities)
    cells, counties = LazyCells(settings.gis_manifest), load_county_names(settings.gis_manifest)
    places = LazyLoaded(lambda: load_gazetteer(settings.gis_manifest))  # township and village names, for addresses
    add_open311_routes(app, settings, producer, metrics, responsibilities=responsibilities, cells=cells,
                       counties=counties, places=places)  # GET/POST /open311/v2/... (stream/ingest/http/open311.py)
    add_110_routes(app, settings, producer, metrics, responsibilities=responsibilities, keywords=keywords,
                   cells=cells, counties=counties, places=places)  # POST /110/v1/calls (stream/ingest/http/feed110.py)
    add_dispatch_routes(app, settings, producer, metrics, responsibilities.departments)  # /dispatch/v1/...
    return app


async def _send_and_count(producer: BoundedProducer, dlq_topic: str, rejected: list[Rejection], metrics: Metrics,
                          now: float) -> None:
    sends = [await producer.send(dlq_topic, key=r.source.encode(), value=encode(dead_letter(r, HTTP_TOPIC, now)))
             for r in rejected]
    await asyncio.gather(*sends)
    for r in rejected:
        metrics.count(r.source, Outcome.REJECTED)
        metrics.count(r.source, Outcome.DEAD_LETTERED)


def _json(doc: object, status: int) -> web.Response:
    return web.Response(body=orjson.dumps(doc), status=status, content_type="application/json")


async def serve(settings: Settings, host: str, port: int, inventory: Inventory, stop: asyncio.Event) -> None:
    """Run the adapter until ``stop`` is set."""
    from stream.runtime.app import kafka_url
    from stream.runtime.kafkaauth import client_options

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers(kafka_url(settings)), linger_ms=5,
                                max_request_size=32 * 1024 * 1024, **client_options(settings))
    bounded = BoundedProducer(producer, settings.ingest_http_write_timeout_s, started=False)
    try:  # built first: a broken responsibility list or keyword table is refused before anything connects
        runner = web.AppRunner(build_ingest_app(settings, load_registry(settings.ingest_registry), inventory,
                                                bounded, Metrics()))
    except ConfigError:
        await producer.stop()
        raise
    try:
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        log.info("ingest adapter listening host=%s port=%s", host, port)
        if await start_until_reached(bounded, stop):  # writes are 503 until the broker is reached
            await stop.wait()
    finally:
        await runner.cleanup()
        await producer.stop()


@click.command(name="ingest", help="HTTP batch ingest: one POST = many observations, per-item errors back; "
                                   "also serves Open311 GeoReport v2, GET /metrics and GET /healthz.")
@click.option("--host", help="address to listen on (default AMUR_HTTP_HOST)")
@click.option("--port", type=click.IntRange(1, 65535), help="port to listen on (default AMUR_INGEST_HTTP_PORT)")
def command(host: str | None, port: int | None) -> int:
    settings = load_settings()
    host = settings.http_host if host is None else host
    port = settings.ingest_http_port if port is None else port
    from stream.runtime.logs import configure

    configure(settings.log_level)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(settings, host, port, load_inventory(settings.gis_manifest), stop)

    try:
        asyncio.run(run())
    except ConfigError as exc:  # e.g. a broken responsibility list: refused at start-up, naming line and field
        print(f"amur ingest: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"amur ingest: cannot listen on {host}:{port} ({exc.strerror}); set --port or "
              f"AMUR_INGEST_HTTP_PORT", file=sys.stderr)
        return 2
    return 0
