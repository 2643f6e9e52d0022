"""Every event on Amur's wire: declared, versioned and validated here, and only here.

Events are frozen :mod:`msgspec` structs encoded as JSON. msgspec validates while
it decodes (types, enums, bounds, time zones) at ~1 µs per event, where a
``faust.Record`` round trip costs ~20 µs; high-rate readings also travel in
batches (:class:`ReadingBatch`). Topics carry raw bytes and agents decode with
:func:`decode`, so a payload that does not decode is dead-lettered by Amur with
its reason instead of being skipped inside Faust's deserializer.

Conventions:
- every event has ``v`` (schema version), ``source`` (who observed or produced
  it) and ``event_time`` (when it was observed, tz-aware; never the wall clock
  of the processor);
- closed sets are :class:`enum.StrEnum`;
- the JSON field ``type`` tags the event kind, so a mixed topic can be decoded
  with :data:`AnyEvent`.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Any, TypeVar, Union

import msgspec

from stream.errors import InvalidEvent

SCHEMA_VERSION = 1

#: A timestamp with an explicit zone (naive times are refused).
AwareTime = Annotated[datetime, msgspec.Meta(tz=True)]
Identifier = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
Probability = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
Lon = Annotated[float, msgspec.Meta(ge=-180.0, le=180.0)]
Lat = Annotated[float, msgspec.Meta(ge=-90.0, le=90.0)]


# --------------------------------------------------------------------------- enums


class Colour(enum.StrEnum):
    """Warning colour; GREEN means no warning. Order is severity order."""

    GREEN = "green"
    BLUE = "blue"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"

    @property
    def rank(self) -> int:
        return _COLOUR_RANK[self]

    @classmethod
    def worst(cls, colours: "list[Colour] | tuple[Colour, ...]") -> "Colour":
        return max(colours, key=lambda c: c.rank, default=cls.GREEN)


_COLOUR_RANK = {c: i for i, c in enumerate(Colour)}


class SensorKind(enum.StrEnum):
    SMOKE = "smoke"
    TEMPERATURE = "temperature"
    RAIN = "rain"
    WATER_LEVEL = "water_level"
    HUMIDITY = "humidity"
    WIND = "wind"
    AIR_QUALITY = "air_quality"
    OTHER = "other"


class Hazard(enum.StrEnum):
    FLOOD = "flood"
    FIRE = "fire"
    CAMERA_FAULT = "camera_fault"
    SOURCE_OUTAGE = "source_outage"
    PUBLIC_SAFETY = "public_safety"
    OTHER = "other"


class DecodeStatus(enum.StrEnum):
    OK = "ok"
    CORRUPT = "corrupt"
    TIMEOUT = "timeout"
    HTTP_ERROR = "http_error"
    OFFLINE = "offline"
    CIRCUIT_OPEN = "circuit_open"


class FindingKind(enum.StrEnum):
    FIRE = "fire"
    SMOKE = "smoke"
    WATER_RISE = "water_rise"
    OFFLINE = "offline"
    FROZEN = "frozen"
    DARK = "dark"
    OVEREXPOSED = "overexposed"
    BLURRED = "blurred"
    COVERED = "covered"
    MOVED = "moved"
    CORRUPT = "corrupt"
    AUTH_FAILED = "auth_failed"
    """The camera refuses Amur's credentials (ONVIF, GB/T 28181)."""
    CLOCK_OFFSET = "clock_offset"
    """The camera's clock is off by more than the allowed offset (ONVIF)."""


class IncidentState(enum.StrEnum):
    RAISED = "raised"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"
    EXPIRED = "expired"


class CommandAction(enum.StrEnum):
    ACKNOWLEDGE = "acknowledge"
    ASSIGN = "assign"
    COMMENT = "comment"
    RESOLVE = "resolve"
    REOPEN = "reopen"


class Role(enum.StrEnum):
    VIEWER = "viewer"
    DUTY_OFFICER = "duty_officer"
    ADMIN = "admin"


class SourceState(enum.StrEnum):
    LIVE = "live"
    STALE = "stale"


class TrendState(enum.StrEnum):
    RISING = "rising"
    STEADY = "steady"
    FALLING = "falling"


