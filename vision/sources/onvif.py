"""ONVIF Profile S devices: profiles, snapshot and stream URIs, and what is wrong with the device.

Uses ``onvif-zeep-async`` (maintained, async, bundles the ONVIF WSDLs so no
schema is fetched at run time): ``update_xaddrs`` (``GetSystemDateAndTime``
without credentials, which gives the device's clock offset, then
``GetServices``), the media service's ``GetProfiles``, ``GetSnapshotUri`` and
``GetStreamUri`` of the first profile. The WS-Security timestamps are shifted
by the device's offset (``adjust_time``) so a device whose clock is off still
answers, and the offset itself is judged (:func:`fault_of`).

:func:`pull_events` polls the device's events once (PullPoint: subscribe for
60 s, ``PullMessages``); :class:`EventSubscription` keeps one subscription per
device (renewed by the library) for a poller; :func:`event_findings` turns tamper,
signal loss and image-quality events into findings beside Amur's own analysis.

Outcomes come back as :class:`OnvifProbe`, never as exceptions: a refused
token is ``auth_failed``, a device that does not answer ``offline``, a clock
beyond the allowed offset ``clock_offset`` (the URIs are still returned).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from stream.schemas import FindingKind, VisionFinding
from vision.gb28181.placement import Channel, Placement
from vision.sources.errors import SourceError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OnvifDevice:
    camera_id: str
    host: str
    port: int
    username: str
    password: str


@dataclass(frozen=True, slots=True)
class OnvifProbe:
    camera_id: str
    profiles: tuple[str, ...] = ()
    snapshot_uri: str | None = None
    stream_uri: str | None = None
    clock_offset_s: float | None = None
    fault: FindingKind | None = None
    detail: str = ""


def fault_of(clock_offset_s: float | None, max_offset_s: float) -> FindingKind | None:
    """A clock off by more than the allowed offset is a fault (snapshots' times and events are wrong)."""
    if clock_offset_s is not None and abs(clock_offset_s) > max_offset_s:
        return FindingKind.CLOCK_OFFSET
    return None


async def probe(device: OnvifDevice, *, timeout_s: float, max_offset_s: float) -> OnvifProbe:
    """Read a device's profiles and URIs; the fault it shows, if any."""
    from onvif import ONVIFCamera
    from onvif.exceptions import ONVIFAuthError, ONVIFError
    from onvif.util import is_auth_error
    from zeep.exceptions import Fault

    camera = ONVIFCamera(device.host, device.port, device.username, device.password, adjust_time=True)
    try:
        async with asyncio.timeout(timeout_s):
            await camera.update_xaddrs()
            offset = camera.dt_diff.total_seconds() if camera.dt_diff is not None else None
            media = await camera.create_media_service()
            profiles = await media.GetProfiles()
            tokens = tuple(p.token for p in profiles)
            if not tokens:
                return OnvifProbe(device.camera_id, clock_offset_s=offset, fault=FindingKind.OFFLINE,
                                  detail="the device has no media profile")
            snapshot = await media.GetSnapshotUri({"ProfileToken": tokens[0]})
            stream = await media.GetStreamUri({"ProfileToken": tokens[0], "StreamSetup": {
                "Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}})
    except ONVIFAuthError as exc:
        return _failed(device, FindingKind.AUTH_FAILED, exc)
    except Fault as exc:
        kind = FindingKind.AUTH_FAILED if is_auth_error(exc) else FindingKind.OFFLINE
        return _failed(device, kind, exc)
    except (ONVIFError, TimeoutError, OSError) as exc:
        if isinstance(exc.__cause__, Fault) and is_auth_error(exc.__cause__):
            return _failed(device, FindingKind.AUTH_FAILED, exc)
        return _failed(device, FindingKind.OFFLINE, exc)
    finally:
        await camera.close()
    fault = fault_of(offset, max_offset_s)
    return OnvifProbe(device.camera_id, tokens, snapshot.Uri, stream.Uri, offset, fault,
                      f"clock off by {offset:.0f} s" if fault else "")


def _failed(device: OnvifDevice, kind: FindingKind, exc: BaseException) -> OnvifProbe:
    log.info("onvif probe failed camera=%s host=%s:%s fault=%s error=%s", device.camera_id, device.host,
             device.port, kind.value, type(exc).__name__)
    return OnvifProbe(device.camera_id, fault=kind, detail=f"{type(exc).__name__}: {str(exc)[:200]}")


EVENT_KINDS: dict[str, FindingKind] = {
    "VideoSource/SignalLoss": FindingKind.OFFLINE,
    "VideoSource/GlobalSceneChange": FindingKind.MOVED,
    "VideoSource/ImageTooBlurry": FindingKind.BLURRED,
    "VideoSource/ImageTooDark": FindingKind.DARK,
    "VideoSource/ImageTooBright": FindingKind.OVEREXPOSED,
}
"""ONVIF event topics (Core spec, VideoSource) that are camera-health evidence; motion and rules are not."""


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    topic: str
    state: bool


def event_kind(topic: str) -> FindingKind | None:
    """``tns1:VideoSource/GlobalSceneChange/ImagingService`` -> ``moved``; None for topics that are no fault."""
    path = topic.split(":", 1)[-1]
    return next((kind for prefix, kind in EVENT_KINDS.items() if path.startswith(prefix)), None)


async def pull_events(device: OnvifDevice, *, timeout_s: float, limit: int = 100) -> list[DeviceEvent]:
    """One PullPoint round: subscribe, pull what the device holds, unsubscribe (a poll, not a kept subscription)."""
    from onvif import ONVIFCamera

    camera = ONVIFCamera(device.host, device.port, device.username, device.password, adjust_time=True)
    try:
        async with asyncio.timeout(timeout_s):
            await camera.update_xaddrs()
            events = await camera.create_events_service()
            subscribed = await events.CreatePullPointSubscription({"InitialTerminationTime": "PT60S"})
            camera.xaddrs["http://www.onvif.org/ver10/events/wsdl/PullPointSubscription"] = \
                subscribed.SubscriptionReference.Address._value_1
            pullpoint = await camera.create_pullpoint_service()
            pulled = await pullpoint.PullMessages({"Timeout": "PT1S", "MessageLimit": limit})
    finally:
        await camera.close()
    found = []
    for message in pulled.NotificationMessage or []:
        topic = str(message.Topic._value_1).strip()
        found.append(DeviceEvent(topic, _state(message.Message._value_1)))
    return found


class EventSubscription:
    """A kept PullPoint subscription of one device: ``open()``, ``pull()`` as often as wanted, ``close()``.

    onvif-zeep-async's ``PullPointManager`` creates it and renews it before it terminates (devices keep
    only a few subscriptions: one per device, not one per poll); ``lost`` turns true when a renewal fails,
    and the owner opens a new one."""

    def __init__(self, device: OnvifDevice, *, timeout_s: float, keep_s: float = 60.0) -> None:
        self.device = device
        self.timeout_s = timeout_s
        self.keep_s = keep_s
        self.lost = False
        self._camera: Any = None
        self._manager: Any = None

    async def open(self) -> None:
        from datetime import timedelta

        from onvif import ONVIFCamera

        self._camera = ONVIFCamera(self.device.host, self.device.port, self.device.username, self.device.password,
                                   adjust_time=True)
        async with asyncio.timeout(self.timeout_s):
            await self._camera.update_xaddrs()
            self._manager = await self._camera.create_pullpoint_manager(timedelta(seconds=self.keep_s),
                                                                        self._on_lost)

    def _on_lost(self) -> None:
        self.lost = True

    async def pull(self, *, wait_s: int = 1, limit: int = 100) -> list[DeviceEvent]:
        """The events the device holds now (waiting at most ``wait_s`` on the device for the first)."""
        assert self._manager is not None, "open() first"
        async with asyncio.timeout(self.timeout_s + wait_s):
            pulled = await self._manager.get_service().PullMessages({"Timeout": f"PT{wait_s}S", "MessageLimit": limit})
        return [DeviceEvent(str(m.Topic._value_1).strip(), _state(m.Message._value_1))
                for m in pulled.NotificationMessage or []]

    async def close(self) -> None:
        """Unsubscribe (best effort) and close the device's connections."""
        try:
            if self._manager is not None:
                async with asyncio.timeout(self.timeout_s):
                    await self._manager.shutdown()
        except Exception as exc:  # noqa: BLE001 - the device may be gone; its subscription then expires
            log.debug("onvif unsubscribe failed camera=%s error=%r", self.device.camera_id, exc)
        finally:
            if self._camera is not None:
                await self._camera.close()
            self._camera = self._manager = None


def parse_devices(text: str, origin: str) -> list[tuple[str, str, int]]:
    """``<camera id> <host> <port>`` lines (``#`` comments) -> the devices whose events are polled."""
    found: list[tuple[str, str, int]] = []
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        if len(fields) != 3 or not fields[2].isdigit() or not 0 < int(fields[2]) < 65536:
            raise SourceError(f"{origin} line {number}: expected '<camera id> <host> <port>', got {line.strip()[:80]!r}")
        found.append((fields[0], fields[1], int(fields[2])))
    return found


STATE_ITEMS = ("State", "IsTamper", "IsMotion", "IsSignalLoss", "IsTooBlurry", "IsTooDark", "IsTooBright")


def _state(message: Any) -> bool:
    """The boolean ``Data/SimpleItem`` of an event (zeep's object, or raw XML for a message it could not type)."""
    if hasattr(message, "iter"):
        items = [(e.get("Name"), e.get("Value")) for e in message.iter() if str(e.tag).endswith("SimpleItem")]
    else:
        data = getattr(message, "Data", None)
        items = [(i.Name, i.Value) for i in (getattr(data, "SimpleItem", None) or [])]
    return any(name in STATE_ITEMS and str(value).lower() == "true" for name, value in items)


def event_findings(camera_id: str, events: list[DeviceEvent], cells: list[str], at: datetime,
                   source: str = "onvif") -> list[VisionFinding]:
    """Camera-health events as findings beside Amur's own analysis: a state that turns true is a confirmed
    finding, one that turns false clears it (unconfirmed); motion and rule events are left out."""
    found = []
    for event in events:
        kind = event_kind(event.topic)
        if kind is not None:
            found.append(VisionFinding(source=source, event_time=at, camera_id=camera_id, kind=kind,
                                       score=0.9 if event.state else 0.0, confirmed=event.state, cells=list(cells)))
    return found


def inventory_entry(found: OnvifProbe, device: OnvifDevice, department: str, lon: float | None, lat: float | None,
                    cell_of: Callable[[float, float], str | None]) -> Placement:
    """An ONVIF camera an operator adds, as an inventory row: in the cell of the position the operator gives, or
    listed to place (ONVIF devices carry no position). A device that gave no snapshot URI is not added."""
    if found.snapshot_uri is None:
        return Placement((), (), (found.camera_id,))
    county = found.camera_id[:6] if found.camera_id[:6].isdigit() else ""
    cell = cell_of(lon, lat) if lon is not None and lat is not None else None
    channel = Channel(found.camera_id, f"onvif:{device.host}:{device.port}", found.camera_id, department,
                      cell[:6] if cell else county, lon, lat, cell, found.fault is None,
                      "" if cell else ("position outside every grid cell" if lon is not None else "no position given"))
    return Placement((channel,), (), ()) if cell else Placement((), (channel,), ())
