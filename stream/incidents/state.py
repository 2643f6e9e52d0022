"""An incident's full state as kept in the changelogged table, and the policy that drives it.

The table value is one :class:`Area` per hazard area key (``<county>/<hazard>``):
every incident of that hazard in that county, open ones and recently closed
ones (kept so replayed evidence is recognised). Encoded with msgspec.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import msgspec

from stream.incidents.grid import chain_of_command, common_place
from stream.schemas import (
    Colour,
    EvidenceRef,
    Hazard,
    IncidentChanged,
    IncidentNote,
    IncidentState,
    Notification,
)

if TYPE_CHECKING:
    from stream.settings import Settings


class Incident(msgspec.Struct, frozen=True, kw_only=True):
    incident_id: str
    area_key: str
    hazard: Hazard
    state: IncidentState
    colour: Colour
    evidence: tuple[EvidenceRef, ...]
    cameras: tuple[str, ...] = ()
    assignee: str | None = None
    escalation_level: int = 0
    revision: int = 1
    change: str = "raised"
    raised_at: datetime
    updated_at: datetime
    last_evidence_at: datetime
    last_activity_at: datetime
    last_escalated_at: datetime | None = None
    lower_since: datetime | None = None
    """Since when the evidence has been below the incident's colour (downgrade hysteresis)."""
    closed_at: datetime | None = None
    notifications: tuple[Notification, ...] = ()
    notes: tuple[IncidentNote, ...] = ()
    commands: tuple[str, ...] = ()
    """Recent command ids already answered (at-least-once delivery)."""
    cap_refs: tuple[str, ...] = ()
    title: str = ""
    drill: bool = False
    lon: float | None = None
    lat: float | None = None
    command_id: str | None = None
    refusal: str | None = None
    merged_into: str | None = None
    """The incident this one was merged into (it is then resolved)."""
    merged_from: tuple[str, ...] = ()
    """Incidents merged into this one."""

    @property
    def cells(self) -> list[str]:
        return sorted({cell for ref in self.evidence for cell in ref.cells})

    @property
    def place(self) -> str:
        return common_place(self.cells)

    @property
    def chain(self) -> tuple[str, ...]:
        return chain_of_command(self.place)

    @property
    def responsible(self) -> str:
        chain = self.chain
        return chain[min(self.escalation_level, len(chain) - 1)]

    def evidence_by_id(self, evidence_id: str) -> EvidenceRef | None:
        return next((ref for ref in self.evidence if ref.evidence_id == evidence_id), None)


class Area(msgspec.Struct, frozen=True, kw_only=True):
    area_key: str
    clock: datetime | None = None
    """Latest time seen in this area (event times and ticks): the area's monotonic now."""
    incidents: tuple[Incident, ...] = ()


def default_ack_limits() -> dict[Colour, timedelta]:
    return {Colour.RED: timedelta(minutes=5), Colour.ORANGE: timedelta(minutes=15),
            Colour.YELLOW: timedelta(minutes=30), Colour.BLUE: timedelta(minutes=60),
            Colour.GREEN: timedelta(minutes=60)}


@dataclass(frozen=True)
class Policy:
    """Everything configurable about merging, colour, escalation and expiry."""

    merge_window: timedelta = timedelta(hours=1)
    downgrade_hold: timedelta = timedelta(minutes=15)
    ack_limits: Mapping[Colour, timedelta] = field(default_factory=default_ack_limits)
    expire_after: timedelta = timedelta(hours=24)
    retain_closed: timedelta = timedelta(hours=6)
    """Closed incidents stay in the area's state this long (replays are recognised); evidence
    older than this (against the area's clock) raises nothing."""
    auto_resolve: bool = True
    max_cameras: int = 8
    raise_floor: Mapping[str, Colour] = field(default_factory=lambda: {"cell_risk": Colour.ORANGE})
    """Evidence kind -> lowest colour at which it raises an incident by itself (below: it only joins one).
    A modelled risk is not an event: a yellow risk only supports an incident that observations raised."""
    cap_sender: str = "amur@heihe.local"
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    drill: bool = False


def incident_id_for(area_key: str, evidence: EvidenceRef) -> str:
    """Deterministic id from the founding evidence: ``<county>-<hazard>-<12 hex>``."""
    county, hazard = area_key.split("/")
    digest = hashlib.sha256(f"{area_key}|{evidence.evidence_id}|{evidence.event_time.isoformat()}".encode())
    return f"{county}-{hazard}-{digest.hexdigest()[:12]}"


def notification_id_for(incident_id: str, reason: str, level: int, assignee: str | None, contact: str) -> str:
    digest = hashlib.sha256(f"{incident_id}|{reason}|{level}|{assignee or ''}|{contact}".encode())
    return f"n-{digest.hexdigest()[:16]}"


def to_event(incident: Incident, source: str) -> IncidentChanged:
    """The wire form published on the incidents topic (full state after the change)."""
    return IncidentChanged(
        source=source, event_time=incident.updated_at, incident_id=incident.incident_id,
        hazard=incident.hazard, colour=incident.colour, state=incident.state, title=incident.title,
        cells=incident.cells, grid_path=list(reversed(incident.chain)), evidence=list(incident.evidence),
        cameras=list(incident.cameras), assignee=incident.assignee, escalation_level=incident.escalation_level,
        change=incident.change, revision=incident.revision, raised_at=incident.raised_at, lon=incident.lon,
        lat=incident.lat, notifications=list(incident.notifications), drill=incident.drill,
        area_key=incident.area_key, responsible=incident.responsible, notes=list(incident.notes),
        command_id=incident.command_id, refusal=incident.refusal, cap_refs=list(incident.cap_refs),
        merged_into=incident.merged_into, merged_from=list(incident.merged_from),
    )


_area_encoder = msgspec.json.Encoder()
_area_decoder = msgspec.json.Decoder(Area)


def encode_area(area: Area) -> bytes:
    return _area_encoder.encode(area)


def decode_area(payload: bytes) -> Area:
    return _area_decoder.decode(payload)


def policy_from_settings(settings: "Settings") -> Policy:
    """The policy configured by ``AMUR_INCIDENT_*`` / ``AMUR_CAP_*``; drills and demonstrations are exercises."""
    seconds = lambda value: timedelta(seconds=value)  # noqa: E731
    return Policy(
        merge_window=seconds(settings.incident_merge_window_s),
        downgrade_hold=seconds(settings.incident_downgrade_hold_s),
        ack_limits={Colour.RED: seconds(settings.incident_ack_red_s),
                    Colour.ORANGE: seconds(settings.incident_ack_orange_s),
                    Colour.YELLOW: seconds(settings.incident_ack_yellow_s),
                    Colour.BLUE: seconds(settings.incident_ack_blue_s),
                    Colour.GREEN: seconds(settings.incident_ack_blue_s)},
        expire_after=seconds(settings.incident_expire_after_s),
        retain_closed=seconds(settings.incident_retain_closed_s),
        auto_resolve=settings.incident_auto_resolve,
        max_cameras=settings.incident_max_cameras,
        raise_floor={"cell_risk": Colour(settings.incident_risk_raise_colour)},
        cap_sender=settings.cap_sender,
        zone=ZoneInfo(settings.cap_timezone),
        drill=settings.drill_id is not None or settings.demonstration,
    )