class RequestStatus(enum.StrEnum):
    """Where a dispatched request stands (stream.dispatch.lifecycle has the transitions)."""

    RECEIVED = "received"
    ACCEPTED = "accepted"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REROUTED = "rerouted"
    """Moved to another department (or item) by the dispatcher; waits for the new department to accept."""
    REJECTED = "rejected"
    """Refused by its department as not theirs (with a reason): back in the dispatcher queue."""


class RequestAction(enum.StrEnum):
    """What a department or the dispatcher does to a request."""

    ACCEPT = "accept"
    ASSIGN = "assign"
    START = "start"
    RESOLVE = "resolve"
    CLOSE = "close"
    REROUTE = "reroute"
    REJECT = "reject"


# --------------------------------------------------------------------------- base


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", forbid_unknown_fields=True):
    """Fields every wire event carries."""

    v: int = SCHEMA_VERSION
    source: Identifier
    event_time: AwareTime


# --------------------------------------------------------------------------- observations


class SensorReading(Event, tag="sensor_reading", kw_only=True):
    """One reading of one sensor (smoke, temperature, rain, water level ...)."""

    sensor_id: Identifier
    kind: SensorKind
    value: float
    unit: Annotated[str, msgspec.Meta(max_length=16)]


class ReadingBatch(Event, tag="reading_batch", kw_only=True):
    """Many readings in one message: how high-rate readings travel.

    ``event_time`` is when the batch was assembled; each reading keeps its own.
    """

    readings: list[SensorReading]


class WeatherObservation(Event, tag="weather_observation", kw_only=True):
    """A weather station's observation (noon values feed the daily FWI)."""

    station_id: Identifier
    temp_c: Annotated[float, msgspec.Meta(ge=-70.0, le=60.0)]
    rh_pct: Annotated[float, msgspec.Meta(ge=0.0, le=100.0)]
    wind_kmh: Annotated[float, msgspec.Meta(ge=0.0, le=300.0)]
    rain_mm: Annotated[float, msgspec.Meta(ge=0.0, le=500.0)]
    """Rain since the previous observation of this station."""


class WaterLevel(Event, tag="water_level", kw_only=True):
    """A river gauge's stage (and flow where the gauge rates it)."""

    gauge_id: Identifier
    stage_m: Annotated[float, msgspec.Meta(ge=-50.0, le=500.0)]
    flow_m3s: Annotated[float, msgspec.Meta(ge=0.0)] | None = None


class FrameSample(Event, tag="frame_sample", kw_only=True):
    """One sampled frame of one camera: metadata and a reference, never the pixels."""

    camera_id: Identifier
    status: DecodeStatus
    width: int = 0
    height: int = 0
    size_bytes: int = 0
    image_ref: str | None = None
    fetch_ms: float = 0.0


class VisionFinding(Event, tag="vision_finding", kw_only=True):
    """What the analysis saw in a camera's frame(s)."""

    camera_id: Identifier
    kind: FindingKind
    score: Probability
    confirmed: bool
    """True once temporal confirmation (k of the last n samples) holds."""
    bbox: tuple[int, int, int, int] | None = None
    """x, y, width, height in the analysed frame."""
    evidence_ref: str | None = None
    cells: list[str] = []
    """Grid cells in the camera's view (filled by the stream from GIS)."""


class GridEvent(Event, tag="grid_event", kw_only=True):
    """A report from a grid worker, the public (Open311-style service request) or the 110 line.

    Version 2 added the responsibility item, the hazard it describes and the address,
    and lets a 110 call known only by its address come without coordinates (it is
    placed at its county, or in the dispatcher queue); a version 1 payload decodes
    with them unset.
    """

    v: int = 2
    report_id: Identifier
    service_code: Identifier
    description: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    lon: Lon | None = None
    lat: Lat | None = None
    cell_code: str | None = None
    """The grid cell; for an unlocated call, the coarsest grid code its address names (or none)."""
    department: str | None = None
    item_code: str | None = None
    """Responsibility item (stream/dispatch/data/responsibilities.csv); None: for the dispatcher to decide."""
    hazard: Hazard | None = None
    """The hazard the item describes, making the report incident evidence; ``other``: none (not
    evidence); None (version 1 senders): read from the words of the service code."""
    address: Annotated[str, msgspec.Meta(max_length=500)] | None = None


# --------------------------------------------------------------------------- derived


