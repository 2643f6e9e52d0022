"""Two real Faust workers split the 5,000 cameras by camera.priority partition and take over on failure."""

from __future__ import annotations

import asyncio
import time

import pytest

from stream import topics
from stream.cameras.sampler import Sampler, claim_key, fire_risk_rose
from stream.embedded.services import free_port
from stream.topics import partition_for
from tests.helpers.fleet import two_sampler_workers

pytestmark = pytest.mark.integration



async def _wait_for(condition, timeout_s: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.2)
    return False


async def test_two_workers_split_the_cameras_and_one_takes_over(make_settings, tmp_path) -> None:
    # no fleet on this port: every fetch fails fast, which is all this test needs
    settings = make_settings(vision_sampling=True,
                             vision_snapshot_url=f"http://127.0.0.1:{free_port()}/cameras/{{camera_id}}/snapshot.jpg",
                             vision_frame_budget_fps=20.0, vision_max_interval_s=600.0,
                             vision_evidence_dir=tmp_path / "evidence")
    first, second = await two_sampler_workers(settings)
    a: Sampler = first.vision_sampler
    b: Sampler = second.vision_sampler
    everyone = set(a.targets)
    await first.app.start()
    await second.app.start()
    stopped_second = False
    try:
        split = await _wait_for(lambda: a.owned and b.owned and len(a.owned) + len(b.owned) == len(everyone), 60)
        assert split, f"owned {len(a.owned)} + {len(b.owned)} of {len(everyone)}"
        assert not a.owned & b.owned and a.owned | b.owned == everyone
        partitions = topics.partitions_for(topics.CAMERA_PRIORITY, settings.partitions)
        for sampler in (a, b):  # each owns whole partitions, as the producers' partitioner places the keys
            owned_partitions = {partition_for(c, partitions) for c in sampler.owned}
            assert {c for c in everyone if partition_for(c, partitions) in owned_partitions} == sampler.owned
        assert 0.2 < len(a.owned) / len(everyone) < 0.8
        assert a.scheduler.budget_fps + b.scheduler.budget_fps == pytest.approx(20.0)
        await second.app.stop()
        stopped_second = True
        assert await _wait_for(lambda: a.owned == everyone, 60), "the survivor took every camera over"
        assert a.scheduler.budget_fps == pytest.approx(20.0)
    finally:
        if not stopped_second:
            await second.app.stop()
        await first.app.stop()


def test_claims_are_identified_by_their_subject() -> None:
    assert claim_key("incident INC-7 red") == claim_key("incident INC-7 closed") == "incident INC-7"
    assert claim_key("cell 231102001001001/fire red") == "cell 231102001001001/fire"


def test_only_a_rising_cell_fire_claim_asks_for_a_closer_look() -> None:
    assert fire_risk_rose("cell 231102001001001/fire", 50.0, 80.0)
    assert fire_risk_rose("cell 231102001001001/fire", 0.0, 50.0)
    assert not fire_risk_rose("cell 231102001001001/fire", 80.0, 50.0)  # falling
    assert not fire_risk_rose("cell 231102001001001/fire", 80.0, 80.0)  # re-sent unchanged
    assert not fire_risk_rose("cell 231102001001001/flood", 0.0, 80.0)
    assert not fire_risk_rose("incident INC-7", 0.0, 100.0)
