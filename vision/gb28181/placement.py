"""A device's catalogue -> camera inventory rows: each channel in its grid cell, or listed for an operator to place.

A channel's county is the GB/T 2260 code at the head of its ``CivilCode``
(else of its own 20-digit id). A channel with a position goes into the cell that
contains it (``cell_of``, a point-in-polygon lookup passed in); one without a
position, or whose position falls outside every cell, is *unplaced*: listed with
its county and the reason, for an operator to place. Groups and non-camera items
of the catalogue (NVRs, business groups, virtual organisations) are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from vision.gb28181.manscdp import CatalogItem


@dataclass(frozen=True, slots=True)
class Channel:
    channel_id: str
    device_id: str
    name: str
    department: str
    county_code: str
    lon: float | None
    lat: float | None
    cell_code: str | None
    """None: unplaced (see ``unplaced_reason``)."""
    online: bool = True
    unplaced_reason: str = ""


@dataclass(frozen=True, slots=True)
class Placement:
    placed: tuple[Channel, ...]
    unplaced: tuple[Channel, ...]
    skipped: tuple[str, ...]
    """Catalogue items that are not camera channels."""


def county_of(item: CatalogItem) -> str:
    """The 6-digit GB/T 2260 code of the channel: its CivilCode's head, else its id's."""
    civil = item.civil_code if item.civil_code[:6].isdigit() and len(item.civil_code) >= 6 else item.device_id
    return civil[:6]


def place(device_id: str, items: Iterable[CatalogItem], department: str,
          cell_of: Callable[[float, float], str | None]) -> Placement:
    placed: list[Channel] = []
    unplaced: list[Channel] = []
    skipped: list[str] = []
    for item in items:
        if not item.is_camera:
            skipped.append(item.device_id)
            continue
        county = county_of(item)
        if item.longitude is None or item.latitude is None:
            unplaced.append(Channel(item.device_id, device_id, item.name, department, county, None, None, None,
                                    item.online, "no coordinates in the catalogue"))
            continue
        cell = cell_of(item.longitude, item.latitude)
        channel = Channel(item.device_id, device_id, item.name, department, county, item.longitude, item.latitude,
                          cell, item.online, "" if cell else "position outside every grid cell")
        (placed if cell else unplaced).append(channel)
    return Placement(tuple(placed), tuple(unplaced), tuple(skipped))
