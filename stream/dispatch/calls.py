"""The 110 non-emergency feed: what one call looks like, how a body is checked, the GridEvent it becomes.

A body is one call object or an array of them (at most ``MAX_CALLS``)::

    {"call_id": "20260720-0815-0042", "time": "2026-07-20T08:15:00+08:00",
     "lat": 50.2452, "lon": 127.5283, "address": "爱辉区海兰街12号",
     "category": "噪音扰民", "text": "楼下烧烤店音响声音太大"}

``lat``/``lon`` (both or neither) or ``address`` must be given; ``category`` is
the 110 operator's free-text classification, ``text`` the call notes. Each call
is checked on its own: a bad one is refused (index, field, value, reason) and
dead-lettered, the others go on. The call becomes request ``110-<call_id>``, so
a call sent twice is one request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

import msgspec
import orjson

from stream.dispatch.responsibility import Item
from stream.dispatch.routing import Place, Routing
from stream.errors import InvalidEvent
from stream.schemas import AwareTime, GridEvent, Hazard, Lat, Lon, decode

SOURCE = "110"
"""The ``source`` of every GridEvent from the feed, its request id prefix and metrics label."""
UNMAPPED_SERVICE = "unmapped_110"
"""Service code of a call no keyword matched (it waits in the dispatcher queue)."""
MAX_CALLS = 500
CallId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]


class Call(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    call_id: CallId
    time: AwareTime
    lat: Lat | None = None
    lon: Lon | None = None
    address: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    category: Annotated[str, msgspec.Meta(max_length=200)] = ""
    text: Annotated[str, msgspec.Meta(max_length=4000)] = ""

    @property
    def request_id(self) -> str:
        return f"{SOURCE}-{self.call_id}"


@dataclass(frozen=True)
class Refused:
    index: int
    error: InvalidEvent
    raw: bytes


def decode_calls(body: bytes, now: datetime, max_future: timedelta) -> list[Call | Refused]:
    """Every call of a body, in order, or why it was refused; :class:`InvalidEvent` if the body is unusable."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidEvent(f"body is not valid JSON: {exc}", field="body", value=None) from None
    items = [doc] if isinstance(doc, dict) else doc if isinstance(doc, list) else None
    if items is None:
        raise InvalidEvent("body must be a call object or an array of calls", field="body", value=type(doc).__name__)
    if not items or len(items) > MAX_CALLS:
        raise InvalidEvent(f"{len(items)} calls in one body, 1 to {MAX_CALLS}", field="calls", value=len(items))
    out: list[Call | Refused] = []
    for index, item in enumerate(items):
        raw = orjson.dumps(item)
        try:
            out.append(check_call(decode(Call, raw), now, max_future))
        except InvalidEvent as exc:
            out.append(Refused(index, exc, raw))
    return out


def check_call(call: Call, now: datetime, max_future: timedelta) -> Call:
    if (call.lat is None) != (call.lon is None):
        raise InvalidEvent("lat and lon come together", field="lat" if call.lat is None else "lon", value=None)
    if call.lat is None and not (call.address or "").strip():
        raise InvalidEvent("no location and no address: send lat and lon, or address", field="address",
                           value=call.address)
    if call.time > now + max_future:
        raise InvalidEvent(f"time {call.time.isoformat()} is in the future", field="time",
                           value=call.time.isoformat())
    return call


def call_event(call: Call, item: Item | None, place: Place, routing: Routing) -> GridEvent:
    """The GridEvent of a checked call, as the feed's front door puts it on the grid-events topic."""
    description = f"{call.category}: {call.text}" if call.category else call.text
    return GridEvent(
        source=SOURCE, event_time=call.time, report_id=call.request_id,
        service_code=item.service_codes[0] if item else UNMAPPED_SERVICE, description=description[:4000],
        lon=call.lon, lat=call.lat, cell_code=None if place.county is None else place.code,
        department=routing.department, item_code=item.code if item else None,
        hazard=(item.hazard or Hazard.OTHER) if item else Hazard.OTHER, address=call.address)
