"""`amur cameras onvif-events`: ONVIF devices' own events (tamper, signal loss, image quality) as findings.

One kept PullPoint subscription per device listed in ``onvif_devices_file``
(:class:`vision.sources.onvif.EventSubscription`), pulled every
``onvif_events_interval_s``; what :func:`vision.sources.onvif.event_findings`
makes of the events goes to ``vision.findings`` (keyed by camera) with the cell
the inventory placed the camera in, where the incidents engine and the wall take
it like the analysis' findings. Credentials come from the stored table
(``vision_camera_credentials_file`` / ``vision_camera_credentials``), by camera id
or host. A device that cannot be reached, or whose subscription is lost, is
subscribed again after a back-off; its sampling shows it offline meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone

import click

from stream.cameras.sampler import Outputs, camera_credentials
from stream.errors import ConfigError
from stream.settings import Settings, load_settings
from vision.sources.credentials import credential_for
from vision.sources.errors import SourceError
from vision.sources.onvif import EventSubscription, OnvifDevice, event_findings, parse_devices

log = logging.getLogger(__name__)

RETRY_S = (1.0, 60.0)
"""Back-off of a device that cannot be subscribed: from the first value, doubling up to the second."""


def event_devices(settings: Settings) -> list[OnvifDevice]:
    """The devices of ``onvif_devices_file`` with their stored credentials (ConfigError naming what is wrong)."""
    path = settings.onvif_devices_file
    if path is None:
        raise ConfigError("onvif_devices_file is not set: list '<camera id> <host> <port>' lines in it")
    try:
        listed = parse_devices(path.read_text(encoding="utf-8"), str(path))
    except OSError as exc:
        raise ConfigError(f"onvif_devices_file {path}: {exc.strerror}") from None
    except SourceError as exc:
        raise ConfigError(str(exc)) from None
    table = camera_credentials(settings)
    devices = []
    for camera_id, host, port in listed:
        credential = credential_for(table, camera_id, f"http://{host}:{port}/")
        if credential is None:
            raise ConfigError(f"onvif device {camera_id} ({host}:{port}): no stored credentials for it or its host")
        devices.append(OnvifDevice(camera_id, host, port, credential.user, credential.password))
    return devices


class EventPoller:
    """Build, ``await start()``, ``await stop()``; ``cells_of(camera_id)`` gives a finding its cells."""

    def __init__(self, devices: Sequence[OnvifDevice], outputs: Outputs, cells_of: Callable[[str], list[str]],
                 *, every_s: float, timeout_s: float, clock: Callable[[], float] = time.time) -> None:
        self.devices = list(devices)
        self.outputs = outputs
        self.cells_of = cells_of
        self.every_s = every_s
        self.timeout_s = timeout_s
        self.clock = clock
        self.subscribed: dict[str, int] = {}
        """How many times each device was subscribed (1 while its first subscription holds)."""
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._follow(d), name=f"onvif-events-{d.camera_id}") for d in self.devices]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _follow(self, device: OnvifDevice) -> None:
        delay = RETRY_S[0]
        while True:
            subscription = EventSubscription(device, timeout_s=self.timeout_s)
            try:
                await subscription.open()
                self.subscribed[device.camera_id] = self.subscribed.get(device.camera_id, 0) + 1
                delay = RETRY_S[0]
                while not subscription.lost:
                    events = await subscription.pull()
                    at = datetime.fromtimestamp(self.clock(), timezone.utc)
                    found = event_findings(device.camera_id, events, self.cells_of(device.camera_id), at)
                    if found:
                        await self.outputs.send_findings(found)
                    await asyncio.sleep(self.every_s)
                log.warning("onvif event subscription lost camera=%s", device.camera_id)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any device failure: subscribe again after a back-off
                log.warning("onvif events failed camera=%s host=%s:%s error=%s retry_in_s=%.0f", device.camera_id,
                            device.host, device.port, type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(RETRY_S[1], delay * 2)
            finally:
                await asyncio.shield(subscription.close())


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    import redis.asyncio as aioredis
    from aiokafka import AIOKafkaProducer

    from stream.cameras.channels import ChannelStore
    from stream.cameras.gb28181_command import TopicOutputs
    from stream.runtime.admin import bootstrap_servers
    from stream.runtime.app import kafka_url

    devices = event_devices(settings)
    redis = aioredis.from_url(settings.redis_url)
    placed = {c.channel_id: c.cell_code for c in await ChannelStore(redis, settings.redis_prefix).placed()}
    await redis.aclose()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers(kafka_url(settings)), linger_ms=5)
    await producer.start()
    poller = EventPoller(devices, TopicOutputs(producer, settings),
                         lambda camera_id: [cell] if (cell := placed.get(camera_id)) else [],
                         every_s=settings.onvif_events_interval_s, timeout_s=settings.onvif_timeout_s)
    try:
        await poller.start()
        click.echo(f"following the events of {len(devices)} ONVIF device(s)")
        await stop.wait()
    finally:
        await poller.stop()
        await producer.stop()


@click.command(name="onvif-events", help="Follow ONVIF devices' events (tamper, signal loss, image quality) as "
                                         "camera-health findings. Devices: AMUR_ONVIF_DEVICES_FILE; credentials: "
                                         "AMUR_VISION_CAMERA_CREDENTIALS(_FILE) (docs/cameras.md).")
def command() -> int:
    settings = load_settings()
    from stream.runtime.logs import configure

    configure(settings.log_level)

    from stream.cameras.gb28181_command import run_until_signalled

    try:
        run_until_signalled(serve, settings)
    except ConfigError as exc:
        click.echo(f"amur cameras onvif-events: {exc}", err=True)
        return 2
    return 0
