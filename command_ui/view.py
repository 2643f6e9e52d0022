"""What a client sees: scope-filtered snapshots, camera status, camera sampling and the header KPIs.

Pure functions of the mirror's state, the client's claims and ``now``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import msgspec
import orjson

from command_ui.scope import incident_in_scope, request_in_scope
from stream import schemas
from stream.screens.projection import Channel

OPEN_STATES = frozenset({schemas.IncidentState.RAISED, schemas.IncidentState.ACKNOWLEDGED,
                         schemas.IncidentState.ASSIGNED})

#: Which domain of the six-dimension taxonomy an out-of-range indicator belongs to
#: (a presentation mapping for the vital-signs strip, documented in docs/command-view.md).
INDICATOR_DOMAIN = {
    "gauge": "water_environment_hydrology",
    "cell:flood": "water_supply_drainage",
    "cell:fire": "forest_grassland",
    "camera": "telecommunications",
    "incident:flood": "water_environment_hydrology",
    "incident:fire": "forest_grassland",
    "incident:public_safety": "public_security",
    "incident:camera_fault": "telecommunications",
    "incident:source_outage": "emergency_management",
    "incident:other": "emergency_management",
}


class CameraFault(msgspec.Struct, frozen=True):
    kind: str
    score: float
    confirmed: bool
    t: datetime


class CameraDecode(msgspec.Struct, frozen=True):
    status: schemas.DecodeStatus


_fault_decoder = msgspec.json.Decoder(CameraFault)
_decode_decoder = msgspec.json.Decoder(CameraDecode)


def camera_status(decode: bytes | None, fault: bytes | None, *, now: datetime, hold_s: float) -> str:
    """``online``, ``faulty`` (with a fault kind via :func:`camera_fault`) or ``unknown``."""
    if camera_fault(decode, fault, now=now, hold_s=hold_s):
        return "faulty"
    return "unknown" if decode is None else "online"


def camera_fault(decode: bytes | None, fault: bytes | None, *, now: datetime, hold_s: float) -> str | None:
    """The camera's current fault: a health finding within ``hold_s``, else a failed decode."""
    if fault is not None:
        found = _fault_decoder.decode(fault)
        if found.t >= now - timedelta(seconds=hold_s):
            return found.kind
    if decode is not None:
        status = _decode_decoder.decode(decode).status
        if status is not schemas.DecodeStatus.OK:
            return status.value
    return None


def visible_incidents(incidents: Mapping[str, bytes], scope: str) -> dict[str, bytes]:
    """The incidents of ``incidents`` (id -> JSON) that ``scope`` may see."""
    return {key: data for key, data in incidents.items()
            if incident_in_scope(scope, schemas.decode(schemas.IncidentChanged, data))}


def visible_requests(requests: Mapping[str, bytes], scope: str) -> dict[str, bytes]:
    """The dispatched requests of ``requests`` (id -> JSON) that ``scope`` may see."""
    return {key: data for key, data in requests.items()
            if request_in_scope(scope, schemas.decode(schemas.RequestChanged, data))}


def in_dispatcher_queue(request: schemas.RequestChanged) -> bool:
    """Waiting for the dispatcher: no department (an unmapped 110 call, an unplaced one, a rejection)."""
    return request.department is None and request.status is not schemas.RequestStatus.CLOSED


def select_requests(requests: list[schemas.RequestChanged], *, status: str = "", department: str = "",
                    overdue: bool | None = None, queue: bool | None = None) -> list[schemas.RequestChanged]:
    """The requests matching every filter given (an empty string or None: any), newest first."""
    found = [r for r in requests
             if (not status or r.status.value == status) and (not department or r.department == department)
             and (overdue is None or (r.overdue is not None) == overdue)
             and (queue is None or in_dispatcher_queue(r) == queue)]
    return sorted(found, key=lambda r: (r.received_at, r.request_id), reverse=True)


_SCOPED = {Channel.INCIDENTS: visible_incidents, Channel.REQUESTS: visible_requests}


def snapshot_message(state: Mapping[Channel, Mapping[str, bytes]], head: Mapping[Channel, int],
                     scope: str, me: Mapping[str, object]) -> bytes:
    """The ``snapshot`` message: every channel's entries (incidents and requests filtered by scope)."""
    channels = {}
    for channel in Channel:
        entries = state.get(channel, {})
        if channel in _SCOPED:
            entries = _SCOPED[channel](entries, scope)
        channels[channel.value] = {key: orjson.Fragment(data) for key, data in entries.items()}
    return orjson.dumps({"type": "snapshot", "seq": {c.value: n for c, n in head.items()},
                         "channels": channels, "me": dict(me)})


SAMPLING_STALE_S = 30.0
"""A sampler's report older than this is from a sampler that stopped without saying so (reports come every 5 s)."""


@dataclass(frozen=True, slots=True)
class SamplingKpi:
    """How the camera samplers keep up with their plans, summed over the samplers reporting."""

    samplers: int = 0
    planned_fps: float = 0.0
    served_fps: float = 0.0
    claimed_behind: int = 0
    """Claimed (risk-prioritised) cameras waiting longer than 1.5 x their planned interval."""
    past_max_interval: int = 0
    """Cameras not sampled within the max interval."""
    feasible: bool = True
    short: bool = False
    """Sampling does not keep its plan's promises: the wall says so."""