class CellRisk(Event, tag="cell_risk", kw_only=True):
    """A grid cell's risk for one hazard, with the factors that made it.

    Version 2 added ``gauge_id``; a version 1 payload decodes with none.
    """

    v: int = 2
    cell_code: Identifier
    hazard: Hazard
    score: Annotated[float, msgspec.Meta(ge=0.0)]
    colour: Colour
    factors: dict[str, float] = {}
    gauge_id: Identifier | None = None
    """Flood: the gauge whose stage (or forecast) drives the cell's risk, i.e. the river reach it lies on;
    None when no river stage contributes (rain only, or fire)."""


class CrestDetected(Event, tag="crest_detected", kw_only=True):
    """A crest (local stage maximum) detected at a gauge, or revised.

    A crest is announced early, once the stage has fallen a little below its top.
    If the water then rises higher before the recession confirms the crest, the
    same crest (same ``crest_no``) is published again with ``revision`` 1, 2, ...
    and the time and stage it replaces. Version 2 added the revision fields; a
    version 1 payload decodes as an announcement (``revision`` 0).
    """

    v: int = 2
    gauge_id: Identifier
    river: Identifier
    crest_no: int
    """Number of the wave on its river this season; kept as it travels downstream and when revised."""
    crest_time: AwareTime
    """Time of the observed reading reported as the crest."""
    stage_m: float
    prominence_m: float
    rise_start: AwareTime
    revision: Annotated[int, msgspec.Meta(ge=0)] = 0
    """0: first announcement; n: the n-th revision of this crest."""
    previous_crest_time: AwareTime | None = None
    """For a revision: the crest time it replaces."""
    previous_stage_m: float | None = None
    """For a revision: the crest stage it replaces."""


class GaugeState(Event, tag="gauge_state", kw_only=True):
    """A gauge's latest stage, trend and threshold colour."""

    gauge_id: Identifier
    stage_m: float
    trend: TrendState
    rate_m_per_h: float
    colour: Colour


class CrestForecast(Event, tag="crest_forecast", kw_only=True):
    """Forecast arrival of an upstream crest at a downstream gauge."""

    forecast_id: Identifier
    gauge_id: Identifier
    river: Identifier
    crest_no: int
    from_gauge_id: Identifier
    issued_at: AwareTime
    arrival_time: AwareTime
    arrival_low: AwareTime
    arrival_high: AwareTime
    stage_m: float
    stage_low_m: float
    stage_high_m: float
    colour: Colour
    affected_cells: list[str] = []
    cancelled: bool = False


