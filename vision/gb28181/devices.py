"""Who is registered, who keeps alive, and who went offline: the upper platform's device table.

Pure: every change takes ``now`` (POSIX seconds). A device is online from a
successful REGISTER until it unregisters (``Expires: 0``), its registration
expires, or it misses ``missed`` keepalive intervals in a row (GB/T 28181-2016
§9.6: 60 s and 3 by default). :meth:`Devices.sweep` says which devices have
just gone offline, once each, with the channels that go with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from vision.gb28181.manscdp import CatalogItem, CatalogResponse


@dataclass(frozen=True, slots=True)
class KeepalivePolicy:
    interval_s: float = 60.0
    missed: int = 3

    @property
    def window_s(self) -> float:
        return self.interval_s * self.missed


@dataclass(slots=True)
class Device:
    device_id: str
    address: tuple[str, int]
    transport: str
    registered_at: float
    expires_at: float
    last_seen: float
    online: bool = True
    channels: dict[str, CatalogItem] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WentOffline:
    device_id: str
    reason: str
    """``keepalive`` (missed window), ``expired`` (registration not refreshed), ``unregistered``."""
    channels: tuple[str, ...]


@dataclass
class Catalogue:
    """Items of one Catalog response, which a device may split over many MESSAGEs (``SumNum`` in each)."""

    sum_num: int = 0
    items: dict[str, CatalogItem] = field(default_factory=dict)

    def add(self, response: CatalogResponse) -> bool:
        """Take one part; True once every item announced has arrived."""
        self.sum_num = max(self.sum_num, response.sum_num)
        for item in response.items:
            self.items[item.device_id] = item
        return len(self.items) >= self.sum_num


class Devices:
    """The registered devices, their channels and their liveness."""

    def __init__(self, policy: KeepalivePolicy) -> None:
        self.policy = policy
        self.devices: dict[str, Device] = {}
        self.catalogues: dict[str, Catalogue] = {}

    def register(self, device_id: str, address: tuple[str, int], transport: str, expires_s: int, now: float) -> bool:
        """A successful REGISTER; True when the device was not online before (it needs a Catalog query)."""
        known = self.devices.get(device_id)
        fresh = known is None or not known.online
        if known is None:
            known = self.devices[device_id] = Device(device_id, address, transport, now, now + expires_s, now)
        known.address, known.transport, known.expires_at, known.last_seen = address, transport, now + expires_s, now
        if fresh:
            known.registered_at, known.online = now, True
        return fresh

    def unregister(self, device_id: str) -> WentOffline | None:
        known = self.devices.get(device_id)
        if known is None or not known.online:
            return None
        known.online = False
        return WentOffline(device_id, "unregistered", tuple(known.channels))

    def seen(self, device_id: str, address: tuple[str, int], now: float) -> bool:
        """A keepalive (or any MESSAGE) from the device; False if it is not registered (it must REGISTER)."""
        known = self.devices.get(device_id)
        if known is None or not known.online:
            return False
        known.last_seen, known.address = now, address
        return True

    def catalogue(self, response: CatalogResponse) -> tuple[CatalogItem, ...] | None:
        """One part of a device's Catalog response; the complete catalogue when it is the last part."""
        known = self.devices.get(response.device_id)
        if known is None:
            return None
        building = self.catalogues.setdefault(response.device_id, Catalogue())
        if not building.add(response):
            return None
        del self.catalogues[response.device_id]
        known.channels = dict(building.items)
        return tuple(building.items.values())

    def changes(self, device_id: str, items: tuple[CatalogItem, ...]) -> bool:
        """A catalogue notification: the device's channels added, updated, deleted or switched on or off.

        ON/OFF/VLOST/DEFECT change a known channel's status only (the item may carry nothing else).
        False if the device is not registered."""
        known = self.devices.get(device_id)
        if known is None:
            return False
        for item in items:
            if item.event == "DEL":
                known.channels.pop(item.device_id, None)
            elif item.event in ("ADD", "UPDATE") or item.device_id not in known.channels:
                known.channels[item.device_id] = item
            else:
                known.channels[item.device_id] = replace(known.channels[item.device_id],
                                                         status="ON" if item.event == "ON" else "OFF")
        return True

    def owner_of(self, channel_id: str) -> Device | None:
        """The device a channel (or the device itself) belongs to."""
        if channel_id in self.devices:
            return self.devices[channel_id]
        return next((d for d in self.devices.values() if channel_id in d.channels), None)

    def sweep(self, now: float) -> list[WentOffline]:
        """Devices that have just gone offline: keepalive window missed, or registration expired."""
        gone = []
        for device in self.devices.values():
            if not device.online:
                continue
            if now - device.last_seen > self.policy.window_s:
                reason = "keepalive"
            elif now > device.expires_at:
                reason = "expired"
            else:
                continue
            device.online = False
            gone.append(WentOffline(device.device_id, reason, tuple(device.channels)))
        return gone

    def online(self) -> list[str]:
        return [d.device_id for d in self.devices.values() if d.online]
