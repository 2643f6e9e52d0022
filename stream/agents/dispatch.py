"""Dispatch agents: grid events → one request-id partition → routed requests, deadlines, escalation, audit.

Topology (one repartition hop): a router reads ``grid.events`` (Open311, 110
calls, grid workers' devices) and re-keys each by its request id onto
``dispatch.inputs``, where departments' and the dispatcher's actions
(:class:`~stream.schemas.RequestActed`) also arrive. One agent owns each
request's state in the changelogged table ``dispatch-requests`` and publishes
a :class:`~stream.schemas.RequestChanged` on ``dispatch.requests`` for every
change, before the table records it (:mod:`stream.agents.outbox`). The
leader's timer sends a tick to every partition of ``dispatch.inputs``; the
agent then escalates that partition's overdue requests, on the wall clock or
in a drill on the event clock (the latest request time its routers saw).
Followers of ``dispatch.requests`` write the audit chain, the GeoReport
status the Open311 API lays over a stored request, and deliver each escalation
step's notices through the incidents' contacts directory and webhook delivery
(retries, idempotency keys), remembering delivered ones in the changelogged
table ``dispatch-notices``. Every decision is in :mod:`stream.dispatch`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone
from typing import Any, Union

import aiohttp
import orjson
import redis.asyncio as aioredis

from stream import schemas, topics
from stream.agents.deadletter import send_dead_letter
from stream.agents.outbox import Outgoing, publish_acknowledged
from stream.dispatch.request import (
    SOURCE,
    Request,
    act,
    decode_request,
    encode_request,
    receive,
    retired,
    tick,
    to_event,
)
from stream.dispatch.notices import Notice, notice_payload, notices
from stream.dispatch.responsibility import load_list
from stream.dispatch.routing import Place, place_of
from stream.dispatch.status import report_status
from stream.errors import InvalidEvent
from stream.incidents.audit import AuditLog, audit_path
from stream.incidents.grid import CITY_CODE
from stream.incidents.notify.contacts import load_directory
from stream.incidents.notify.delivery import RetryPolicy, post
from stream.ingest.outcome import Outcome as Counted
from stream.runtime.eventclock import advanced, decision_time, event_clock_on
from stream.schemas import DispatchTick, GridEvent, RequestActed, RequestChanged

log = logging.getLogger(__name__)
DispatchInput = Union[GridEvent, RequestActed, DispatchTick]


class _Watermark:
    def __init__(self) -> None:
        self.latest: datetime | None = None
        self.ticked: datetime | None = None


def register(rt: Any) -> None:
    settings = rt.settings
    app = rt.app
    # a broken list stops the worker here, naming its line and field
    listed = load_list(settings.dispatch_list, manifest=settings.gis_manifest)
    inputs = rt.topic(topics.DISPATCH_INPUTS)
    changes = rt.topic(topics.DISPATCH)
    requests = app.Table("dispatch-requests", default=None, partitions=settings.partitions,
                         key_type=bytes, value_type=bytes)
    event_clock = event_clock_on(settings.dispatch_clock, settings.drill_id)
    clock = _Watermark()
    retain = timedelta(seconds=settings.dispatch_retain_closed_s)
    partition_of: dict[bytes, int] = {}
    cells: list[Any] = []

    async def place(event: GridEvent) -> Place:
        """The event's place: as the front door put it, else its point's cell (loaded once), else the city."""
        if event.cell_code:
            return place_of(event.cell_code)
        if event.lon is None or event.lat is None:
            return Place(CITY_CODE)
        from gis.assign import assign_points
        from stream.ingest.http.open311 import load_cell_index

        if not cells:
            cells.append(await asyncio.to_thread(load_cell_index, settings.gis_manifest))
        found = assign_points(cells[0], [event.lon], [event.lat])
        return Place(CITY_CODE if found.outside[0] else str(found.cell_code[0]))

    async def dead_letter(spec: topics.TopicSpec, payload: bytes, exc: InvalidEvent) -> None:
        await send_dead_letter(rt, spec, payload, exc, SOURCE)

    @app.agent(rt.topic(topics.GRID_EVENTS), name="route_grid_events_to_dispatch")
    async def route_grid_events_to_dispatch(stream: Any) -> None:
        async for payload in stream:
            try:
                event = schemas.decode(GridEvent, payload)
            except InvalidEvent as exc:
                await dead_letter(topics.GRID_EVENTS, payload, exc)
                continue
            clock.latest = advanced(clock.latest, event.event_time)
            await inputs.send(key=event.report_id.encode(), value=payload)

    async def publish(key: bytes, snapshots: list[Request]) -> None:
        await publish_acknowledged(Outgoing(changes, key, schemas.encode(to_event(s))) for s in snapshots)
        requests[key] = encode_request(snapshots[-1])

    async def on_tick(ping: DispatchTick) -> None:
        mine = []
        for key, value in list(requests.items()):
            if value is None:
                continue
            if key not in partition_of:
                partition_of[key] = topics.partition_for(key.decode(), settings.partitions)
            if partition_of[key] == ping.partition:
                mine.append((key, decode_request(value)))
        for key, request in mine:
            if retired(request, ping.event_time, retain):
                del requests[key]
                partition_of.pop(key, None)
            elif steps := tick(request, ping.event_time):
                await publish(key, steps)

    @app.agent(inputs, name="dispatch_requests")
    async def dispatch_requests(stream: Any) -> None:
        async for payload in stream:
            try:
                item = schemas.decode(DispatchInput, payload)  # type: ignore[arg-type]
                if isinstance(item, DispatchTick):
                    await on_tick(item)
                    continue
                key = (item.report_id if isinstance(item, GridEvent) else item.request_id).encode()
                stored = requests.get(key)
                if isinstance(item, GridEvent):
                    if stored is not None:
                        continue  # a redelivered or repeated report (a 110 call sent twice): one request
                    snapshot: Request | None = receive(item, await place(item), listed,
                                                       drill=settings.drill_id is not None)
                elif stored is None:
                    raise InvalidEvent(f"request {item.request_id} is not known (or closed long ago)",
                                       field="request_id", value=item.request_id)
                else:
                    snapshot = act(decode_request(stored), item, listed)
            except InvalidEvent as exc:
                await dead_letter(topics.DISPATCH_INPUTS, payload, exc)
                continue
            if snapshot is not None:
                rt.metrics.count(topics.DISPATCH_INPUTS.name, Counted.ACCEPTED)
                await publish(key, [snapshot])

    @app.timer(interval=settings.dispatch_tick_s, on_leader=True, name="tick_dispatch_partitions")
    async def tick_dispatch_partitions() -> None:
        now = decision_time(event_clock, datetime.now(timezone.utc), clock.latest)
        if now is None or (event_clock and now == clock.ticked):
            return  # no event time yet, or it has not moved since the last tick
        clock.ticked = now
        for partition in range(settings.partitions):
            ping = DispatchTick(source=SOURCE, event_time=now, partition=partition)
            await inputs.send(key=f"tick-{partition}".encode(), value=schemas.encode(ping), partition=partition)

    audit = AuditLog(audit_path(settings))

    @app.agent(changes, name="audit_dispatch")
    async def audit_dispatch(stream: Any) -> None:
        async for payload in stream:
            changed = schemas.decode(RequestChanged, payload)
            audit.append("dispatch", f"{changed.request_id}#{changed.revision}", changed.event_time,
                         schemas.to_builtins(changed))

    directory = load_directory(settings.notify_contacts)
    delivered = app.Table("dispatch-notices", default=None, partitions=settings.partitions,
                          key_type=bytes, value_type=bytes)
    retry = RetryPolicy(settings.notify_attempts, settings.notify_backoff_s, settings.notify_timeout_s)

    @app.agent(changes, name="notify_dispatch_escalations")
    async def notify_dispatch_escalations(stream: Any) -> None:
        """Each escalation step to the contacts its ``notified`` names; every outcome in the audit chain."""
        async with aiohttp.ClientSession() as session:

            async def send(changed: RequestChanged, notice: Notice) -> None:
                body = notice_payload(notice.contact, changed, notice.notification)
                result = await post(session, notice.contact, body, notice.notification, retry)
                audit.append("dispatch-notice", f"{changed.request_id}#{changed.revision}#{result.contact}",
                             changed.event_time, {"request_id": changed.request_id, "revision": changed.revision,
                                                  "notified": notice.notified, **schemas.to_builtins(result)})
                delivered[result.notification_id.encode()] = schemas.encode(result)
                log.info("dispatch notice request=%s contact=%s status=%s attempts=%s", changed.request_id,
                         result.contact, result.status, result.attempts)

            async for payload in stream:
                changed = schemas.decode(RequestChanged, payload)
                found = notices(directory, changed)
                if found.unreached:  # named, but nobody in the directory answers for it: said, never silent
                    log.warning("dispatch notice has no contact request=%s unreached=%s", changed.request_id,
                                ",".join(found.unreached))
                    audit.append("dispatch-notice", f"{changed.request_id}#{changed.revision}#unreached",
                                 changed.event_time, {"request_id": changed.request_id, "revision": changed.revision,
                                                      "status": "unreached", "unreached": list(found.unreached)})
                due = [n for n in found.due if delivered.get(n.notification.notification_id.encode()) is None]
                await asyncio.gather(*(send(changed, n) for n in due))  # contacts in parallel

    status_key = settings.redis_prefix + "open311:dispatch"
    latest_key = settings.redis_prefix + "dispatch:requests"
    holder: list[aioredis.Redis] = []

    @app.agent(changes, name="project_dispatch_status")
    async def project_dispatch_status(stream: Any) -> None:
        """The latest change of every request (``dispatch:requests``) and the GeoReport status of Open311 ones."""
        async for batch in stream.take(500, within=0.02):
            latest, statuses = {}, {}
            for payload in batch:
                changed = schemas.decode(RequestChanged, payload)
                latest[changed.request_id] = payload
                if changed.channel == "open311":
                    statuses[changed.request_id] = orjson.dumps(report_status(changed))
            if not holder:
                holder.append(aioredis.from_url(rt.redis_url()))
            pipe = holder[0].pipeline(transaction=False)
            pipe.hset(latest_key, mapping=latest)
            if statuses:
                pipe.hset(status_key, mapping=statuses)
            await pipe.execute()