class EvidenceRef(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One piece of evidence behind an incident."""

    evidence_id: Identifier
    kind: str
    source: Identifier
    event_time: AwareTime
    colour: Colour
    summary: str = ""
    cell_code: str | None = None
    camera_id: str | None = None
    cells: list[str] = []
    """Every grid cell the evidence concerns (``cell_code`` is the first)."""
    hazard: Hazard | None = None
    reach: str | None = None
    """The gauge whose river reach the evidence is about (gauge, crest forecast, a cell's river-driven
    flood risk): evidence of one reach belongs to one incident. Added with EvidenceObserved and
    IncidentChanged version 2."""


class Notification(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Delivery status of one notification about an incident."""

    notification_id: Identifier
    channel: str
    contact: str
    reason: str
    status: str
    """pending, delivered or failed."""
    attempts: int = 0
    detail: str = ""
    """Last delivery outcome (HTTP status or error), for the operator."""


class IncidentNote(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An operator's comment on an incident."""

    operator: Identifier
    text: str
    event_time: AwareTime


class IncidentChanged(Event, tag="incident", kw_only=True):
    """The full current state of an incident after a change (the alerts topic).

    Version 2 added ``merged_into``, ``merged_from`` and the evidence's ``reach``.
    """

    v: int = 2
    incident_id: Identifier
    hazard: Hazard
    colour: Colour
    state: IncidentState
    title: str
    cells: list[str]
    grid_path: list[str] = []
    """Codes from city down to the incident's place."""
    evidence: list[EvidenceRef] = []
    cameras: list[str] = []
    assignee: str | None = None
    escalation_level: int = 0
    change: str = "raised"
    """What changed: raised, upgraded, downgraded, acknowledged, escalated, ..."""
    revision: int = 1
    raised_at: AwareTime | None = None
    lon: float | None = None
    lat: float | None = None
    notifications: list[Notification] = []
    drill: bool = False
    area_key: str | None = None
    """Partition key of the incident's state: ``<county code>/<hazard>``."""
    responsible: str | None = None
    """Grid code currently answering for the incident (moves up on escalation)."""
    notes: list[IncidentNote] = []
    command_id: str | None = None
    """The operator command this change answers (applied or refused)."""
    refusal: str | None = None
    """Why the command was refused, when ``change`` is ``command_refused``."""
    cap_refs: list[str] = []
    """``sender,identifier,sent`` of each CAP message issued for this incident, oldest first (after a
    merge also those of the incidents it absorbed, or of the one it was merged into)."""
    merged_into: str | None = None
    """Set on an incident closed because it turned out to be part of another one: that incident's id."""
    merged_from: list[str] = []
    """Ids of the incidents merged into this one."""


class EvidenceObserved(Event, tag="evidence_observed", kw_only=True):
    """Evidence normalised from any source, re-keyed by hazard area (internal topic).

    Version 2: the evidence may carry its ``reach``.
    """

    v: int = 2
    area_key: Identifier
    evidence: EvidenceRef
    lon: float | None = None
    lat: float | None = None


class IncidentTick(Event, tag="incident_tick", kw_only=True):
    """Clock tick for one hazard area: escalation, hysteresis and expiry (internal topic)."""

    area_key: Identifier


class NotificationStatus(Event, tag="notification_status", kw_only=True):
    """A notifier's delivery outcome, sent back to the incident's owner (internal topic)."""

    area_key: Identifier
    incident_id: Identifier
    notification: Notification


class OperatorCommand(Event, tag="operator_command", kw_only=True):
    """A duty officer's action on an incident; applied by the stream, not the gateway."""

    command_id: Identifier
    incident_id: Identifier
    action: CommandAction
    operator: Identifier
    role: Role
    scope: Identifier
    """Grid code subtree the operator may act on (231100 = whole city)."""
    assignee: str | None = None
    comment: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    signature: Annotated[str, msgspec.Meta(max_length=128)] | None = None
    """HMAC-SHA256 by the gateway over the other fields (stream/incidents/signature.py); unsigned = refused."""


class EscalationStep(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One step of an overdue request up the grid: to whom, when, why, and who was told."""

    level: Annotated[int, msgspec.Meta(ge=0, le=4)]
    """0 = the request's own place; each step one level up, the city last."""
    code: str
    """The grid code now answering for the request."""
    at: AwareTime
    overdue: str
    """``accept`` (nobody accepted in time) or ``resolve`` (not resolved in time)."""
    notified: list[str] = []


class RequestChanged(Event, tag="request_changed", kw_only=True):
    """A dispatched request's full state after a change (the dispatch topic; keyed by request id)."""

    request_id: Identifier
    status: RequestStatus
    change: str
    """received, accepted, assigned, in_progress, resolved, closed, rerouted, rejected, escalated, queued,
    refused (an action the request's state or the actor's role does not allow; ``reason`` says why)."""
    revision: Annotated[int, msgspec.Meta(ge=1)] = 1
    channel: Identifier
    """Where it came in: open311, 110, or a device's source id."""
    service_code: Identifier
    item_code: str | None = None
    category: str | None = None
    title: str = ""
    """The item's name, ``<Chinese> / <English>``; the service code when the item is unknown."""
    description: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    department: str | None = None
    """Responsible department; None while the request waits in the dispatcher queue."""
    queue_reason: str | None = None
    place: str
    """The lowest grid code known for the request (a cell, or the county or city of an address)."""
    grid_path: list[str] = []
    lon: Lon | None = None
    lat: Lat | None = None
    address: str | None = None
    hazard: Hazard | None = None
    received_at: AwareTime
    accept_by: AwareTime | None = None
    resolve_by: AwareTime | None = None
    accepted_at: AwareTime | None = None
    resolved_at: AwareTime | None = None
    closed_at: AwareTime | None = None
    assignee: str | None = None
    escalation_level: Annotated[int, msgspec.Meta(ge=0, le=4)] = 0
    responsible: str
    """Grid code answering for the request now (moves up on escalation)."""
    overdue: str | None = None
    """``accept`` or ``resolve`` once that deadline has passed; None in time."""
    escalations: list[EscalationStep] = []
    actor: str | None = None
    """Who made this change (a department id, ``grid-office`` for the dispatcher, or the stream)."""
    reason: str | None = None
    """Why (a rejection, a re-route, a refusal)."""
    notified: list[str] = []
    """Who this change was sent to."""
    drill: bool = False


class RequestActed(Event, tag="request_acted", kw_only=True):
    """A department's or the dispatcher's action on a request; applied by the stream."""

    action_id: Identifier
    request_id: Identifier
    action: RequestAction
    actor: Identifier
    """Department id the action is taken as (the HTTP front door sets it from the API key)."""
    assignee: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    item_code: str | None = None
    """reroute: the item the request really is."""
    department: str | None = None
    """reroute: the department to take it (default: the item's department for the place)."""
    reason: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    """Required for reject and reroute."""


class DispatchTick(Event, tag="dispatch_tick", kw_only=True):
    """Clock tick for one partition of the dispatch inputs: deadlines, escalation (internal topic)."""

    partition: Annotated[int, msgspec.Meta(ge=0)]


class CameraPriority(Event, tag="camera_priority", kw_only=True):
    """Raise (or drop back) a camera's sampling priority for a reason."""

    camera_id: Identifier
    priority: Annotated[float, msgspec.Meta(ge=0.0, le=100.0)]
    reason: str
    until: AwareTime | None = None


class SamplingHealth(Event, tag="sampling_health", kw_only=True):
    """How one camera sampler keeps up with its sampling plan (every few seconds; ``cameras`` 0: it stopped)."""

    worker: Identifier
    cameras: Annotated[int, msgspec.Meta(ge=0)]
    claimed: Annotated[int, msgspec.Meta(ge=0)]
    """Cameras with a live priority claim."""
    planned_fps: Annotated[float, msgspec.Meta(ge=0.0)]
    served_fps: Annotated[float, msgspec.Meta(ge=0.0)]
    """Frames/s dispatched over the last 10 s."""
    claimed_behind: Annotated[int, msgspec.Meta(ge=0)]
    """Claimed cameras waiting longer than 1.5 x their planned interval (+ 0.5 s)."""
    past_max_interval: Annotated[int, msgspec.Meta(ge=0)]
    """Cameras not sampled for longer than the max interval (the guarantee broken)."""
    worst_wait_s: Annotated[float, msgspec.Meta(ge=0.0)]
    feasible: bool
    """False when the budget cannot give every camera the max interval."""


class SourceHealth(Event, tag="source_health", kw_only=True):
    """A data source went stale (silent > 3x cadence) or came back."""

    source_id: Identifier
    state: SourceState
    last_seen: AwareTime | None
    cadence_s: float


class DeadLetter(Event, tag="dead_letter", kw_only=True):
    """Rejected input: the raw payload, where it came from and why."""

    topic: str
    reason: str
    field: str | None = None
    value: str | None = None
    raw: str
    """The payload as received (UTF-8, or base64 prefixed ``b64:`` if binary)."""


AnyEvent = Union[
    SensorReading,
    ReadingBatch,
    WeatherObservation,
    WaterLevel,
    FrameSample,
    VisionFinding,
    GridEvent,
    CellRisk,
    CrestDetected,
    GaugeState,
    CrestForecast,
    IncidentChanged,
    OperatorCommand,
    CameraPriority,
    SamplingHealth,
    SourceHealth,
    DeadLetter,
    EvidenceObserved,
    IncidentTick,
    NotificationStatus,
    RequestChanged,
    RequestActed,
    DispatchTick,
]

E = TypeVar("E")

_encoder = msgspec.json.Encoder()
_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}


def encode(event: Any) -> bytes:
    """Serialize an event (or list of events) to its wire form."""
    return _encoder.encode(event)


def decode(kind: type[E], payload: bytes | str) -> E:
    """Decode and validate ``payload`` as ``kind``.

    Raises :class:`InvalidEvent` naming the field path and the problem.
    """
    decoder = _decoders.get(kind)
    if decoder is None:
        decoder = _decoders[kind] = msgspec.json.Decoder(kind)
    try:
        return decoder.decode(payload)
    except msgspec.ValidationError as exc:
        raise InvalidEvent.from_validation(str(exc), payload) from None
    except msgspec.DecodeError as exc:
        raise InvalidEvent(f"not valid JSON: {exc}", field=None, value=None) from None


def to_builtins(event: Any) -> Any:
    """Plain JSON-able dicts/lists (for Redis projections and the page)."""
    return msgspec.to_builtins(event)
