"""Pure decisions of the alert lifecycle over one hazard area.

:func:`observe` merges evidence into a hazard area (``stream.incidents.actions``
holds the clock tick, operator commands and delivery statuses). Each entry point
is ``(area, input, ...) -> Outcome``: the new area and the incident snapshots to
publish; time only comes in through the inputs.

Evidence joins an open incident it is *linked* to: the same river reach (the
gauge named in ``reach``), or a cell equal to, next to or in the same village as
one of the incident's cells, seen within the merge window. When new evidence
links incidents that were raised apart, they are one event: the later ones are
merged into the earliest (:func:`merge`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import msgspec

from stream.incidents.cap import cap_reference
from stream.incidents.lifecycle import FINAL_STATES, Action, next_state
from stream.incidents.places import Nearby, PlaceIndex
from stream.incidents.state import (
    Area,
    Incident,
    Policy,
    incident_id_for,
    notification_id_for,
)
from stream.schemas import (
    Colour,
    EvidenceObserved,
    EvidenceRef,
    Hazard,
    IncidentState,
    Notification,
)

#: Who to notify: (incident, reason) -> [(contact id, channel)].
Recipients = Callable[[Incident, str], Sequence[tuple[str, str]]]

#: Changes that alter what the public is told: each issues a CAP message.
CAP_CHANGES = frozenset({"raised", "upgraded", "downgraded", "extended", "merged", "resolved", "expired",
                         "reopened"})
NOTIFY_CHANGES = frozenset({"raised", "escalated", "assigned"})


@dataclass(frozen=True)
class Outcome:
    area: Area
    changes: tuple[Incident, ...] = ()


S = TypeVar("S", Incident, Area)


def replace(struct: S, **fields: object) -> S:
    return msgspec.structs.replace(struct, **fields)


def advance(clock: datetime | None, when: datetime) -> datetime:
    return when if clock is None or when > clock else clock


def publish(incident: Incident, change: str, now: datetime, policy: Policy, recipients: Recipients,
            *, bump: bool = True, **fields: object) -> Incident:
    """A new revision: bump, stamp, issue a CAP reference and notifications where the change calls for them."""
    revision = incident.revision + 1 if bump else incident.revision
    out = replace(incident, change=change, revision=revision, updated_at=now, command_id=None, refusal=None,
                  **fields)
    if change in CAP_CHANGES:
        out = replace(out, cap_refs=out.cap_refs + (_next_cap_ref(incident, now, policy, bump),))
    if change in NOTIFY_CHANGES:
        out = replace(out, notifications=out.notifications + _notifications(out, change, recipients))
    return out


def _next_cap_ref(incident: Incident, now: datetime, policy: Policy, bump: bool = True) -> str:
    """The ``sender,identifier,sent`` of the CAP message the incident's next revision issues."""
    revision = incident.revision + 1 if bump else incident.revision
    return cap_reference(policy.cap_sender, f"{incident.incident_id}.r{revision}", now, policy.zone)


def _notifications(incident: Incident, reason: str, recipients: Recipients) -> tuple[Notification, ...]:
    known = {n.notification_id for n in incident.notifications}
    fresh = []
    for contact, channel in recipients(incident, reason):
        nid = notification_id_for(incident.incident_id, reason, incident.escalation_level, incident.assignee, contact)
        if nid not in known:
            known.add(nid)
            fresh.append(Notification(notification_id=nid, channel=channel, contact=contact, reason=reason,
                                      status="pending"))
    return tuple(fresh)


def with_incident(area: Area, incident: Incident) -> Area:
    others = tuple(i for i in area.incidents if i.incident_id != incident.incident_id)
    return replace(area, incidents=tuple(sorted(others + (incident,), key=lambda i: (i.raised_at, i.incident_id))))


def _title(incident: Incident, places: PlaceIndex) -> str:
    place = incident.place
    return f"{incident.hazard.value} at {places.name(place) or place}"


def _cameras(evidence: Sequence[EvidenceRef], places: PlaceIndex, policy: Policy) -> tuple[str, ...]:
    seen = [ref.camera_id for ref in evidence if ref.camera_id]
    cells = sorted({cell for ref in evidence for cell in ref.cells})
    ranked = list(dict.fromkeys(seen + list(places.cameras_covering(cells))))
    return tuple(ranked[: policy.max_cameras])


