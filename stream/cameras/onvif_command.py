"""`amur cameras discover` and `amur cameras onvif`: find ONVIF devices on a subnet, read one device.

Both only print: adding a camera to the inventory stays an operator's decision.
"""

from __future__ import annotations

import asyncio
import json

import click

from stream.settings import Settings, load_settings
from vision.gb28181.placement import Placement
from vision.sources.onvif import OnvifDevice, OnvifProbe


@click.command(name="discover", help="WS-Discovery: probe every address of a subnet for ONVIF devices and list "
                                     "them (never automatic; nothing is added).")
@click.option("--subnet", required=True, help="the subnet to probe, e.g. 10.20.0.0/24 (at most 1,024 addresses)")
@click.option("--port", type=click.IntRange(1, 65535), default=3702, show_default=True, help="WS-Discovery port")
@click.option("--wait", "wait_s", type=click.FloatRange(0.1, 30.0), default=3.0, show_default=True,
              help="seconds to wait for answers")
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of a table")
def discover_command(subnet: str, port: int, wait_s: float, as_json: bool) -> int:
    from vision.sources.discovery import discover, hosts_of
    from vision.sources.errors import SourceError

    try:
        hosts = hosts_of(subnet)
    except SourceError as exc:
        raise click.BadParameter(str(exc), param_hint="--subnet") from exc
    found = asyncio.run(discover(hosts, port=port, wait_s=wait_s))
    for device in found:
        if as_json:
            click.echo(json.dumps({"address": device.address, "endpoint": device.endpoint,
                                   "xaddrs": list(device.xaddrs), "scopes": list(device.scopes)}))
        else:
            click.echo(f"{device.address}\t{' '.join(device.xaddrs)}\t{' '.join(device.scopes)}")
    if not as_json:
        click.echo(f"{len(found)} device(s) answered from {len(hosts)} address(es)", err=True)
    return 0


@click.command(name="onvif", help="Read an ONVIF device's profiles, snapshot and stream URIs, and its faults "
                                  "(auth_failed, offline, clock_offset).")
@click.option("--host", required=True, help="device address")
@click.option("--port", type=click.IntRange(1, 65535), default=80, show_default=True, help="device HTTP port")
@click.option("--user", required=True, help="ONVIF user name")
@click.option("--password", required=True, envvar="AMUR_ONVIF_PASSWORD", help="password (or AMUR_ONVIF_PASSWORD)")
@click.option("--camera-id", default="onvif", show_default=True, help="the camera's id in Amur")
@click.option("--add", is_flag=True, help="add it to the camera inventory (Redis) with its snapshot URI")
@click.option("--department", default="police", show_default=True, help="department of the camera (with --add)")
@click.option("--lon", type=click.FloatRange(-180, 180), help="longitude, WGS84 (with --add; else listed to place)")
@click.option("--lat", type=click.FloatRange(-90, 90), help="latitude, WGS84 (with --add)")
def onvif_command(host: str, port: int, user: str, password: str, camera_id: str, add: bool, department: str,
                  lon: float | None, lat: float | None) -> int:
    from vision.sources.onvif import probe

    settings = load_settings()
    device = OnvifDevice(camera_id, host, port, user, password)
    found = asyncio.run(probe(device, timeout_s=settings.onvif_timeout_s,
                              max_offset_s=settings.onvif_max_clock_offset_s))
    if add:
        asyncio.run(add_to_inventory(settings, found, device, department, lon, lat))
    click.echo(json.dumps({"camera_id": found.camera_id, "profiles": list(found.profiles),
                           "snapshot_uri": found.snapshot_uri, "stream_uri": found.stream_uri,
                           "clock_offset_s": found.clock_offset_s,
                           "fault": found.fault.value if found.fault else None, "detail": found.detail}))
    return 1 if found.fault else 0


async def add_to_inventory(settings: Settings, found: OnvifProbe, device: OnvifDevice, department: str,
                           lon: float | None, lat: float | None) -> Placement:
    """The probed camera into the inventory (placed, or listed to place) with its snapshot URI for the sampler."""
    import redis.asyncio as aioredis

    from stream.cameras.channels import ChannelStore
    from stream.cameras.gb28181 import grid_lookup
    from vision.sources.onvif import inventory_entry

    cell_of = await asyncio.to_thread(grid_lookup, settings)
    entry = inventory_entry(found, device, department, lon, lat, cell_of)
    client = aioredis.from_url(settings.redis_url)
    try:
        urls = {c.channel_id: found.snapshot_uri for c in (*entry.placed, *entry.unplaced) if found.snapshot_uri}
        await ChannelStore(client, settings.redis_prefix).save(entry, urls)
    finally:
        await client.aclose()
    return entry
