"""OASIS CAP 1.2 messages for incidents, validated against the official schema.

Each CAP-worthy revision of an incident (raised, upgraded, downgraded, extended,
resolved, expired, reopened) is one CAP message, identified ``<incident>.r<rev>``;
the incident carries their ``sender,identifier,sent`` triples in ``cap_refs``, so
the latest message and its ``references`` chain are derived from the incident's
latest snapshot alone. Mapping from the four colours (DOMAIN.md):

======  =========  ========  ============================
colour  urgency    severity  responseType (flood / other)
======  =========  ========  ============================
red     Immediate  Extreme   Evacuate / Avoid
orange  Immediate  Severe    Prepare / Avoid
yellow  Expected   Moderate  Monitor
blue    Future     Minor     Monitor
======  =========  ========  ============================

A Cancel has urgency Past and responseType AllClear. Certainty comes from the
evidence: an instrument or camera observation is Observed; a crest forecast, or
two independent reports, Likely; a single report or a modelled risk Possible.
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import shapely

from stream.errors import AmurError
from stream.incidents.grid import CITY_CODE, COUNTY_CODES, common_place
from stream.schemas import Colour, Hazard, IncidentChanged, IncidentState

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
XSD_PATH = Path(__file__).resolve().parent / "data" / "CAP-v1.2.xsd"
ATOM_NS = "http://www.w3.org/2005/Atom"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

CATEGORY = {Hazard.FLOOD: "Met", Hazard.FIRE: "Fire", Hazard.CAMERA_FAULT: "Infra",
            Hazard.SOURCE_OUTAGE: "Infra", Hazard.PUBLIC_SAFETY: "Safety", Hazard.OTHER: "Other"}
EVENT_NAME = {Hazard.FLOOD: ("洪水", "Flood"), Hazard.FIRE: ("火灾", "Fire"),
              Hazard.CAMERA_FAULT: ("视频设备故障", "Camera fault"),
              Hazard.SOURCE_OUTAGE: ("数据源中断", "Data source outage"),
              Hazard.PUBLIC_SAFETY: ("公共安全事件", "Public safety event"), Hazard.OTHER: ("其他事件", "Other event")}
COLOUR_NAME = {Colour.BLUE: ("蓝色", "Blue"), Colour.YELLOW: ("黄色", "Yellow"), Colour.ORANGE: ("橙色", "Orange"),
               Colour.RED: ("红色", "Red"), Colour.GREEN: ("绿色", "Green")}
URGENCY = {Colour.RED: "Immediate", Colour.ORANGE: "Immediate", Colour.YELLOW: "Expected", Colour.BLUE: "Future",
           Colour.GREEN: "Unknown"}
SEVERITY = {Colour.RED: "Extreme", Colour.ORANGE: "Severe", Colour.YELLOW: "Moderate", Colour.BLUE: "Minor",
            Colour.GREEN: "Unknown"}
#: The Chinese warning level of each colour (DOMAIN.md): IV general ... I especially serious.
LEVEL = {Colour.GREEN: "none", Colour.BLUE: "IV", Colour.YELLOW: "III", Colour.ORANGE: "II", Colour.RED: "I"}
#: Hazards operators handle internally: Restricted scope, not for the public.
INTERNAL = frozenset({Hazard.CAMERA_FAULT, Hazard.SOURCE_OUTAGE})
OBSERVED_KINDS = ("gauge", "vision_", "source_health")

LonLat = tuple[float, float]
Ring = tuple[LonLat, ...]
#: cell code -> closed (lon, lat) ring, when the GIS knows it.
Outlines = Callable[[str], Sequence[LonLat] | None]
#: An ``<area>`` keeps at most this many polygons and points (see :func:`area_polygons`): with the
#: two ``<info>`` blocks that is at most ~45 kB of coordinates per message.
MAX_POLYGONS = 64
MAX_POINTS = 1000
#: The first tolerance when an area must be simplified (~50 m north-south); it doubles until the area fits.
FIRST_TOLERANCE_DEG = 0.0005
#: Past this (~110 km) the area is the convex hull of the cells (a safety net: it never comes to that).
MAX_TOLERANCE_DEG = 1.0


class InvalidCap(AmurError):
    """A CAP document that does not validate against CAP-v1.2.xsd."""


def cap_time(when: datetime, zone: ZoneInfo) -> str:
    """CAP dateTime: explicit offset, no fractional seconds, never ``Z``."""
    return when.astimezone(zone).replace(microsecond=0).isoformat()


def cap_reference(sender: str, identifier: str, sent: datetime, zone: ZoneInfo) -> str:
    return f"{sender},{identifier},{cap_time(sent, zone)}"


def msg_type(incident: IncidentChanged) -> str:
    if len(incident.cap_refs) <= 1:
        return "Alert"
    return "Cancel" if incident.state in (IncidentState.RESOLVED, IncidentState.EXPIRED) else "Update"


def certainty(incident: IncidentChanged) -> str:
    kinds = [ref.kind for ref in incident.evidence if ref.colour is not Colour.GREEN] or \
        [ref.kind for ref in incident.evidence]
    if any(kind.startswith(OBSERVED_KINDS) for kind in kinds):
        return "Observed"
    if "crest_forecast" in kinds or len(kinds) >= 2:
        return "Likely"
    return "Possible"


def response_type(incident: IncidentChanged, kind: str) -> str:
    if kind == "Cancel":
        return "None" if incident.merged_into else "AllClear"  # merged: the survivor's message says what to do
    if incident.colour in (Colour.RED, Colour.ORANGE):
        if incident.hazard is Hazard.FLOOD:
            return "Evacuate" if incident.colour is Colour.RED else "Prepare"
        return "Avoid"
    return "Monitor"


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    node = ET.SubElement(parent, f"{{{CAP_NS}}}{tag}")
    if text is not None:
        node.text = text
    return node


def alert_element(incident: IncidentChanged, *, sender: str, zone: ZoneInfo, outlines: Outlines | None = None,
                  place_name: Callable[[str], str | None] | None = None) -> ET.Element:
    """The ``<alert>`` of the incident's latest CAP message."""
    refs = list(incident.cap_refs) or [cap_reference(sender, f"{incident.incident_id}.r{incident.revision}",
                                                     incident.event_time, zone)]
    ref_sender, identifier, sent = refs[-1].split(",")
    kind = msg_type(incident)
    alert = ET.Element(f"{{{CAP_NS}}}alert")
    for tag, text in (("identifier", identifier), ("sender", ref_sender), ("sent", sent),
                      ("status", "Exercise" if incident.drill else "Actual"), ("msgType", kind)):
        _sub(alert, tag, text)
    internal = incident.hazard in INTERNAL
    _sub(alert, "scope", "Restricted" if internal else "Public")
    if internal:
        _sub(alert, "restriction", "Duty officers of the Heihe emergency command centre")
    if incident.drill:
        _sub(alert, "note", "演练 / EXERCISE: not a real event")
    if len(refs) > 1:
        _sub(alert, "references", " ".join(refs[:-1]))
    # a merge names both incidents in both messages (the survivor's Update, the absorbed one's Cancel)
    merged = [*incident.merged_from, *([incident.merged_into] if incident.merged_into else [])]
    _sub(alert, "incidents", " ".join([incident.incident_id, *merged]))
    place = common_place(incident.cells)
    place_label = (place_name(place) if place_name else None) or place
    for language in ("zh-CN", "en-US"):
        _info(alert, incident, language, kind, place_label, outlines)
    return alert


