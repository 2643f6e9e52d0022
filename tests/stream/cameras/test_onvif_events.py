"""`amur cameras onvif-events`: ONVIF devices' own events followed as camera-health findings.

Against the SOAP device simulator on loopback (onvif-zeep-async, one kept
PullPoint subscription per device, pulled repeatedly, unsubscribed at the end); a
device that does not answer is retried and delays nobody.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from stream.cameras.onvif_events import EventPoller, event_devices
from stream.embedded.services import free_port
from stream.errors import ConfigError
from stream.schemas import FindingKind
from stream.settings import load_settings
from tests.helpers.fleet import Collected
from tests.helpers.onvif_device import OnvifDevice as SimulatedDevice
from vision.sources.onvif import OnvifDevice

BOUND_S = 60.0
CAMERA = "23110200001320000001"
CELL = "231102001001001"


async def until(condition: Callable[[], bool], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + BOUND_S
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"not within {BOUND_S} s: {what}"
        await asyncio.sleep(0.05)


def test_devices_come_from_their_file_with_stored_credentials(tmp_path) -> None:
    devices = tmp_path / "onvif-devices"
    devices.write_text(f"# gate cameras\n{CAMERA} 10.0.0.7 80\ncam-2 10.0.0.8 8080  # NVR\n", encoding="utf-8")
    settings = load_settings(onvif_devices_file=devices,
                             vision_camera_credentials=f"{CAMERA} admin one;10.0.0.8 op two")
    assert event_devices(settings) == [OnvifDevice(CAMERA, "10.0.0.7", 80, "admin", "one"),
                                       OnvifDevice("cam-2", "10.0.0.8", 8080, "op", "two")]
    with pytest.raises(ConfigError, match=r"cam-2 \(10.0.0.8:8080\): no stored credentials"):
        event_devices(load_settings(onvif_devices_file=devices, vision_camera_credentials=f"{CAMERA} a b"))
    devices.write_text("cam-1 10.0.0.7 http\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="line 1: expected '<camera id> <host> <port>', got 'cam-1 10.0.0.7 http'"):
        event_devices(settings)
    with pytest.raises(ConfigError, match="onvif_devices_file is not set"):
        event_devices(load_settings())


@pytest.mark.integration
async def test_events_are_followed_on_one_kept_subscription(caplog) -> None:
    sim = SimulatedDevice("admin", "s3cret")
    await sim.start()
    out = Collected()
    gone = OnvifDevice("23110200001320000009", "127.0.0.1", free_port(), "admin", "x")  # nobody listens there
    poller = EventPoller([OnvifDevice(CAMERA, "127.0.0.1", sim.port, "admin", "s3cret"), gone], out,
                         lambda camera_id: [CELL], every_s=0.1, timeout_s=20.0)
    try:
        sim.events += [("tns1:VideoSource/GlobalSceneChange/ImagingService", True), ("tns1:VideoSource/MotionAlarm", True)]
        await poller.start()
        await until(lambda: len(out.findings) == 1, "the tamper finding")
        sim.events += [("tns1:VideoSource/SignalLoss", True)]
        await until(lambda: len(out.findings) == 2, "the signal-loss finding")
        assert [(f.camera_id, f.kind, f.confirmed, f.cells, f.source) for f in out.findings] == [
            (CAMERA, FindingKind.MOVED, True, [CELL], "onvif"), (CAMERA, FindingKind.OFFLINE, True, [CELL], "onvif")]
        assert sim.calls.count("CreatePullPointSubscription") == 1 and sim.calls.count("PullMessages") >= 2
        assert poller.subscribed == {CAMERA: 1}  # the unreachable device is being retried, never subscribed
        await until(lambda: "onvif events failed camera=23110200001320000009" in caplog.text, "the retry logged")
    finally:
        await poller.stop()
        await sim.stop()
    assert sim.calls[-1] == "Unsubscribe"  # left tidy, not to expire on the device
