"""A dispatched request's state, and the three things that change it: receipt, an action, the clock.

Each decision takes the state and the time it happens and returns the new state
(with ``change``, ``actor``, ``reason`` and ``notified`` saying what happened);
:func:`to_event` turns it into the wire snapshot. Nothing here reads a clock.

Deadlines and escalation: the department must accept by ``accept_by`` and
resolve by ``resolve_by``. When a deadline passes the request is overdue and
climbs one grid level (cell → village → township → county → city); every
further ``accept_within`` of the item without the missing step, one more, until
the city. Each step tells the grid office of the new level, the department, and
from the county up the item's escalation contact.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from stream.dispatch import lifecycle
from stream.dispatch.lifecycle import ActionRefused
from stream.dispatch.responsibility import Item, ResponsibilityList
from stream.dispatch.routing import DISPATCHER, Place, route
from stream.incidents.grid import chain_of_command, level_of
from stream.schemas import (
    EscalationStep,
    GridEvent,
    Hazard,
    RequestActed,
    RequestAction,
    RequestChanged,
    RequestStatus,
)

SOURCE = "amur.dispatch"
RECENT_ACTIONS = 32
"""Action ids remembered per request, so a redelivered action is applied once."""


class Request(msgspec.Struct, frozen=True, kw_only=True):
    """The table value: everything the wire snapshot says, plus what the clock needs."""

    request_id: str
    channel: str
    service_code: str
    item_code: str | None = None
    category: str | None = None
    title: str = ""
    description: str = ""
    department: str | None = None
    queue_reason: str | None = None
    place: str
    lon: float | None = None
    lat: float | None = None
    address: str | None = None
    hazard: Hazard | None = None
    status: RequestStatus = RequestStatus.RECEIVED
    received_at: datetime
    updated_at: datetime
    accept_by: datetime | None = None
    resolve_by: datetime | None = None
    accepted_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    assignee: str | None = None
    escalation_level: int = 0
    next_escalation: datetime | None = None
    step_s: float = 3600.0
    """Time between two escalation steps (the item's accept_within)."""
    escalation_contact: str | None = None
    overdue: str | None = None
    escalations: tuple[EscalationStep, ...] = ()
    revision: int = 1
    change: str = "received"
    actor: str | None = None
    reason: str | None = None
    notified: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    drill: bool = False

    @property
    def chain(self) -> tuple[str, ...]:
        """Who answers, first to last: the place, then each level up to the city."""
        return chain_of_command(self.place)

    @property
    def responsible(self) -> str:
        return self.chain[min(self.escalation_level, len(self.chain) - 1)]


def _item_fields(item: Item | None, service_code: str) -> dict[str, object]:
    if item is None:
        return {"item_code": None, "category": None, "title": service_code, "escalation_contact": None}
    return {"item_code": item.code, "category": item.category, "title": f"{item.name_zh} / {item.name_en}",
            "escalation_contact": item.escalation_contact, "step_s": item.accept_within.total_seconds()}


def item_of(responsibilities: ResponsibilityList, event: GridEvent) -> Item | None:
    """The event's item: as named, else the one answering its service code (None: for the dispatcher)."""
    if event.item_code:
        return responsibilities.item(event.item_code)
    return responsibilities.for_service(event.service_code)


def receive(event: GridEvent, place: Place, responsibilities: ResponsibilityList, *, drill: bool = False) -> Request:
    """A new request from a report or a call, routed by (item, place); received at its event time."""
    item = item_of(responsibilities, event)
    routing = route(responsibilities, item, place, event.event_time)
    hazard = item.hazard if item is not None else (event.hazard if event.hazard is not Hazard.OTHER else None)
    return Request(
        request_id=event.report_id, channel=event.source, service_code=event.service_code,
        **_item_fields(item, event.service_code),  # type: ignore[arg-type]
        description=event.description, department=routing.department, queue_reason=routing.queue_reason,
        place=place.code, lon=event.lon, lat=event.lat, address=event.address, hazard=hazard,
        received_at=event.event_time, updated_at=event.event_time, accept_by=routing.accept_by,
        resolve_by=routing.resolve_by, next_escalation=routing.accept_by,
        change="received" if routing.department else "queued", actor=SOURCE,
        notified=(routing.department or DISPATCHER,), drill=drill)


def act(request: Request, action: RequestActed, responsibilities: ResponsibilityList) -> Request | None:
    """The request after a department's or the dispatcher's action (a refusal is a change too: ``refused``);
    None when the action was applied already (a redelivery)."""
    if action.action_id in request.actions:
        return None
    seen = (*request.actions, action.action_id)[-RECENT_ACTIONS:]
    when = max(action.event_time, request.updated_at)  # a late action never moves the request back in time
    try:
        changed = _apply(request, action, responsibilities, when)
    except ActionRefused as exc:
        changed = msgspec.structs.replace(request, change="refused", reason=str(exc), notified=(action.actor,))
    return msgspec.structs.replace(changed, actions=seen, actor=action.actor, updated_at=when,
                                   revision=request.revision + 1)


def _apply(request: Request, action: RequestActed, responsibilities: ResponsibilityList, when: datetime) -> Request:
    kind = action.action
    lifecycle.check_actor(kind, action.actor, request.department, DISPATCHER)
    status = lifecycle.next_status(request.status, kind, request.request_id)
    if kind in lifecycle.NEEDS_REASON and not (action.reason or "").strip():
        raise ActionRefused(f"{kind.value} needs a reason")
    if kind is RequestAction.REROUTE:
        return _rerouted(request, action, responsibilities, when, status)
    changes: dict[str, object] = {"status": status, "change": status.value, "reason": action.reason}
    if kind is RequestAction.REJECT:
        changes.update(department=None, queue_reason=f"rejected by {action.actor}: {action.reason}",
                       next_escalation=None, overdue=None, notified=(DISPATCHER,), assignee=None)
        return msgspec.structs.replace(request, **changes)
    if status in (RequestStatus.ACCEPTED, RequestStatus.ASSIGNED) and request.status in lifecycle.WAITING:
        changes.update(accepted_at=when, overdue=None, next_escalation=request.resolve_by)
    if kind is RequestAction.ASSIGN:
        if not action.assignee:
            raise ActionRefused("assign needs an assignee")
        changes["assignee"] = action.assignee
    if status is RequestStatus.RESOLVED:
        changes.update(resolved_at=when, next_escalation=None, overdue=None)
    if status is RequestStatus.CLOSED:
        changes["closed_at"] = when
    changes["notified"] = tuple(n for n in (request.department, DISPATCHER) if n and n != action.actor)
    return msgspec.structs.replace(request, **changes)


def _rerouted(request: Request, action: RequestActed, responsibilities: ResponsibilityList, when: datetime,
              status: RequestStatus) -> Request:
    item = responsibilities.item(action.item_code) if action.item_code else \
        (responsibilities.item(request.item_code) if request.item_code else None)
    if action.item_code and item is None:
        raise ActionRefused(f"item_code {action.item_code!r} is not in {responsibilities.source}")
    routing = route(responsibilities, item, Place(request.place), when)
    department = action.department or routing.department
    if department is None:
        raise ActionRefused(f"reroute needs a department: {routing.queue_reason}")
    if responsibilities.departments and department not in responsibilities.departments:
        raise ActionRefused(f"department {department!r} is not in departments.csv")
    if item is not None:
        fields, hazard = _item_fields(item, request.service_code), item.hazard
        accept_within, resolve_within = item.accept_within, item.resolve_within
    else:  # the dispatcher names a department for a request no item describes: the same time as before
        fields, hazard = {}, request.hazard
        accept_within = timedelta(seconds=request.step_s)
        resolve_within = request.resolve_by - request.received_at if request.resolve_by else accept_within
    return msgspec.structs.replace(
        request, **fields, hazard=hazard,  # type: ignore[arg-type]
        status=status, change="rerouted", reason=action.reason, department=department, queue_reason=None,
        accept_by=when + accept_within, resolve_by=when + resolve_within, next_escalation=when + accept_within,
        accepted_at=None, assignee=None, escalation_level=0, overdue=None,
        notified=tuple(n for n in (department, request.department) if n))


def tick(request: Request, now: datetime) -> list[Request]:
    """Every escalation step due by ``now``, in order (one snapshot each); empty when nothing is due."""
    steps: list[Request] = []
    current = request
    while current.next_escalation is not None and current.next_escalation <= now:
        current = _escalated(current, current.next_escalation)
        steps.append(current)
    return steps


def _escalated(request: Request, at: datetime) -> Request:
    overdue = "accept" if request.status in lifecycle.WAITING else "resolve"
    top = len(request.chain) - 1
    if request.escalation_level >= top:  # already at the top (the city): overdue, nobody higher to tell
        return msgspec.structs.replace(request, next_escalation=None, overdue=overdue, change="overdue",
                                       revision=request.revision + 1, updated_at=at, actor=SOURCE,
                                       reason=_overdue_reason(request, overdue),
                                       notified=tuple(n for n in (request.department, request.escalation_contact)
                                                      if n))
    level = request.escalation_level + 1
    code = request.chain[level]
    notified = [f"grid:{code}"] + ([request.department] if request.department else [])
    if level_of(code) <= 1 and request.escalation_contact and request.escalation_contact not in notified:
        notified.append(request.escalation_contact)  # county or city: the item's escalation contact too
    step = EscalationStep(level=level, code=code, at=at, overdue=overdue, notified=notified)
    following = at + timedelta(seconds=request.step_s) if level < top else None
    return msgspec.structs.replace(
        request, escalation_level=level, next_escalation=following, overdue=overdue,
        escalations=(*request.escalations, step), change="escalated", revision=request.revision + 1,
        updated_at=at, actor=SOURCE, reason=_overdue_reason(request, overdue), notified=tuple(notified))


def _overdue_reason(request: Request, overdue: str) -> str:
    deadline = request.accept_by if overdue == "accept" else request.resolve_by
    done = "accepted" if overdue == "accept" else "resolved"
    return f"not {done} by {deadline.isoformat() if deadline else 'its deadline'}"


def retired(request: Request, now: datetime, retain: timedelta) -> bool:
    """A closed request kept ``retain`` after closing may leave the table."""
    return request.closed_at is not None and now - request.closed_at >= retain


def to_event(request: Request) -> RequestChanged:
    return RequestChanged(
        source=SOURCE, event_time=request.updated_at, request_id=request.request_id, status=request.status,
        change=request.change, revision=request.revision, channel=request.channel,
        service_code=request.service_code, item_code=request.item_code, category=request.category,
        title=request.title, description=request.description, department=request.department,
        queue_reason=request.queue_reason, place=request.place, grid_path=list(Place(request.place).path),
        lon=request.lon, lat=request.lat, address=request.address, hazard=request.hazard,
        received_at=request.received_at, accept_by=request.accept_by, resolve_by=request.resolve_by,
        accepted_at=request.accepted_at, resolved_at=request.resolved_at, closed_at=request.closed_at,
        assignee=request.assignee, escalation_level=request.escalation_level, responsible=request.responsible,
        overdue=request.overdue, escalations=list(request.escalations), actor=request.actor,
        reason=request.reason, notified=list(request.notified), drill=request.drill)


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Request)


def encode_request(request: Request) -> bytes:
    return _encoder.encode(request)


def decode_request(data: bytes) -> Request:
    return _decoder.decode(data)
