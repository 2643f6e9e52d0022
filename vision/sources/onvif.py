"""ONVIF Profile S devices: profiles, snapshot and stream URIs, and what is wrong with the device.

Uses ``onvif-zeep-async`` (maintained, async, bundles the ONVIF WSDLs so no
schema is fetched at run time): ``update_xaddrs`` (``GetSystemDateAndTime``
without credentials, which gives the device's clock offset, then
``GetServices``), the media service's ``GetProfiles``, ``GetSnapshotUri`` and
``GetStreamUri`` of the first profile. The WS-Security timestamps are shifted
by the device's offset (``adjust_time``) so a device whose clock is off still
answers, and the offset itself is judged (:func:`fault_of`).

Outcomes come back as :class:`OnvifProbe`, never as exceptions: a refused
token is ``auth_failed``, a device that does not answer ``offline``, a clock
beyond the allowed offset ``clock_offset`` (the URIs are still returned).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from stream.schemas import FindingKind

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
