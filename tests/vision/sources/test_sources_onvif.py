"""ONVIF Profile S through onvif-zeep-async against the SOAP device simulator on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timezone

import pytest

from stream.embedded.services import free_port
from stream.schemas import FindingKind
from tests.helpers.onvif_device import OnvifDevice as SimulatedDevice
from vision.sources.http import SnapshotClient
from vision.sources.onvif import OnvifDevice, event_findings, event_kind, fault_of, probe, pull_events
from vision.sources.outcome import FetchOutcome

pytestmark = pytest.mark.integration

BOUND_S = 60.0


@pytest.fixture
async def device() -> AsyncIterator[SimulatedDevice]:
    sim = SimulatedDevice("admin", "s3cret")
    await sim.start()
    yield sim
    await sim.stop()


def target(sim: SimulatedDevice, password: str = "s3cret") -> OnvifDevice:
    return OnvifDevice("23110200001320000001", "127.0.0.1", sim.port, "admin", password)


async def test_profiles_and_uris_then_the_snapshot_is_sampled(device: SimulatedDevice) -> None:
    found = await probe(target(device), timeout_s=BOUND_S, max_offset_s=5.0)
    assert found.fault is None and found.profiles == ("main", "sub")
    assert found.snapshot_uri == f"{device.base}/snapshot.jpg"
    assert found.stream_uri == f"rtsp://127.0.0.1:{device.port + 1}/main"
    assert device.calls == ["GetSystemDateAndTime", "GetServices", "GetProfiles", "GetSnapshotUri", "GetStreamUri"]
    client = SnapshotClient(concurrency=2, timeout_s=BOUND_S)  # the sampler's own snapshot client
    try:
        fetched = await client.fetch(found.camera_id, found.snapshot_uri)
    finally:
        await client.close()
    assert fetched.outcome is FetchOutcome.OK


async def test_a_refused_token_is_the_cameras_auth_fault(device: SimulatedDevice) -> None:
    found = await probe(target(device, password="wrong"), timeout_s=BOUND_S, max_offset_s=5.0)
    assert found.fault is FindingKind.AUTH_FAILED and found.snapshot_uri is None


async def test_a_clock_an_hour_off_still_answers_and_is_a_fault(device: SimulatedDevice) -> None:
    device.clock_offset_s = 3600.0
    found = await probe(target(device), timeout_s=BOUND_S, max_offset_s=5.0)
    assert found.fault is FindingKind.CLOCK_OFFSET and found.snapshot_uri is not None
    assert found.clock_offset_s is not None and 3500 < found.clock_offset_s < 3700


async def test_an_unreachable_device_is_offline() -> None:
    port = free_port()  # nothing listens there
    found = await probe(OnvifDevice("cam", "127.0.0.1", port, "admin", "x"), timeout_s=BOUND_S, max_offset_s=5.0)
    assert found.fault is FindingKind.OFFLINE and "Connect" in found.detail


def test_offset_judged_both_ways() -> None:
    assert fault_of(None, 5.0) is None and fault_of(4.9, 5.0) is None
    assert fault_of(-6.0, 5.0) is FindingKind.CLOCK_OFFSET
    assert asyncio.iscoroutinefunction(probe)


async def test_device_events_become_camera_health_findings(device: SimulatedDevice) -> None:
    device.events += [("tns1:VideoSource/GlobalSceneChange/ImagingService", True),
                      ("tns1:VideoSource/MotionAlarm", True), ("tns1:VideoSource/SignalLoss", False)]
    events = await pull_events(target(device), timeout_s=BOUND_S)
    assert [(e.topic.rsplit("/", 1)[-1], e.state) for e in events] == [
        ("ImagingService", True), ("MotionAlarm", True), ("SignalLoss", False)]
    at = datetime.now(timezone.utc)
    found = event_findings("cam-1", events, ["231102001001001"], at)
    assert [(f.kind, f.confirmed, f.cells) for f in found] == [
        (FindingKind.MOVED, True, ["231102001001001"]), (FindingKind.OFFLINE, False, ["231102001001001"])]
    assert device.calls[-2:] == ["CreatePullPointSubscription", "PullMessages"]


def test_event_topics() -> None:
    assert event_kind("tns1:VideoSource/ImageTooBlurry/ImagingService") is FindingKind.BLURRED
    assert event_kind("tns1:RuleEngine/CellMotionDetector/Motion") is None