def _settle_colour(incident: Incident, now: datetime, policy: Policy) -> tuple[Colour, datetime | None, bool]:
    """(colour, lower_since, cleared): upgrade at once, downgrade only after ``downgrade_hold``."""
    target = Colour.worst([ref.colour for ref in incident.evidence])
    if target.rank >= incident.colour.rank:
        return target, None, False
    since = incident.lower_since or now
    if now - since < policy.downgrade_hold:
        return incident.colour, since, False
    if target is Colour.GREEN:
        return incident.colour if policy.auto_resolve else Colour.BLUE, None, policy.auto_resolve
    return target, None, False


def recolour(incident: Incident, now: datetime, policy: Policy, recipients: Recipients,
             change: str | None) -> Incident | None:
    """Apply the colour rule; returns the published revision, or None if nothing visible changed."""
    colour, since, cleared = _settle_colour(incident, now, policy)
    if cleared:
        state = next_state(incident.state, Action.CLEAR, incident.incident_id)
        return publish(incident, "resolved", now, policy, recipients, state=state, closed_at=now, lower_since=None)
    if colour.rank > incident.colour.rank:
        change = "upgraded"
    elif colour.rank < incident.colour.rank:
        change = "downgraded"
    if change is None:
        return replace(incident, lower_since=since) if since != incident.lower_since else None
    return publish(incident, change, now, policy, recipients, colour=colour, lower_since=since)


def observe(area: Area, observed: EvidenceObserved, places: PlaceIndex, policy: Policy,
            recipients: Recipients) -> Outcome:
    """Merge one piece of evidence: update it where it already is, join a nearby open incident, or raise one."""
    ref = observed.evidence
    now = advance(area.clock, observed.event_time)
    area = replace(area, clock=now)
    held = next(((i, known) for i in reversed(area.incidents)
                 if i.merged_into is None and (known := i.evidence_by_id(ref.evidence_id))), None)
    if held is not None:
        holder, known = held
        if ref.event_time <= known.event_time:
            return Outcome(area)  # replay or out of order: already counted
        if holder.state not in FINAL_STATES:
            return _join(area, holder, ref, now, places, policy, recipients)
    if ref.colour is Colour.GREEN:
        return Outcome(area)  # a clear signal with nothing open to clear
    if now - ref.event_time >= policy.retain_closed:
        return Outcome(area)  # older than anything remembered: a replay must not raise a closed incident again
    linked = linked_incidents(area, ref, now, places, policy)
    if linked:
        return _join(area, linked[0], ref, now, places, policy, recipients)
    if ref.colour.rank < policy.raise_floor.get(ref.kind, Colour.BLUE).rank:
        return Outcome(area)  # supporting evidence only: too weak to raise an incident by itself
    return _raise(area, observed, now, places, policy, recipients)


def linked_incidents(area: Area, ref: EvidenceRef, now: datetime, places: PlaceIndex,
                     policy: Policy) -> list[Incident]:
    """Open incidents seen within the merge window that ``ref`` belongs to, earliest raised first:
    those holding evidence of the same river reach, or a cell at, next to or in the village of one of its cells."""
    nearby = Nearby.of(places, ref.cells)
    linked = []
    for incident in area.incidents:
        if incident.state in FINAL_STATES or now - incident.last_evidence_at > policy.merge_window:
            continue
        if ref.reach is not None and any(e.reach == ref.reach for e in incident.evidence):
            linked.append(incident)
            continue
        cells = incident.cells
        if (not ref.cells and not cells) or nearby.touches(cells):  # city-wide hazards: by area alone
            linked.append(incident)
    return linked


def _join(area: Area, incident: Incident, ref: EvidenceRef, now: datetime, places: PlaceIndex, policy: Policy,
          recipients: Recipients) -> Outcome:
    """Put ``ref`` into ``incident``; if that links it to other open incidents, merge them all into the earliest."""
    joined = _update_evidence(area, incident, ref, now, places, policy, recipients)
    updated = next(i for i in joined.area.incidents if i.incident_id == incident.incident_id)
    if ref.colour is Colour.GREEN or updated.state in FINAL_STATES:
        return joined
    others = [i for i in linked_incidents(joined.area, ref, now, places, policy) if i.incident_id != updated.incident_id]
    if not others:
        return joined
    merged = merge(joined.area, [updated, *others], now, places, policy, recipients)
    return Outcome(merged.area, joined.changes + merged.changes)