def _info(alert: ET.Element, incident: IncidentChanged, language: str, kind: str, place_label: str,
          outlines: Outlines | None) -> None:
    zh = language == "zh-CN"
    event = EVENT_NAME[incident.hazard][0 if zh else 1]
    colour = COLOUR_NAME[incident.colour][0 if zh else 1]
    info = _sub(alert, "info")
    _sub(info, "language", language)
    _sub(info, "category", CATEGORY[incident.hazard])
    _sub(info, "event", event)
    _sub(info, "responseType", response_type(incident, kind))
    _sub(info, "urgency", "Past" if kind == "Cancel" else URGENCY[incident.colour])
    _sub(info, "severity", SEVERITY[incident.colour])
    _sub(info, "certainty", certainty(incident))
    _sub(info, "senderName", "黑河市应急指挥中心（Amur）" if zh else "Heihe emergency command centre (Amur)")
    if kind == "Cancel" and incident.merged_into:
        headline = (f"{place_label}{event}预警并入{incident.merged_into}" if zh
                    else f"{event} warning for {place_label} merged into {incident.merged_into}")
    elif kind == "Cancel":
        headline = f"{place_label}{event}预警解除" if zh else f"{event} warning for {place_label} cancelled"
    else:
        headline = f"{place_label}{event}{colour}预警" if zh else f"{colour} {event.lower()} warning: {place_label}"
    _sub(info, "headline", headline)
    lines = [ref.summary or ref.kind for ref in incident.evidence]
    lead = f"依据{len(lines)}条证据：" if zh else f"Based on {len(lines)} piece(s) of evidence: "
    _sub(info, "description", lead + "; ".join(lines))
    for name, value in (("AMUR_COLOUR", incident.colour.value), ("AMUR_LEVEL", LEVEL[incident.colour])):
        parameter = _sub(info, "parameter")
        _sub(parameter, "valueName", name)
        _sub(parameter, "value", value)
    _area(info, incident, place_label, outlines)


