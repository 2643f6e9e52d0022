"""Device alarms and lost devices -> camera-health and hazard findings (the stream's ``VisionFinding``).

GB/T 28181-2016 (A.2.5) names an alarm by method and type. Only these mean a
camera fault Amur already knows; the rest (motion, tripwire, storage full …)
are counted and logged, not evidence:

| method / type | meaning | finding |
| --- | --- | --- |
| 2 / 1 | device alarm: video loss | ``offline`` |
| 2 / 2 | device alarm: tamper (防拆) | ``moved`` |
| 5 / 11 | video alarm: video anomaly | ``covered`` |

The 2016 standard has no fire or smoke type: fire-detection cameras report it
with a vendor type of their own, added with ``extra`` (setting
``AMUR_GB28181_ALARM_KINDS``, e.g. ``{"5/101": "fire"}``). A device alarm is the
device's own verdict, so the finding is confirmed; its score follows the alarm
priority (1 = most urgent).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime

from stream.schemas import FindingKind, VisionFinding
from vision.gb28181.errors import Gb28181Error
from vision.gb28181.manscdp import AlarmNotify

STANDARD: Mapping[str, FindingKind] = {
    "2/1": FindingKind.OFFLINE,
    "2/2": FindingKind.MOVED,
    "5/11": FindingKind.COVERED,
}
SCORE_BY_PRIORITY = {1: 0.95, 2: 0.85, 3: 0.75, 4: 0.65}
SOURCE = "gb28181"


def alarm_kinds(extra: Mapping[str, str]) -> dict[str, FindingKind]:
    """The standard table plus configured ``"method/type": kind`` entries; unknown kinds refused by name."""
    table = dict(STANDARD)
    for key, kind in extra.items():
        method, _, type_ = key.partition("/")
        if not (method.isdigit() and (type_.isdigit() or type_ == "*")):
            raise Gb28181Error(f"gb28181_alarm_kinds: key must be 'method/type', got {key!r}")
        try:
            table[key] = FindingKind(kind)
        except ValueError as exc:
            raise Gb28181Error(f"gb28181_alarm_kinds[{key!r}]: unknown finding kind {kind!r}") from exc
    return table


def finding_of(alarm: AlarmNotify, table: Mapping[str, FindingKind]) -> tuple[FindingKind, float] | None:
    """The finding an alarm is, and its score; None when it is not one Amur acts on."""
    kind = table.get(f"{alarm.method}/{alarm.alarm_type}") or table.get(f"{alarm.method}/*")
    if kind is None:
        return None
    return kind, SCORE_BY_PRIORITY.get(alarm.priority, 0.65)


def alarm_finding(alarm: AlarmNotify, table: Mapping[str, FindingKind], cells: Sequence[str], at: datetime,
                  source: str = SOURCE) -> VisionFinding | None:
    """The finding of a device alarm on its channel (``alarm.device_id``), or None when Amur does not act on it."""
    found = finding_of(alarm, table)
    if found is None:
        return None
    kind, score = found
    return VisionFinding(source=source, event_time=at, camera_id=alarm.device_id, kind=kind, score=score,
                         confirmed=True, cells=list(cells))


def offline_findings(channels: Iterable[str], cells_of: Callable[[str], Sequence[str]], at: datetime,
                     source: str = SOURCE) -> list[VisionFinding]:
    """A device gone offline (keepalive window missed, expired, unregistered): every channel of it is offline."""
    return [VisionFinding(source=source, event_time=at, camera_id=channel, kind=FindingKind.OFFLINE, score=1.0,
                          confirmed=True, cells=list(cells_of(channel))) for channel in channels]
