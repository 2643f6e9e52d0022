"""Incident agents: evidence → one hazard-area partition → incidents, notifications, audit.

Topology (one repartition hop): every source topic (gauges, forecasts, cell
risk, findings, grid events, source health, operator commands) is read by a
small router that normalises the event and sends it to ``incidents.inputs``
keyed by the hazard area ``<county>/<hazard>``. One agent owns each area's
state in the changelogged table ``incident-areas`` (co-partitioned with that
topic) and publishes full snapshots on ``incidents`` keyed by incident id.
Followers of ``incidents`` write the audit chain and deliver notifications,
sending delivery statuses back through ``incidents.inputs``. The leader's timer
ticks every area (escalation, hysteresis, expiry) on the worker clock, or in a
drill on the event clock: the latest evidence time its routers saw
(:mod:`stream.runtime.eventclock`). Every input also applies the timed rules
due by its time first (:func:`stream.incidents.actions.step`), each at its own
due time, so a tick only decides when they are published.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import aiohttp
import msgspec
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from stream import schemas, topics
from stream.agents.deadletter import send_dead_letter
from stream.agents.outbox import Outgoing, publish_acknowledged
from stream.cameras.channels import InventoryWatcher
from stream.errors import AmurError, InvalidEvent
from stream.incidents import evidence
from stream.incidents.actions import AreaInput, step
from stream.incidents.audit import AuditLog, audit_path
from stream.incidents.fusion import Outcome
from stream.incidents.grid import CITY_CODE, COUNTY_CODES
from stream.incidents.linkage import camera_priorities
from stream.incidents.notify.contacts import load_directory
from stream.incidents.notify.delivery import RetryPolicy, deliver
from stream.incidents.places import ChannelPlaces, load_places
from stream.incidents.signature import check_signature
from stream.incidents.state import (
    Area,
    decode_area,
    encode_area,
    policy_from_settings,
    to_event,
)
from stream.ingest.outcome import Outcome as Counted
from stream.runtime.eventclock import advanced, decision_time, event_clock_on
from stream.schemas import (
    EvidenceObserved,
    IncidentTick,
    NotificationStatus,
    OperatorCommand,
)

log = logging.getLogger(__name__)
SOURCE = "amur.incidents"


class _Watermark:
    """The event clock of this worker's incident routers (see :mod:`stream.runtime.eventclock`)."""

    def __init__(self) -> None:
        self.latest: datetime | None = None
        """Latest evidence time routed."""
        self.ticked: datetime | None = None
        """The time of the last tick sent."""


def area_keys() -> list[str]:
    """Every hazard area a tick must visit: six counties and the city, times each hazard."""
    return [evidence.area_key(code, hazard) for code in (*COUNTY_CODES, CITY_CODE) for hazard in schemas.Hazard]