def _area(info: ET.Element, incident: IncidentChanged, place_label: str, outlines: Outlines | None) -> None:
    area = _sub(info, "area")
    _sub(area, "areaDesc", place_label)
    polygons = area_polygons(incident.cells, outlines) if outlines else []
    for ring in polygons:
        _sub(area, "polygon", " ".join(f"{lat:.6f},{lon:.6f}" for lon, lat in ring))
    if not polygons and incident.lon is not None and incident.lat is not None:
        _sub(area, "circle", f"{incident.lat:.6f},{incident.lon:.6f} 1.0")
    for code in incident.cells or [CITY_CODE]:
        geocode = _sub(area, "geocode")
        admin = len(code) == 6 and (code == CITY_CODE or code in COUNTY_CODES)
        _sub(geocode, "valueName", "GB/T 2260" if admin else "AMUR_GRID")
        _sub(geocode, "value", code)


def area_polygons(cells: Sequence[str], outlines: Outlines, *, max_polygons: int = MAX_POLYGONS,
                  max_points: int = MAX_POINTS) -> list[Ring]:
    """The ``<polygon>`` rings of an area: one per cell, else dissolved, else grown and simplified.

    1. One ring per cell with a known outline, in the order of ``cells``, when that
       takes at most ``max_polygons`` rings and ``max_points`` points in all.
    2. Else the cells dissolved (shapely union: adjacent cells become one polygon),
       each part's outer ring (holes filled), largest first, if that fits.
    3. Else the dissolved area grown by a tolerance and simplified by half of it
       (Douglas-Peucker), the tolerance doubling from ``FIRST_TOLERANCE_DEG``
       until it fits. Growing before simplifying keeps every cell inside the area,
       and nearby parts merge as the tolerance grows.
    """
    rings = [ring for ring in map(outlines, cells) if ring and len(ring) >= 4 and ring[0] == ring[-1]]
    if not rings or _fits(rings, max_polygons, max_points):
        return [tuple(ring) for ring in rings]
    shape = _filled(shapely.union_all([shapely.Polygon(ring) for ring in rings]))
    tolerance = FIRST_TOLERANCE_DEG
    while not _fits(outer := _outer_rings(shape), max_polygons, max_points) and tolerance <= MAX_TOLERANCE_DEG:
        shape = _filled(shape.buffer(tolerance, join_style="mitre").simplify(tolerance / 2))
        tolerance *= 2
    return outer if _fits(outer, max_polygons, max_points) else _outer_rings(shape.convex_hull)


def _fits(rings: Sequence[Sequence[LonLat]], max_polygons: int, max_points: int) -> bool:
    return len(rings) <= max_polygons and sum(len(ring) for ring in rings) <= max_points


def _polygons(shape: shapely.Geometry) -> list[shapely.Polygon]:
    return [part for part in shapely.get_parts(shape) if isinstance(part, shapely.Polygon) and not part.is_empty]


