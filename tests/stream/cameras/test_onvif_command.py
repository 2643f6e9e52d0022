"""An ONVIF camera added to the inventory by `amur cameras onvif --add`, then found by a worker's sampler."""

from __future__ import annotations

import pytest

from gis.registry import load_cameras
from stream.cameras.channels import stored_targets
from stream.cameras.onvif_command import add_to_inventory
from stream.cli.main import main as amur
from tests.helpers.onvif_device import OnvifDevice as SimulatedDevice
from vision.sources.http import SnapshotClient
from vision.sources.onvif import OnvifDevice, probe
from vision.sources.outcome import FetchOutcome

pytestmark = pytest.mark.integration


async def test_added_with_a_position_it_is_placed_and_sampled(make_settings) -> None:
    settings = make_settings()
    sim = SimulatedDevice("admin", "pw")
    await sim.start()
    try:
        where = next(c for c in load_cameras() if c.county_code == "231102")
        placed_device = OnvifDevice("23110200001320009001", "127.0.0.1", sim.port, "admin", "pw")
        found = await probe(placed_device, timeout_s=60, max_offset_s=5)
        entry = await add_to_inventory(settings, found, placed_device, "tourism", where.lon, where.lat)
        assert [(c.channel_id, c.cell_code[:12], c.department) for c in entry.placed] == [
            ("23110200001320009001", where.cell_code[:12], "tourism")]
        loose = OnvifDevice("23110200001320009002", "127.0.0.1", sim.port, "admin", "pw")
        entry = await add_to_inventory(settings, await probe(loose, timeout_s=60, max_offset_s=5), loose,
                                       "tourism", None, None)
        assert [(c.channel_id, c.unplaced_reason) for c in entry.unplaced] == [
            ("23110200001320009002", "no position given")]
        targets = stored_targets(settings.redis_url, settings.redis_prefix)
        assert set(targets) == {"23110200001320009001"}  # only placed cameras are sampled
        client = SnapshotClient(concurrency=1, timeout_s=60)
        try:
            fetched = await client.fetch("23110200001320009001", targets["23110200001320009001"].address)
        finally:
            await client.close()
        assert fetched.outcome is FetchOutcome.OK
    finally:
        await sim.stop()


def test_help() -> None:
    assert amur(["cameras", "onvif", "--help"]) == 0 and amur(["cameras", "discover", "--help"]) == 0
