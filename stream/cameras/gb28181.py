"""The GB/T 28181 upper platform as a service: SIP server events -> inventory, sampler targets, findings.

A device that registers is asked for its catalogue, subscribed to alarms and,
with ``gb28181_guard``, armed (some devices send alarms only after SetGuard).
Its catalogue is placed in the grid (:func:`vision.gb28181.placement.place`)
and stored (:class:`stream.cameras.channels.ChannelStore`); the placed channels
become sampler targets (HTTP snapshots from ``gb28181_snapshot_url``). A device
that misses its keepalive window, lets its registration expire or unregisters
makes every channel an ``offline`` finding; a device alarm Amur knows becomes a
finding on its channel (:mod:`vision.gb28181.alarms`). Findings go out through
the sampler's :class:`~stream.cameras.sampler.Outputs` (``vision.findings``):
the incidents engine and the wall take them from there as from the analysis.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone

from stream.cameras.channels import ChannelStore
from stream.cameras.sampler import CameraTarget, Outputs
from stream.runtime.metrics import Metrics
from stream.settings import Settings
from vision.gb28181.alarms import alarm_finding, alarm_kinds, offline_findings
from vision.gb28181.devices import KeepalivePolicy, WentOffline
from vision.gb28181.placement import Channel, place
from vision.gb28181.manscdp import CatalogItem
from vision.sources.gb28181 import (
    AlarmReceived,
    CatalogueChanged,
    CatalogueReceived,
    Registered,
    ServerConfig,
    ServerEvent,
    SipServer,
)

log = logging.getLogger(__name__)


def passwords(settings: Settings) -> Callable[[str], str | None]:
    """device id -> its password: a ``device:password`` override, else the domain password."""
    overrides = dict(pair.split(":", 1) for pair in settings.gb28181_device_passwords.get_secret_value().split(",")
                     if ":" in pair)
    domain = settings.gb28181_password.get_secret_value()
    return lambda device_id: overrides.get(device_id, domain or None)


def snapshot_url(settings: Settings, channel: Channel, host: str) -> str:
    template = settings.gb28181_snapshot_urls.get(channel.device_id, settings.gb28181_snapshot_url)
    return template.format(host=host, channel_id=channel.channel_id, device_id=channel.device_id)


class Gb28181Service:
    """Build with its collaborators, ``await start()``, ``await stop()``.

    ``cell_of(lon, lat)`` is the grid lookup; ``on_targets`` is told the sampler targets of each new catalogue.
    """

    def __init__(self, settings: Settings, outputs: Outputs, store: ChannelStore | None,
                 cell_of: Callable[[float, float], str | None],
                 on_targets: Callable[[dict[str, CameraTarget]], None] = lambda targets: None,
                 clock: Callable[[], float] = time.time, metrics: Metrics | None = None) -> None:
        self.settings = settings
        self.outputs = outputs
        self.store = store
        self.cell_of = cell_of
        self.on_targets = on_targets
        self.clock = clock
        self.kinds = alarm_kinds(settings.gb28181_alarm_kinds)
        self.channels: dict[str, Channel] = {}
        config = ServerConfig(settings.gb28181_platform_id, settings.gb28181_realm, settings.gb28181_host,
                              settings.gb28181_port, KeepalivePolicy(settings.gb28181_keepalive_interval_s,
                                                                     settings.gb28181_keepalive_missed),
                              sweep_every_s=min(1.0, settings.gb28181_keepalive_interval_s / 4))
        self.metrics = metrics or Metrics()
        self.server = SipServer(config, passwords(settings), self._on_event, clock,
                                on_refused=lambda reason: self.metrics.sip_refused.labels(reason=reason).inc())
        self._tasks: set[asyncio.Task[None]] = set()
        self.unhandled_alarms = 0

    async def start(self) -> None:
        await self.server.start()

    async def stop(self) -> None:
        await self.server.stop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    @property
    def pending(self) -> int:
        """Server events still being handled (catalogues being stored, findings being sent)."""
        return len(self._tasks)

    def cells_of(self, channel_id: str) -> tuple[str, ...]:
        channel = self.channels.get(channel_id)
        return (channel.cell_code,) if channel is not None and channel.cell_code else ()

    def _on_event(self, event: ServerEvent) -> None:
        task = asyncio.ensure_future(self._handle(event))
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("gb28181 event failed error=%r", task.exception())

    async def _handle(self, event: ServerEvent) -> None:
        now = datetime.fromtimestamp(self.clock(), timezone.utc)
        if isinstance(event, Registered):
            await self._welcome(event.device_id)
        elif isinstance(event, CatalogueReceived):
            await self._catalogue(event.device_id, event.items)
        elif isinstance(event, CatalogueChanged):
            await self._changes(event, now)
        elif isinstance(event, WentOffline):
            await self.outputs.send_findings(offline_findings(event.channels, self.cells_of, now))
            if self.store is not None:
                await self.store.set_online(event.channels, False)
        elif isinstance(event, AlarmReceived):
            finding = alarm_finding(event.alarm, self.kinds, self.cells_of(event.alarm.device_id), now)
            if finding is None:
                self.unhandled_alarms += 1
                log.info("gb28181 alarm not acted on device=%s channel=%s method=%s type=%s", event.device_id,
                         event.alarm.device_id, event.alarm.method, event.alarm.alarm_type)
            else:
                await self.outputs.send_findings([finding])

    async def _welcome(self, device_id: str) -> None:
        """Catalogue, alarm subscription and guard for a device that has just registered."""
        catalog = await self.server.query_catalog(device_id)
        subscribe = await self.server.subscribe_alarms(device_id)
        changes = await self.server.subscribe_catalog(device_id)
        guard = await self.server.guard(device_id) if self.settings.gb28181_guard else None
        log.info("gb28181 device welcomed device=%s catalog=%s subscribe=%s catalog_changes=%s guard=%s",
                 device_id, catalog, subscribe, changes, guard)

    async def _changes(self, event: CatalogueChanged, now: datetime) -> None:
        """A catalogue notification: ADD/UPDATE placed again, DEL removed, ON/OFF (VLOST, DEFECT) online or not."""
        by_event: dict[str, list[str]] = {}
        for item in event.items:
            by_event.setdefault(item.event, []).append(item.device_id)
        added = [item for item in event.items if item.event in ("ADD", "UPDATE")]
        if added:
            await self._catalogue(event.device_id, added)
        deleted = by_event.get("DEL", [])
        for channel_id in deleted:
            self.channels.pop(channel_id, None)
        off = [c for kind in ("OFF", "VLOST", "DEFECT") for c in by_event.get(kind, [])]
        if off:  # the device's own word that the channel shows nothing: a camera fault, like a lost keepalive
            await self.outputs.send_findings(offline_findings(off, self.cells_of, now))
        if self.store is not None:
            await self.store.remove(deleted)
            await self.store.set_online(by_event.get("ON", []), True)
            await self.store.set_online(off, False)
        log.info("gb28181 catalogue changed device=%s %s", event.device_id,
                 " ".join(f"{kind}={len(ids)}" for kind, ids in sorted(by_event.items())))

    async def _catalogue(self, device_id: str, items: Sequence[CatalogItem]) -> None:
        department = self.settings.gb28181_departments.get(device_id, self.settings.gb28181_default_department)
        placement = place(device_id, items, department, self.cell_of)
        for channel in (*placement.placed, *placement.unplaced):
            self.channels[channel.channel_id] = channel
        device = self.server.devices.devices[device_id]
        targets = {c.channel_id: CameraTarget(c.channel_id, "http", snapshot_url(self.settings, c, device.address[0]),
                                              (c.cell_code,) if c.cell_code else ())
                   for c in (*placement.placed, *placement.unplaced)}
        if self.store is not None:
            await self.store.save(placement, {c: t.address for c, t in targets.items()})
        self.on_targets(targets)
        log.info("gb28181 catalogue device=%s placed=%s unplaced=%s skipped=%s", device_id,
                 len(placement.placed), len(placement.unplaced), len(placement.skipped))


def grid_lookup(settings: Settings) -> Callable[[float, float], str | None]:
    """Point -> grid cell of the layer set (built once; seconds for the Heihe sample)."""
    from gis.assign import assign_points
    from stream.ingest.http.open311 import load_cell_index

    index = load_cell_index(settings.gis_manifest)

    def cell_of(lon: float, lat: float) -> str | None:
        found = assign_points(index, [lon], [lat])
        return None if found.outside[0] else str(found.cell_code[0])

    return cell_of
