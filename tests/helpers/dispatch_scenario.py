"""A morning of grid requests on the bundled Heihe sample, decided by the real dispatch rules.

Every request is received, acted on and escalated by :mod:`stream.dispatch.request`
on the bundled responsibility list, at times relative to ``now`` (the event
clock of the scenario); the result is the ``RequestChanged`` snapshots the
worker would publish. Used by the command-view tests and the screenshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from gis.registry import load_cells
from stream.dispatch.calls import Call, call_event
from stream.dispatch.request import Request, act, receive, tick, to_event
from stream.dispatch.responsibility import ResponsibilityList, load_list
from stream.dispatch.routing import DISPATCHER, place_of, route
from stream.schemas import GridEvent, RequestActed, RequestAction, RequestChanged


@cache
def responsibilities() -> ResponsibilityList:
    return load_list()


def cell_in(county: str, index: int = 0) -> str:
    """The ``index``-th cell of ``county`` in the GIS layer (a real cell with a point)."""
    return [c.cell_code for c in load_cells() if c.county_code == county][index]


def _point(cell: str) -> tuple[float, float]:
    record = next(c for c in load_cells() if c.cell_code == cell)
    return record.lon, record.lat


def report(request_id: str, service: str, cell: str, at: datetime, text: str = "") -> Request:
    """An Open311 report at ``cell``, received and routed."""
    lon, lat = _point(cell)
    event = GridEvent(source="open311", event_time=at, report_id=request_id, service_code=service, lon=lon, lat=lat,
                      cell_code=cell, description=text)
    return receive(event, place_of(cell), responsibilities())


def call_110(call_id: str, category: str, cell: str, at: datetime, text: str = "") -> Request:
    """A 110 call no keyword maps to an item (``category`` is free text): it waits for the dispatcher."""
    lon, lat = _point(cell)
    call = Call(call_id=call_id, time=at, lat=lat, lon=lon, category=category, text=text)
    place = place_of(cell)
    event = call_event(call, None, place, route(responsibilities(), None, place, at))
    return receive(event, place, responsibilities())


def acted(request: Request, action: RequestAction, actor: str, at: datetime, **fields: object) -> Request:
    done = act(request, RequestActed(source="test", event_time=at, action_id=f"{request.request_id}-{action.value}",
                                     request_id=request.request_id, action=action, actor=actor,
                                     **fields), responsibilities())  # type: ignore[arg-type]
    assert done is not None and done.change != "refused", done and done.reason
    return done


@dataclass(frozen=True)
class Scenario:
    changes: list[RequestChanged]
    """Every snapshot in order (what the dispatch topic carries)."""
    latest: dict[str, RequestChanged]
    """The last snapshot of each request."""
    requests: dict[str, Request]
    """The worker's state of each request after its last change (to act on it further)."""

    def where(self, **fields: object) -> list[RequestChanged]:
        return [r for r in self.latest.values() if all(getattr(r, k) == v for k, v in fields.items())]


def morning(now: datetime) -> Scenario:
    """Seven requests: Aihui (231102) five — in time, accepted, overdue and escalated, an unmapped 110 call,
    one rejected back to the dispatcher —, Xunke (231123) one in time, Sunwu (231124) one closed."""
    aihui, xunke, sunwu = cell_in("231102", 3), cell_in("231123", 5), cell_in("231124", 7)
    cold = report("311-cold", "heating_cold", aihui, now - timedelta(minutes=20), "家里只有十四度")
    manhole = report("311-manhole", "manhole_cover", aihui, now - timedelta(minutes=50))
    manhole_ok = acted(manhole, RequestAction.ACCEPT, "urban-management", now - timedelta(minutes=40))
    ignored = report("311-ignored", "heating_cold", cell_in("231102", 9), now - timedelta(hours=4, minutes=30))
    climbed = tick(ignored, now)  # accept_by passed 2 h 30 min ago: climbed to its village, then its street
    unmapped = call_110("20260110-0815-0042", "邻居家狗叫", aihui, now - timedelta(minutes=8), "夜里一直叫")
    vending = report("311-vending", "street_vending", aihui, now - timedelta(hours=1))
    rejected = acted(vending, RequestAction.REJECT, vending.department or "", now - timedelta(minutes=30),
                     reason="a licensed night market, not street vending")
    xunke_noise = report("311-xunke", "neighbourhood_noise", xunke, now - timedelta(minutes=15))
    closed = report("311-closed", "manhole_cover", sunwu, now - timedelta(hours=2))
    closed_steps = [acted(closed, RequestAction.ACCEPT, closed.department or "", now - timedelta(hours=1, minutes=50))]
    closed_steps.append(acted(closed_steps[-1], RequestAction.RESOLVE, closed.department or "",
                              now - timedelta(hours=1, minutes=10)))
    closed_steps.append(acted(closed_steps[-1], RequestAction.CLOSE, DISPATCHER, now - timedelta(hours=1)))
    history = [cold, manhole, manhole_ok, ignored, *climbed, unmapped, vending, rejected, xunke_noise, closed,
               *closed_steps]
    changes = [to_event(r) for r in history]
    return Scenario(changes, {c.request_id: c for c in changes}, {r.request_id: r for r in history})