def _filled(shape: shapely.Geometry) -> shapely.Geometry:
    """The shape with every hole filled: a CAP polygon is one outer ring."""
    return shapely.union_all([shapely.Polygon(part.exterior) for part in _polygons(shape)])


def _outer_rings(shape: shapely.Geometry) -> list[Ring]:
    """Each polygon's exterior, largest first, rounded to 1e-6 degree (CAP pairs carry six decimals)."""
    parts = sorted(_polygons(shape), key=lambda part: (-part.area, part.bounds))
    rings = [tuple((round(x, 6), round(y, 6)) for x, y in part.exterior.coords) for part in parts]
    return [ring for ring in rings if len(ring) >= 4]


def cap_xml(incident: IncidentChanged, *, sender: str, zone: ZoneInfo, outlines: Outlines | None = None,
            place_name: Callable[[str], str | None] | None = None) -> str:
    """The incident's latest CAP 1.2 message as an XML document (UTF-8 declaration included)."""
    ET.register_namespace("", CAP_NS)
    element = alert_element(incident, sender=sender, zone=zone, outlines=outlines, place_name=place_name)
    return XML_DECLARATION + ET.tostring(element, encoding="unicode")


@functools.cache
def _schema():  # type: ignore[no-untyped-def]
    import xmlschema

    return xmlschema.XMLSchema(str(XSD_PATH))


def validate_cap(document: str) -> None:
    """Raise :class:`InvalidCap` naming the first schema violation of ``document``."""
    error = next(iter(_schema().iter_errors(document)), None)
    if error is not None:
        raise InvalidCap(f"CAP document does not validate against {XSD_PATH.name}: {error.reason} "
                         f"at {error.path}")


def cap_feed(incidents: Sequence[IncidentChanged], now: datetime, *, sender: str, zone: ZoneInfo,
             outlines: Outlines | None = None, place_name: Callable[[str], str | None] | None = None,
             title: str = "Amur active incidents (CAP 1.2)") -> str:
    """An Atom feed of the latest CAP message of every *active* incident (not resolved or expired).

    Each ``<alert>`` is the one :func:`cap_xml` gives with the same ``outlines`` and ``place_name``.
    """
    ET.register_namespace("", ATOM_NS)
    ET.register_namespace("cap", CAP_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    for tag, text in (("id", f"urn:amur:cap-feed:{sender}"), ("title", title), ("updated", cap_time(now, zone))):
        ET.SubElement(feed, f"{{{ATOM_NS}}}{tag}").text = text
    author = ET.SubElement(feed, f"{{{ATOM_NS}}}author")
    ET.SubElement(author, f"{{{ATOM_NS}}}name").text = sender
    active = [i for i in incidents if i.state not in (IncidentState.RESOLVED, IncidentState.EXPIRED)]
    for incident in sorted(active, key=lambda i: (-i.colour.rank, i.incident_id)):
        alert = alert_element(incident, sender=sender, zone=zone, outlines=outlines, place_name=place_name)
        entry = ET.SubElement(feed, f"{{{ATOM_NS}}}entry")
        identifier = alert.findtext(f"{{{CAP_NS}}}identifier")
        ET.SubElement(entry, f"{{{ATOM_NS}}}id").text = f"urn:amur:cap:{identifier}"
        ET.SubElement(entry, f"{{{ATOM_NS}}}title").text = alert.findtext(f"{{{CAP_NS}}}info/{{{CAP_NS}}}headline")
        ET.SubElement(entry, f"{{{ATOM_NS}}}updated").text = alert.findtext(f"{{{CAP_NS}}}sent")
        content = ET.SubElement(entry, f"{{{ATOM_NS}}}content", {"type": "application/cap+xml"})
        content.append(alert)
    return XML_DECLARATION + ET.tostring(feed, encoding="unicode")


def feed_alerts(feed: str) -> list[str]:
    """Each ``<alert>`` of a feed made by :func:`cap_feed`, as its own XML document (for validation)."""
    ET.register_namespace("", CAP_NS)
    root = ET.fromstring(feed)
    return [ET.tostring(a, encoding="unicode") for a in root.iter(f"{{{CAP_NS}}}alert")]