def sampling_kpi(entries: Mapping[str, bytes], *, now: datetime) -> SamplingKpi:
    """Sum the live samplers' latest SamplingHealth reports (worker -> JSON)."""
    live = [h for h in (schemas.decode(schemas.SamplingHealth, data) for data in entries.values())
            if h.event_time >= now - timedelta(seconds=SAMPLING_STALE_S)]
    behind, past = sum(h.claimed_behind for h in live), sum(h.past_max_interval for h in live)
    feasible = all(h.feasible for h in live)
    return SamplingKpi(len(live), round(sum(h.planned_fps for h in live), 1),
                       round(sum(h.served_fps for h in live), 1), behind, past, feasible,
                       bool(behind or past or not feasible))


@dataclass(frozen=True, slots=True)
class DimensionHealth:
    dimension: str
    sources_live: int
    sources_stale: int
    sources_unseen: int
    out_of_range: int


@dataclass(frozen=True, slots=True)
class Kpis:
    sources_live: int
    sources_stale: int
    events_per_s: float
    cameras_online: int
    cameras_faulty: int
    cameras_unknown: int
    open_by_colour: dict[str, int]
    drill: bool
    dimensions: tuple[DimensionHealth, ...]
    sampling: SamplingKpi = SamplingKpi()

    def message(self, now: datetime) -> bytes:
        return orjson.dumps({"type": "kpi", "now": now.isoformat(), **asdict(self)})


class _Coloured(msgspec.Struct):
    colour: str = "green"


class _SourceState(msgspec.Struct):
    state: str


_coloured = msgspec.json.Decoder(_Coloured)
_source_state = msgspec.json.Decoder(_SourceState)


@dataclass(frozen=True, slots=True)
class CityHealth:
    """The scope-independent part of the KPIs (computed once per tick, shared by every scope)."""

    cameras: Counter[str]
    """online / faulty / unknown -> count."""
    indicators: Counter[str]
    """Out-of-range indicators by kind (see :data:`INDICATOR_DOMAIN`)."""
    live: Counter[str]
    """Sources reported live, by dimension."""
    stale: Counter[str]
    sampling: SamplingKpi = SamplingKpi()


def city_health(state: Mapping[Channel, Mapping[str, bytes]], *, now: datetime, camera_ids: frozenset[str],
                source_dimension: Mapping[str, str], hold_s: float) -> CityHealth:
    """Camera status counts, out-of-range indicators and source states at ``now``.

    Indicators: each gauge not green; per county, its flood cells, its fire cells
    and its camera network (GB/T 28181 ids start with the county's GB/T 2260 code)
    when any is not green / faulty.
    """
    cameras, faults = state[Channel.CAMERAS], state[Channel.CAMERA_FAULTS]
    status_of = {c: camera_status(cameras.get(c), faults.get(c), now=now, hold_s=hold_s) for c in camera_ids}
    indicators: Counter[str] = Counter()
    indicators["camera"] = len({c[:6] for c, status in status_of.items() if status == "faulty"})
    indicators["gauge"] = sum(_coloured.decode(d).colour != "green" for d in state[Channel.GAUGES].values())
    risky = {(key.split(":", 1)[0], key.split(":", 1)[1][:6]) for key, data in state[Channel.CELLS].items()
             if _coloured.decode(data).colour != "green"}
    for hazard, _county in risky:
        indicators[f"cell:{hazard}"] += 1
    live, stale = Counter[str](), Counter[str]()
    for source_id, data in state[Channel.SOURCES].items():
        target = stale if _source_state.decode(data).state == schemas.SourceState.STALE.value else live
        target[source_dimension.get(source_id, "unregistered")] += 1
    sampling = sampling_kpi(state.get(Channel.SAMPLING, {}), now=now)
    return CityHealth(Counter(status_of.values()), indicators, live, stale, sampling)


def compute_kpis(state: Mapping[Channel, Mapping[str, bytes]], health: CityHealth, *, scope: str,
                 events_per_s: float, source_dimension: Mapping[str, str], domain_dimension: Mapping[str, str],
                 drill: bool) -> Kpis:
    """Header KPIs and the vital-signs strip for one scope (open incidents are counted within the scope)."""
    out = Counter(health.indicators)
    open_by_colour: Counter[str] = Counter()
    any_drill = drill
    for data in visible_incidents(state[Channel.INCIDENTS], scope).values():
        incident = schemas.decode(schemas.IncidentChanged, data)
        if incident.state in OPEN_STATES:
            open_by_colour[incident.colour.value] += 1
            out[f"incident:{incident.hazard.value}"] += 1
            any_drill = any_drill or incident.drill
    live, stale = health.live, health.stale
    registered = Counter(source_dimension.values())
    out_by_dimension: Counter[str] = Counter()
    for indicator, count in out.items():
        out_by_dimension[domain_dimension.get(INDICATOR_DOMAIN.get(indicator, ""), "unregistered")] += count
    dimensions = tuple(
        DimensionHealth(d, live[d], stale[d], max(0, registered[d] - live[d] - stale[d]), out_by_dimension[d])
        for d in dict.fromkeys(domain_dimension.values()))
    return Kpis(
        sources_live=sum(live.values()), sources_stale=sum(stale.values()), events_per_s=round(events_per_s, 1),
        cameras_online=health.cameras["online"], cameras_faulty=health.cameras["faulty"],
        cameras_unknown=health.cameras["unknown"],
        open_by_colour={c.value: open_by_colour[c.value] for c in schemas.Colour if c is not schemas.Colour.GREEN},
        drill=any_drill, dimensions=dimensions, sampling=health.sampling)
