"""MANSCDP XML bodies (``Application/MANSCDP+xml``) of GB/T 28181-2016, read and written.

Read: ``Notify`` Keepalive, Alarm and Catalog (changes pushed by the device,
each item with its ``Event``), ``Response`` Catalog and DeviceControl.
Written: ``Query`` Catalog and Alarm (subscription), ``Control`` DeviceControl
with ``GuardCmd`` (布防/撤防). Devices declare ``encoding="GB2312"``: the body is
decoded with that codec (GB18030, its superset) before parsing, since expat reads
no multi-byte legacy encoding. A DOCTYPE or entity declaration is refused
outright (no entity expansion, no external fetch); so is a body over 256 kB.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.sax.saxutils import escape

from vision.gb28181.errors import ManscdpError

MAX_BODY = 256 * 1024
DEVICE_ID = re.compile(r"^[0-9]{20}$")
_DECL = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9_.-]+)[\"'][^>]*\?>", re.I)
CATALOG_EVENTS = frozenset({"ON", "OFF", "VLOST", "DEFECT", "ADD", "DEL", "UPDATE"})
"""A catalogue notification's item events (GB/T 28181-2016 A.2.5: online, offline, video lost, fault, added,
deleted, updated)."""
CAMERA_TYPES = frozenset({"131", "132"})
"""Type digits (11th–13th of an id) of a camera channel; 111 DVR, 118 NVR, 200 platform, 215/216 groups."""


@dataclass(frozen=True, slots=True)
class Keepalive:
    device_id: str
    sn: int
    status: str


@dataclass(frozen=True, slots=True)
class CatalogItem:
    device_id: str
    name: str
    civil_code: str
    status: str = "ON"
    parent_id: str = ""
    manufacturer: str = ""
    longitude: float | None = None
    latitude: float | None = None
    event: str = ""
    """In a catalogue notification: one of :data:`CATALOG_EVENTS`; empty in a Catalog response."""

    @property
    def is_camera(self) -> bool:
        return self.device_id[10:13] in CAMERA_TYPES

    @property
    def online(self) -> bool:
        return self.status.upper() in ("ON", "ONLINE")


@dataclass(frozen=True, slots=True)
class CatalogResponse:
    device_id: str
    sn: int
    sum_num: int
    items: tuple[CatalogItem, ...]


@dataclass(frozen=True, slots=True)
class CatalogNotify:
    """Channels that changed, pushed by the device (every item has an ``event``)."""

    device_id: str
    sn: int
    items: tuple[CatalogItem, ...]


@dataclass(frozen=True, slots=True)
class AlarmNotify:
    device_id: str
    """The alarming channel (or the device itself)."""
    sn: int
    priority: int
    """1 first-level (most urgent) … 4."""
    method: int
    """1 telephone, 2 device, 3 SMS, 4 GPS, 5 video, 6 device fault, 7 other."""
    alarm_type: int | None
    time: str
    description: str = ""
    longitude: float | None = None
    latitude: float | None = None


@dataclass(frozen=True, slots=True)
class ControlResponse:
    device_id: str
    sn: int
    result: str


Message = Keepalive | CatalogResponse | CatalogNotify | AlarmNotify | ControlResponse


def parse(body: bytes) -> Message:
    """One MANSCDP body -> its message; :class:`ManscdpError` naming the field and value otherwise."""
    root = _root(body)
    cmd = _text(root, "CmdType")
    kind = (root.tag, cmd)
    if kind == ("Notify", "Keepalive"):
        return Keepalive(_device_id(root, "DeviceID"), _int(root, "SN"), _text(root, "Status", "OK"))
    if kind == ("Notify", "Alarm"):
        return AlarmNotify(
            device_id=_device_id(root, "DeviceID"), sn=_int(root, "SN"),
            priority=_int(root, "AlarmPriority", 4, 1, 4), method=_int(root, "AlarmMethod", 2, 1, 7),
            alarm_type=_optional_int(root.find("Info/AlarmType")), time=_text(root, "AlarmTime", ""),
            description=_text(root, "AlarmDescription", "")[:500],
            longitude=_coordinate(root, "Longitude", 180.0), latitude=_coordinate(root, "Latitude", 90.0))
    if kind == ("Response", "Catalog"):
        items = root.find("DeviceList")
        entries = [] if items is None else list(items.findall("Item"))
        return CatalogResponse(_device_id(root, "DeviceID"), _int(root, "SN"), _int(root, "SumNum", 0, 0, 100_000),
                               tuple(_item(e) for e in entries))
    if kind == ("Notify", "Catalog"):
        items = root.find("DeviceList")
        changed = tuple(_item(e) for e in ([] if items is None else items.findall("Item")))
        missing = next((i.device_id for i in changed if not i.event), None)
        if missing is not None:
            raise ManscdpError(f"Item/Event: missing for {missing} in a catalogue notification")
        return CatalogNotify(_device_id(root, "DeviceID"), _int(root, "SN"), changed)
    if kind == ("Response", "DeviceControl"):
        return ControlResponse(_device_id(root, "DeviceID"), _int(root, "SN"), _text(root, "Result", "OK"))
    raise ManscdpError(f"root/CmdType: unsupported {root.tag[:32]!r}/{cmd[:32]!r}")


def catalog_query(sn: int, device_id: str) -> bytes:
    return _doc("Query", "Catalog", sn, device_id)


def alarm_query(sn: int, device_id: str) -> bytes:
    """The body of the Alarm SUBSCRIBE: every priority and method, from now on."""
    return _doc("Query", "Alarm", sn, device_id,
                "<StartAlarmPriority>1</StartAlarmPriority><EndAlarmPriority>4</EndAlarmPriority>"
                "<AlarmMethod>0</AlarmMethod>")


def guard_command(sn: int, device_id: str, *, arm: bool = True) -> bytes:
    """DeviceControl ``GuardCmd`` SetGuard (布防) or ResetGuard (撤防)."""
    return _doc("Control", "DeviceControl", sn, device_id,
                f"<GuardCmd>{'SetGuard' if arm else 'ResetGuard'}</GuardCmd>")


def _doc(root: str, cmd: str, sn: int, device_id: str, extra: str = "") -> bytes:
    if not DEVICE_ID.match(device_id):
        raise ManscdpError(f"DeviceID: expected 20 digits, got {device_id!r}")
    return (f'<?xml version="1.0" encoding="UTF-8"?>\r\n<{root}>\r\n<CmdType>{cmd}</CmdType>\r\n<SN>{sn}</SN>\r\n'
            f"<DeviceID>{escape(device_id)}</DeviceID>\r\n{extra}</{root}>\r\n").encode("utf-8")


def _root(body: bytes) -> ET.Element:
    if len(body) > MAX_BODY:
        raise ManscdpError(f"body: {len(body)} bytes, more than {MAX_BODY}")
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise ManscdpError("body: DOCTYPE/ENTITY declarations are refused")
    declared = _DECL.match(body)
    codec = declared.group(1).decode().lower() if declared else "utf-8"
    codec = "gb18030" if codec in ("gb2312", "gbk", "gb18030") else codec
    try:
        text = body[declared.end() if declared else 0:].decode(codec)
        return ET.fromstring(text)
    except LookupError as exc:
        raise ManscdpError(f"encoding: unknown {codec!r}") from exc
    except (UnicodeDecodeError, ET.ParseError) as exc:
        raise ManscdpError(f"body: not well-formed XML ({exc})") from exc


def _text(node: ET.Element, name: str, default: str | None = None) -> str:
    found = node.find(name)
    if found is None or found.text is None or not found.text.strip():
        if default is None:
            raise ManscdpError(f"{name}: missing in <{node.tag[:32]}>")
        return default
    return found.text.strip()


def _device_id(node: ET.Element, name: str) -> str:
    value = _text(node, name)
    if not DEVICE_ID.match(value):
        raise ManscdpError(f"{name}: expected 20 digits, got {value[:40]!r}")
    return value


def _int(node: ET.Element, name: str, default: int | None = None, low: int = 0, high: int = 2**31) -> int:
    raw = _text(node, name, None if default is None else str(default))
    try:
        value = int(raw)
    except ValueError as exc:
        raise ManscdpError(f"{name}: expected an integer, got {raw[:40]!r}") from exc
    if not low <= value <= high:
        raise ManscdpError(f"{name}: {value} outside {low}..{high}")
    return value


def _optional_int(node: ET.Element | None) -> int | None:
    if node is None or node.text is None or not node.text.strip().isdigit():
        return None
    return int(node.text.strip())


def _coordinate(node: ET.Element, name: str, bound: float) -> float | None:
    """A longitude or latitude; absent, empty or 0 (devices write 0 for 'not set') -> None."""
    raw = _text(node, name, "")
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError as exc:
        raise ManscdpError(f"{name}: expected degrees, got {raw[:40]!r}") from exc
    if value != value or not -bound <= value <= bound:
        raise ManscdpError(f"{name}: {value} outside ±{bound}")
    return None if value == 0.0 else value


def _item(node: ET.Element) -> CatalogItem:
    device_id = _device_id(node, "DeviceID")
    longitude, latitude = _coordinate(node, "Longitude", 180.0), _coordinate(node, "Latitude", 90.0)
    if (longitude is None) != (latitude is None):
        longitude = latitude = None  # half a position is no position
    event = _text(node, "Event", "").strip().upper()
    if event and event not in CATALOG_EVENTS:
        raise ManscdpError(f"Item/Event: unknown {event[:16]!r} for {device_id}")
    return CatalogItem(event=event, device_id=device_id, name=_text(node, "Name", device_id)[:100],
                       civil_code=_text(node, "CivilCode", device_id[:6])[:20], status=_text(node, "Status", "ON"),
                       parent_id=_text(node, "ParentID", "")[:20], manufacturer=_text(node, "Manufacturer", "")[:64],
                       longitude=longitude, latitude=latitude)