def register(rt: Any) -> None:
    settings = rt.settings
    app = rt.app
    places = ChannelPlaces(load_places(settings.incident_places, settings.gis_manifest))
    rt.incident_places = places  # for tests: which inventory channels the fusion knows
    directory = load_directory(settings.notify_contacts)
    policy = policy_from_settings(settings)
    inputs = rt.topic(topics.INCIDENT_INPUTS)
    incidents_topic = rt.topic(topics.INCIDENTS)
    priority_topic = rt.topic(topics.CAMERA_PRIORITY)
    areas = app.Table("incident-areas", default=None, partitions=settings.partitions,
                      key_type=bytes, value_type=bytes)
    sent = app.Table("incident-notifications", default=None, partitions=settings.partitions,
                     key_type=bytes, value_type=bytes)

    async def dead_letter(spec: topics.TopicSpec, payload: bytes, exc: InvalidEvent) -> None:
        await send_dead_letter(rt, spec, payload, exc, SOURCE)

    event_clock = event_clock_on(settings.incident_clock, settings.drill_id)
    clock = _Watermark()

    def route(spec: topics.TopicSpec, kind: type, normalise: Callable[[Any], list[Any]]) -> None:
        async def router(stream: Any) -> None:
            async for payload in stream:
                try:
                    keyed = [(_area_of(item), item) for item in normalise(schemas.decode(kind, payload))]
                except InvalidEvent as exc:
                    await dead_letter(spec, payload, exc)
                    continue
                rt.metrics.count(spec.name, Counted.ACCEPTED)
                for key, item in keyed:
                    if isinstance(item, EvidenceObserved):  # commands carry the operator's wall time
                        clock.latest = advanced(clock.latest, item.event_time)
                    await inputs.send(key=key.encode(), value=schemas.encode(item))

        router.__name__ = router.__qualname__ = f"route_{spec.name.replace('.', '_')}_to_incidents"
        app.agent(rt.topic(spec), name=router.__name__)(router)

    route(topics.GAUGE_STATE, schemas.GaugeState, lambda e: evidence.from_gauge(e, places))
    route(topics.FORECASTS, schemas.CrestForecast, lambda e: evidence.from_forecast(e, places))
    route(topics.CELL_RISK, schemas.CellRisk, evidence.from_cell_risk)
    route(topics.FINDINGS, schemas.VisionFinding, lambda e: evidence.from_finding(e, places))
    route(topics.GRID_EVENTS, schemas.GridEvent, lambda e: evidence.from_grid_event(e, places))
    route(topics.SOURCE_HEALTH, schemas.SourceHealth, evidence.from_source_health)
    command_key = settings.jwt_secret.get_secret_value()  # commands are applied only if a gateway signed them
    route(topics.COMMANDS, schemas.OperatorCommand, lambda e: [check_signature(e, command_key)])

    @app.agent(inputs, name="fuse_incidents")
    async def fuse_incidents(stream: Any) -> None:
        async for payload in stream:
            try:
                item = schemas.decode(AreaInput, payload)  # type: ignore[arg-type]
                key = evidence.check_area_key(_area_of(item))
            except InvalidEvent as exc:
                await dead_letter(topics.INCIDENT_INPUTS, payload, exc)
                continue
            stored = areas.get(key.encode())
            area = decode_area(stored) if stored else Area(area_key=key)
            try:
                outcome = step(area, item, places, policy, directory.recipients)
            except AmurError as exc:  # a refused decision must not stall the partition
                log.exception("incident decision failed area=%s", key)
                await dead_letter(topics.INCIDENT_INPUTS, payload, InvalidEvent(str(exc), field=None, value=None))
                continue
            if isinstance(item, OperatorCommand) and not outcome.changes:
                log.info("command ignored (unknown incident or already answered) command=%s incident=%s",
                         item.command_id, item.incident_id)
            await publish_acknowledged(outgoing(outcome, area))  # before the state records it: see outbox
            if outcome.area.incidents is not area.incidents and outcome.area.incidents != area.incidents:
                # only real changes are written: a clock that merely advanced is not worth a changelog record
                areas[key.encode()] = encode_area(outcome.area)

    def outgoing(outcome: Outcome, before: Area) -> list[Outgoing]:
        messages = []
        previous = {incident.incident_id: incident for incident in before.incidents}
        for incident in outcome.changes:
            changed = to_event(incident, SOURCE)
            messages.append(Outgoing(incidents_topic, changed.incident_id.encode(), schemas.encode(changed)))
            was = previous.get(incident.incident_id)  # camera priorities are sent on change only
            messages += [Outgoing(priority_topic, p.camera_id.encode(), schemas.encode(p))
                         for p in camera_priorities(changed, SOURCE, to_event(was, SOURCE) if was else None)]
            previous[incident.incident_id] = incident
        return messages

    @app.timer(interval=settings.incident_tick_s, on_leader=True, name="tick_incident_areas")
    async def tick_incident_areas() -> None:
        # the worker clock (or the event clock), at the edge; decisions take it as input
        now = decision_time(event_clock, datetime.now(timezone.utc), clock.latest)
        if now is None or (event_clock and now == clock.ticked):
            return  # no event time yet, or it has not moved since the last tick
        clock.ticked = now
        for key in area_keys():
            ping = IncidentTick(source=SOURCE, event_time=now, area_key=key)
            await inputs.send(key=key.encode(), value=schemas.encode(ping))

    if settings.vision_inventory_refresh_s and settings.redis_url:  # channels placed by the platforms
        watcher: list[InventoryWatcher] = []

        @app.timer(interval=settings.vision_inventory_refresh_s, name="incidents_learn_camera_inventory")
        async def learn_camera_inventory() -> None:
            """Real-camera channels join the coverage incidents pin cameras by (docs/cameras.md)."""
            if not watcher:
                watcher.append(InventoryWatcher(aioredis.Redis.from_url(rt.redis_url()), settings.redis_prefix))
            try:
                channels = await watcher[0].channels_if_changed()
            except (OSError, RedisError) as exc:
                log.warning("camera inventory not read error=%r", exc)
                return
            if channels is not None:
                places.set_channels({c.channel_id: c.cell_code for c in channels if c.cell_code})

    audit = AuditLog(audit_path(settings))

    @app.agent(rt.topic(topics.INCIDENTS), name="audit_incidents")
    async def audit_incidents(stream: Any) -> None:
        async for payload in stream:
            changed = schemas.decode(schemas.IncidentChanged, payload)
            key = f"{changed.incident_id}#{changed.revision}#{changed.change}#{changed.command_id or ''}"
            audit.append("incident", key, changed.event_time, schemas.to_builtins(changed))

    retry = RetryPolicy(settings.notify_attempts, settings.notify_backoff_s, settings.notify_timeout_s)

    @app.agent(rt.topic(topics.INCIDENTS), name="notify_responders")
    async def notify_responders(stream: Any) -> None:
        async with aiohttp.ClientSession() as session:

            async def send_one(changed: schemas.IncidentChanged, pending: schemas.Notification) -> None:
                contact = directory.contact(pending.contact)
                if contact is None:
                    result = msgspec.structs.replace(pending, status="failed", detail="contact not in the directory")
                else:
                    result = await deliver(session, contact, changed, pending, retry)
                status = NotificationStatus(source=SOURCE, event_time=changed.event_time,
                                            area_key=changed.area_key or "", incident_id=changed.incident_id,
                                            notification=result)
                # the incident hears of the delivery before it is recorded as sent: a crash in between
                # repeats the delivery (at least once) rather than leaving it "pending" for ever
                await publish_acknowledged([Outgoing(inputs, status.area_key.encode(), schemas.encode(status))])
                sent[pending.notification_id.encode()] = schemas.encode(result)

            async for payload in stream:
                changed = schemas.decode(schemas.IncidentChanged, payload)
                due = [n for n in changed.notifications
                       if n.status == "pending" and sent.get(n.notification_id.encode()) is None]
                await asyncio.gather(*(send_one(changed, pending) for pending in due))  # contacts in parallel


def _area_of(item: Any) -> str:
    if isinstance(item, OperatorCommand):
        return evidence.area_of_incident(item.incident_id)
    return item.area_key
