"""Real-camera channels (GB/T 28181, ONVIF) on the wall beside the registry's cameras.

The platforms place channels in the Redis inventory (:mod:`stream.cameras.channels`);
the gateway reads it again whenever it changes (one GET per check) and serves the
placed channels on the camera layer (``GET /api/cameras``), and lets their pictures
and live view through under the same scope rule as registry cameras. Their status
on the wall comes from the projection like every camera's (faults, decode status).
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
from redis.exceptions import RedisError

from stream.cameras.channels import InventoryWatcher
from vision.gb28181.placement import Channel

log = logging.getLogger(__name__)


def channel_rows(channels: Iterable[Channel]) -> list[list[Any]]:
    """Placed channels as camera-layer rows ``[id, label, county, lon, lat]`` (the registry's row shape).

    The label comes from the device's catalogue: escaped, since the page shows it as a tooltip."""
    return [[c.channel_id, html.escape(f"{c.name} · {c.department}"[:120]), c.county_code,
             round(c.lon, 5), round(c.lat, 5)]
            for c in sorted(channels, key=lambda c: c.channel_id)
            if c.cell_code and c.lon is not None and c.lat is not None]


class WallCameras:
    """The registry's cameras (fixed) and the inventory's placed channels (replaced on each change)."""

    def __init__(self, registry_rows: Sequence[Sequence[Any]], registry_cells: Mapping[str, str]) -> None:
        self.registry_rows = [list(row) for row in registry_rows]
        self.registry_cells = dict(registry_cells)
        self.channel_cells: dict[str, str] = {}
        self.body = orjson.dumps(self.registry_rows)

    def set_channels(self, channels: Iterable[Channel]) -> None:
        placed = [c for c in channels if c.cell_code and c.channel_id not in self.registry_cells]
        self.channel_cells = {c.channel_id: c.cell_code for c in placed if c.cell_code}
        self.body = orjson.dumps(self.registry_rows + channel_rows(placed))

    def known(self, camera_id: str) -> bool:
        return camera_id in self.registry_cells or camera_id in self.channel_cells

    def cell(self, camera_id: str) -> str | None:
        return self.registry_cells.get(camera_id) or self.channel_cells.get(camera_id)


async def follow_inventory(watcher: InventoryWatcher, cameras: WallCameras, every_s: float) -> None:
    """Keep ``cameras`` up to date with the inventory, checking every ``every_s`` (until cancelled)."""
    while True:
        try:
            channels = await watcher.channels_if_changed()
            if channels is not None:
                cameras.set_channels(channels)
                log.info("wall cameras: inventory channels=%s", len(cameras.channel_cells))
        except (OSError, RedisError) as exc:  # Redis away for a while: the wall keeps what it had
            log.warning("camera inventory not read error=%r", exc)
        await asyncio.sleep(every_s)
