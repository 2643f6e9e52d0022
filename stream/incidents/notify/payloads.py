"""What each channel receives about an incident: pure functions from the snapshot to JSON.

The robot format is the markdown message of workplace-messenger group robots:
DingTalk style ``{"msgtype": "markdown", "markdown": {"title", "text"}}`` and
WeCom style ``{"msgtype": "markdown", "markdown": {"content"}}``; both answer
``{"errcode": 0, ...}`` on success. The generic webhook gets the incident
snapshot itself plus the notification (its id is the idempotency key).
"""

from __future__ import annotations

from typing import Any

from stream.incidents.cap import COLOUR_NAME, EVENT_NAME
from stream.incidents.notify.contacts import Contact
from stream.schemas import IncidentChanged, Notification, to_builtins

REASON_ZH = {"raised": "新预警", "escalated": "升级上报（未确认）", "assigned": "已指派"}


def markdown(incident: IncidentChanged, notification: Notification) -> tuple[str, str]:
    """(title, markdown text) in Chinese with the English hazard and colour in brackets."""
    event_zh, event_en = EVENT_NAME[incident.hazard]
    colour_zh, colour_en = COLOUR_NAME[incident.colour]
    drill = "【演练 EXERCISE】" if incident.drill else ""
    title = f"{drill}{colour_zh}预警 {event_zh} ({colour_en} {event_en})"
    lines = [
        f"### {title}",
        f"- 事由 reason: {REASON_ZH.get(notification.reason, notification.reason)} ({notification.reason})",
        f"- 事件 incident: {incident.incident_id} (rev {incident.revision}, {incident.state.value})",
        f"- 地点 place: {incident.title}; 网格 cells: {', '.join(incident.cells[:5]) or '-'}",
        f"- 责任 responsible: {incident.responsible or '-'}; 升级级别 level: {incident.escalation_level}",
        f"- 证据 evidence ({len(incident.evidence)}): " + "; ".join(e.summary or e.kind for e in incident.evidence[:5]),
    ]
    if incident.assignee:
        lines.append(f"- 指派 assignee: {incident.assignee}")
    if incident.cameras:
        lines.append(f"- 视频 cameras: {', '.join(incident.cameras[:4])}")
    return title, "\n".join(lines)


def payload(contact: Contact, incident: IncidentChanged, notification: Notification) -> dict[str, Any]:
    if contact.channel == "webhook":
        return {"notification": to_builtins(notification), "incident": to_builtins(incident)}
    return robot_message(contact, *markdown(incident, notification))


def robot_message(contact: Contact, title: str, text: str) -> dict[str, Any]:
    """A markdown message in the robot's dialect (DingTalk: title and text; WeCom: content)."""
    if contact.style == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": text}}
    return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