def merge(area: Area, group: Sequence[Incident], now: datetime, places: PlaceIndex, policy: Policy,
          recipients: Recipients) -> Outcome:
    """Merge open incidents that turned out to be one event into the earliest raised (the survivor).

    The survivor takes every piece of evidence (the newer copy where both hold one), the operators'
    notes and the higher escalation; it keeps its own state, assignee and notifications, and publishes
    ``change="merged"`` with ``merged_from`` (a CAP Update). Each absorbed incident is resolved with
    ``merged_into`` (a CAP Cancel). The two reference each other: the Update lists the absorbed
    incident's messages and its Cancel, the Cancel lists the Update.
    """
    survivor, *absorbed = sorted(group, key=lambda i: (i.raised_at, i.incident_id))
    update_ref = _next_cap_ref(survivor, now, policy)
    closed = []
    for other in absorbed:
        state = next_state(other.state, Action.MERGE, other.incident_id)
        shell = replace(other, cap_refs=other.cap_refs + (update_ref,))
        closed.append(publish(shell, "resolved", now, policy, recipients, state=state, closed_at=now,
                              lower_since=None, merged_into=survivor.incident_id))
    evidence = {e.evidence_id: e for e in survivor.evidence}
    for other in absorbed:
        for e in other.evidence:
            kept = evidence.get(e.evidence_id)
            if kept is None or e.event_time > kept.event_time:
                evidence[e.evidence_id] = e
    top = max((survivor, *absorbed), key=lambda i: i.escalation_level)
    foreign = tuple(ref for shell in closed for ref in shell.cap_refs if ref != update_ref)
    combined = replace(
        survivor, evidence=tuple(evidence.values()), cap_refs=survivor.cap_refs + foreign,
        last_evidence_at=max(i.last_evidence_at for i in group), last_activity_at=now,
        notes=tuple(sorted((n for i in group for n in i.notes), key=lambda n: n.event_time)),
        escalation_level=top.escalation_level, last_escalated_at=top.last_escalated_at,
        merged_from=survivor.merged_from + tuple(i.incident_id for i in absorbed),
        cameras=_cameras(tuple(evidence.values()), places, policy))
    combined = replace(combined, title=_title(combined, places))
    target = Colour.worst([e.colour for e in combined.evidence])
    if target.rank > combined.colour.rank:  # an upgrade is immediate
        colour, since = target, None
    else:  # a downgrade waits for the hold, as always
        colour, since = combined.colour, (combined.lower_since or now) if target.rank < combined.colour.rank else None
    merged = publish(combined, "merged", now, policy, recipients, colour=colour, lower_since=since)
    for shell in closed:
        area = with_incident(area, shell)
    # the absorbed first: a reader applying them in order ends with the survivor holding the evidence
    return Outcome(with_incident(area, merged), (*closed, merged))


def _update_evidence(area: Area, incident: Incident, ref: EvidenceRef, now: datetime, places: PlaceIndex,
                     policy: Policy, recipients: Recipients) -> Outcome:
    old_cells = incident.cells
    added = incident.evidence_by_id(ref.evidence_id) is None
    evidence = (incident.evidence + (ref,)) if added else tuple(
        ref if e.evidence_id == ref.evidence_id else e for e in incident.evidence)
    updated = replace(incident, evidence=evidence, last_evidence_at=max(incident.last_evidence_at, ref.event_time),
                      last_activity_at=incident.last_activity_at if ref.colour is Colour.GREEN else now)
    extended = updated.cells != old_cells
    if extended or ref.camera_id:  # the cameras and the place follow the cells (and the cameras' own findings)
        updated = replace(updated, cameras=_cameras(evidence, places, policy))
        updated = replace(updated, title=_title(updated, places))
    change = "extended" if extended else ("evidence_added" if added else None)
    published = recolour(updated, now, policy, recipients, change)
    final = published or updated
    visible = published is not None and final.revision != incident.revision
    return Outcome(with_incident(area, final), (final,) if visible else ())


def _raise(area: Area, observed: EvidenceObserved, now: datetime, places: PlaceIndex, policy: Policy,
           recipients: Recipients) -> Outcome:
    ref = observed.evidence
    first = (ref.cells or [None])[0]
    centre = places.centre(first) if first else None
    lon, lat = (observed.lon, observed.lat) if observed.lon is not None else (centre or (None, None))
    incident = Incident(
        incident_id=incident_id_for(area.area_key, ref), area_key=area.area_key, hazard=ref.hazard or _hazard(area),
        state=IncidentState.RAISED, colour=ref.colour, evidence=(ref,), raised_at=now, updated_at=now,
        last_evidence_at=ref.event_time, last_activity_at=now, last_escalated_at=now, drill=policy.drill,
        lon=lon, lat=lat, revision=1, change="raised",
    )
    incident = replace(incident, title=_title(incident, places), cameras=_cameras((ref,), places, policy))
    incident = publish(incident, "raised", now, policy, recipients, bump=False)
    return Outcome(with_incident(area, incident), (incident,))


def _hazard(area: Area) -> Hazard:
    return Hazard(area.area_key.split("/")[1])
