"""Every topic: its name, what its key is, its partition count and its value schema.

Keys partition the work: stations and sensors by id, cameras by id, grid cells
by code, incidents by id. All topics are created explicitly (with these counts)
before any worker starts, and verified at start-up; see ``stream.runtime.admin``.
"""

from __future__ import annotations

from dataclasses import dataclass

from stream import schemas

_M32 = 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 (``org.apache.kafka.common.utils.Utils.murmur2``) as an unsigned 32-bit int.

    The same function as ``aiokafka.partitioner.murmur2`` (tests check it on random
    keys); kept here so that the pure layers never import the Kafka client.
    """
    m, length = 0x5BD1E995, len(data)
    h = (0x9747B28C ^ length) & _M32
    tail = length & ~3
    for i in range(0, tail, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * m) & _M32
        k ^= k >> 24
        k = (k * m) & _M32
        h = ((h * m) & _M32) ^ k
    rest = length - tail
    if rest:
        h ^= int.from_bytes(data[tail:], "little")
        h = (h * m) & _M32
    h ^= h >> 13
    h = (h * m) & _M32
    return h ^ (h >> 15)


def partition_for(key: str, partitions: int) -> int:
    """The partition Kafka's default partitioner gives ``key`` (as producers and Faust do)."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    key: str
    """What the message key is (documentation and partitioning contract)."""
    value: type
    keyed: bool = True
    """False for single-partition topics whose order matters more than spread."""
    compacted: bool = False


RAW_INGEST = TopicSpec("ingest.raw", "source id", schemas.ReadingBatch)
"""Raw input as producers send it: one event, a reading_batch, or a JSON array of events."""
READINGS = TopicSpec("sensor.readings", "sensor id (batches grouped by partition)", schemas.ReadingBatch)
WEATHER = TopicSpec("weather.observations", "station id", schemas.WeatherObservation)
WATER_LEVELS = TopicSpec("water.levels", "gauge id", schemas.WaterLevel)
FRAMES = TopicSpec("frames.samples", "camera id", schemas.FrameSample)
FINDINGS = TopicSpec("vision.findings", "camera id", schemas.VisionFinding)
GRID_EVENTS = TopicSpec("grid.events", "grid cell code (an unlocated 110 call: its county, or the city)",
                        schemas.GridEvent)
CELL_RISK = TopicSpec("cells.risk", "grid cell code", schemas.CellRisk)
CRESTS = TopicSpec("hydro.crests", "gauge id", schemas.CrestDetected)
GAUGE_STATE = TopicSpec("hydro.gauges", "gauge id", schemas.GaugeState)
FORECASTS = TopicSpec("hydro.forecasts", "downstream gauge id", schemas.CrestForecast)
HYDRO_RIVERS = TopicSpec("hydro.rivers", "river id (water levels repartitioned by river)", schemas.WaterLevel)
INCIDENTS = TopicSpec("incidents", "incident id", schemas.IncidentChanged)
COMMANDS = TopicSpec("operator.commands", "incident id", schemas.OperatorCommand)
INCIDENT_INPUTS = TopicSpec(
    "incidents.inputs", "hazard area key <county code>/<hazard>",
    schemas.EvidenceObserved,  # also OperatorCommand, IncidentTick, NotificationStatus
)
CAMERA_PRIORITY = TopicSpec("camera.priority", "camera id", schemas.CameraPriority)
SAMPLING = TopicSpec("vision.sampling", "sampler worker id", schemas.SamplingHealth)
"""How each camera sampler keeps up with its plan (projected for the wall)."""
RISK_INPUTS = TopicSpec(
    "risk.inputs", "source key (one partition: the one risk scorer hears every input)",
    schemas.GaugeState,  # also CrestForecast, ReadingBatch (rain only), WeatherObservation, VisionFinding (fire/smoke)
    keyed=False,
)
SOURCE_HEALTH = TopicSpec("sources.health", "source id", schemas.SourceHealth)
DISPATCH_INPUTS = TopicSpec(
    "dispatch.inputs", "request id (ticks: sent to each partition)",
    schemas.GridEvent,  # also RequestActed, DispatchTick
)
DISPATCH = TopicSpec("dispatch.requests", "request id", schemas.RequestChanged)
"""Every status change of a dispatched grid request (received ... closed, re-routed, rejected, escalated)."""
DEAD_LETTER = TopicSpec("deadletter", "source id", schemas.DeadLetter)

ALL: tuple[TopicSpec, ...] = (
    RAW_INGEST,
    READINGS,
    WEATHER,
    WATER_LEVELS,
    FRAMES,
    FINDINGS,
    GRID_EVENTS,
    CELL_RISK,
    CRESTS,
    GAUGE_STATE,
    FORECASTS,
    HYDRO_RIVERS,
    INCIDENTS,
    COMMANDS,
    INCIDENT_INPUTS,
    CAMERA_PRIORITY,
    SAMPLING,
    RISK_INPUTS,
    SOURCE_HEALTH,
    DISPATCH_INPUTS,
    DISPATCH,
    DEAD_LETTER,
)


def topic_name(spec: TopicSpec, drill_id: str | None = None) -> str:
    """The topic's name on the wire; a drill gets its own namespace."""
    return f"drill.{drill_id}.{spec.name}" if drill_id else f"amur.{spec.name}"


def partitions_for(spec: TopicSpec, default: int) -> int:
    return default if spec.keyed else 1
