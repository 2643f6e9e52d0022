"""Escalation notices of dispatched requests: who in the contacts directory hears of a step, and what.

An ``escalated`` change (or ``overdue`` at the top of the grid) names in ``notified``
who is told: ``grid:<code>`` (the grid management office of that level), the
department holding the request, and from the county up the item's escalation
contact. Each is found in the incidents' contacts directory
(:mod:`stream.incidents.notify.contacts`) by id — the grid offices under the
dispatcher's id ``grid-office``, departments under their ids of
``departments.csv`` — at the nearest ``grid_code`` at or above the place
(``grid:<code>``: that code; a department: the request's place) that has contacts
(drill contacts in a drill), so one file can
give Sunwu's housing bureau its own desk and let every other county fall back to
the city's. Drills reach only ``drill_contacts``. A name no entry answers for is
listed as unreached, never silently dropped. Delivery is
:func:`stream.incidents.notify.delivery.post`, with the notice id as idempotency key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from stream.dispatch.routing import DISPATCHER
from stream.incidents.grid import grid_path
from stream.incidents.notify.contacts import Contact, Directory
from stream.incidents.notify.payloads import robot_message
from stream.schemas import Notification, RequestChanged, to_builtins

#: Changes whose ``notified`` are delivered as notices (the rest are events on the dispatch topic only).
NOTICE_CHANGES = frozenset({"escalated", "overdue"})
GRID_OFFICE = "grid:"


@dataclass(frozen=True)
class Notice:
    notified: str
    """The entry of ``notified`` it answers (``grid:231102001``, ``heating`` …)."""
    contact: Contact
    notification: Notification
    """Pending; its id (SHA-256 of request, revision and contact) is the idempotency key."""


@dataclass(frozen=True)
class Notices:
    due: tuple[Notice, ...]
    unreached: tuple[str, ...]
    """Names of ``notified`` that no directory entry answers for."""


def notice_id(request: RequestChanged, contact_id: str) -> str:
    return hashlib.sha256(f"{request.request_id}|{request.revision}|{contact_id}".encode()).hexdigest()[:40]


def _nearest(directory: Directory, department_id: str, code: str, drill: bool) -> tuple[Contact, ...]:
    """Contacts (drill ones in a drill) of ``department_id`` at ``code``, else at the nearest level above."""
    for level in reversed(grid_path(code)):
        found = tuple(c for d in directory.departments if d.department_id == department_id and d.grid_code == level
                      for c in (d.drill_contacts if drill else d.contacts))
        if found:
            return found
    return ()


def notices(directory: Directory, request: RequestChanged) -> Notices:
    """The notices one change of a request sends (none unless it is an escalation step)."""
    if request.change not in NOTICE_CHANGES:
        return Notices((), ())
    due: list[Notice] = []
    unreached: list[str] = []
    for name in dict.fromkeys(request.notified):
        office = name.startswith(GRID_OFFICE)
        contacts = _nearest(directory, DISPATCHER if office else name,
                            name.removeprefix(GRID_OFFICE) if office else request.place, request.drill)
        if not contacts:
            unreached.append(name)
        for contact in contacts:
            pending = Notification(notification_id=notice_id(request, contact.contact_id), channel=contact.channel,
                                   contact=contact.contact_id, reason=request.change, status="pending")
            due.append(Notice(name, contact, pending))
    return Notices(tuple(due), tuple(unreached))


def markdown(request: RequestChanged) -> tuple[str, str]:
    """(title, markdown text) of a notice, in Chinese with English beside it."""
    drill = "【演练 EXERCISE】" if request.drill else ""
    zh, en = ("受理", "accepted") if request.overdue == "accept" else ("办结", "resolved")
    title = f"{drill}网格事件超时未{zh} (overdue, not {en}): {request.title}"
    step = request.escalations[-1] if request.escalations else None
    lines = [
        f"### {title}",
        f"- 事件 request: {request.request_id} (rev {request.revision}, {request.status.value}, {request.channel})",
        f"- 责任部门 department: {request.department or '-'}; 期限 deadline: "
        f"{(request.accept_by if request.overdue == 'accept' else request.resolve_by) or '-'}",
        f"- 升级 escalated to: {request.responsible} (level {request.escalation_level})"
        + (f" at {step.at.isoformat()}" if step else ""),
        f"- 地点 place: {request.address or request.place}",
        f"- 内容 description: {request.description[:300] or '-'}",
    ]
    return title, "\n".join(lines)


def notice_payload(contact: Contact, request: RequestChanged, notification: Notification) -> dict[str, Any]:
    """Webhook: the notice and the request's snapshot; robots: the markdown message of their style."""
    if contact.channel == "webhook":
        return {"notification": to_builtins(notification), "request": to_builtins(request)}
    return robot_message(contact, *markdown(request))
