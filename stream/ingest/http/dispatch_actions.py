"""Departments and the dispatcher act on requests: ``POST /dispatch/v1/requests/{request_id}/actions``.

Body: ``{"action": "accept" | "assign" | "start" | "resolve" | "close" | "reroute" | "reject",
"assignee": …, "item_code": …, "department": …, "reason": …, "action_id": …}``. The
API key says who acts (``AMUR_DISPATCH_API_KEYS``: ``department:key`` pairs;
``grid-office`` is the dispatcher). The action is put on ``dispatch.inputs``
(keyed by request id) before the 202; the worker decides it, and the outcome,
applied or refused with its reason, is the request's next change on
``dispatch.requests``. ``GET /dispatch/v1/requests/{request_id}`` answers the
latest change the worker published (from Redis).
"""

from __future__ import annotations

import hmac
import logging
import time
import uuid
from collections.abc import Collection, Mapping
from datetime import datetime, timezone

import orjson
import redis.asyncio as aioredis
from aiohttp import web
from aiokafka import AIOKafkaProducer

from stream import topics
from stream.errors import ConfigError, InvalidEvent
from stream.ingest.http.keys import KEY_FAILURES, guard_keys
from stream.ingest.outcome import Outcome
from stream.runtime.metrics import Metrics
from stream.schemas import RequestActed, decode, encode
from stream.settings import Settings

log = logging.getLogger(__name__)

SOURCE = "dispatch-actions"
FIELDS = ("action", "assignee", "item_code", "department", "reason", "action_id")


def parse_actor_keys(setting: str, departments: Collection[str]) -> dict[str, str]:
    """``department:key,...`` -> {key: department}; an unknown department or a malformed pair is refused."""
    keys: dict[str, str] = {}
    for pair in (p.strip() for p in setting.split(",") if p.strip()):
        department, _, key = pair.partition(":")
        if not key or department not in departments:
            raise ConfigError(f"AMUR_DISPATCH_API_KEYS: {department!r} is not a department:key pair of "
                              f"departments.csv")
        keys[key] = department
    return keys


def actor_of(given: str | None, keys: Mapping[str, str]) -> str:
    """The department a key belongs to; :class:`InvalidEvent` (field api_key) if none."""
    for key, department in keys.items():
        if given and hmac.compare_digest(given.encode(), key.encode()):
            return department
    raise InvalidEvent("api_key missing or not accepted" if keys else
                       "actions are disabled: no keys are configured (AMUR_DISPATCH_API_KEYS)",
                       field="api_key", value=None)


def action_event(request_id: str, body: bytes, actor: str, now: datetime) -> RequestActed:
    """The wire action of a body (its fields checked by the wire schema, errors naming the field)."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidEvent(f"body is not valid JSON: {exc}", field="body", value=None) from None
    if not isinstance(doc, dict):
        raise InvalidEvent("body must be a JSON object", field="body", value=type(doc).__name__)
    unknown = sorted(set(doc) - set(FIELDS))
    if unknown:
        raise InvalidEvent(f"unknown field {unknown[0]!r} (known: {', '.join(FIELDS)})", field=unknown[0],
                           value=doc[unknown[0]])
    wire = {"type": "request_acted", "source": SOURCE, "event_time": now.isoformat(), "request_id": request_id,
            "actor": actor, "action_id": doc.get("action_id") or uuid.uuid4().hex,
            **{k: v for k, v in doc.items() if k != "action_id" and v is not None}}
    return decode(RequestActed, orjson.dumps(wire))


def add_dispatch_routes(app: web.Application, settings: Settings, producer: AIOKafkaProducer, metrics: Metrics,
                        departments: Collection[str]) -> None:
    keys = parse_actor_keys(settings.dispatch_api_keys.get_secret_value(), departments)
    guard_keys(app)
    inputs = topics.topic_name(topics.DISPATCH_INPUTS, settings.drill_id)
    redis = aioredis.from_url(settings.redis_url or f"redis://127.0.0.1:{settings.embedded_redis_port}/0")
    latest = settings.redis_prefix + "dispatch:requests"

    def refused(exc: InvalidEvent, status: int) -> web.Response:
        metrics.count(SOURCE, Outcome.REJECTED)
        return web.json_response([{"code": status, "field": exc.field, "value": exc.value,
                                   "description": exc.reason}], status=status)

    async def post_action(request: web.Request) -> web.Response:
        request_id = request.match_info["request_id"]
        failures, client, now = request.app[KEY_FAILURES], request.remote or "unknown", time.monotonic()
        if failures.blocked(client, now):
            log.warning("api key refused path=%s client=%s reason=too_many_failures", request.path, client)
            return refused(InvalidEvent(f"too many wrong API keys from {client}; retry in a minute",
                                        field="api_key", value=None), 429)
        try:
            actor = actor_of(request.headers.get("X-Api-Key"), keys)
        except InvalidEvent as exc:
            failures.failed(client, now)
            log.warning("api key refused path=%s client=%s reason=%s", request.path, client, exc.reason)
            return refused(exc, 403)
        try:
            acted = action_event(request_id, await request.read(), actor, datetime.now(timezone.utc))
        except InvalidEvent as exc:
            return refused(exc, 400)
        await producer.send_and_wait(inputs, key=request_id.encode(), value=encode(acted))
        metrics.count(SOURCE, Outcome.ACCEPTED)
        return web.json_response({"action_id": acted.action_id, "request_id": request_id, "actor": actor,
                                  "action": acted.action.value}, status=202)

    async def get_request(request: web.Request) -> web.Response:
        request_id = request.match_info["request_id"]
        found = await redis.hget(latest, request_id)
        if found is None:
            return web.json_response([{"code": 404, "description": f"request {request_id!r} not found"}],
                                     status=404)
        return web.Response(body=found, content_type="application/json")

    async def close_redis(app: web.Application) -> None:
        await redis.aclose()

    app.on_cleanup.append(close_redis)
    app.add_routes([web.post("/dispatch/v1/requests/{request_id}/actions", post_action),
                    web.get("/dispatch/v1/requests/{request_id}", get_request)])
