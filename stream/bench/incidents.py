"""`amur bench incidents`: cost of one fusion step against the cost of one plain agent hop.

A fusion step is what ``fuse_incidents`` does per input without Kafka: decode the
evidence, decode the area's state, merge (:func:`stream.incidents.fusion.observe`),
encode the state back and encode each snapshot to publish. The comparison,
measured in the same run, is a hop that only decodes and re-encodes the event:
the floor every agent pays. The state of a hazard area holds every incident of
that county and hazard kept for ``incident_retain_closed_s``, so the step is
measured with 1, 10 and 100 incidents already in the area, each fed by 20
sources of evidence that keep reporting (steady state: evidence updated in place).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import click

from stream import schemas
from stream.bench.terminal import Rows, Steps
from stream.bench.timing import best_time
from stream.incidents.fusion import observe
from stream.incidents.places import TablePlaces
from stream.incidents.state import Area, Policy, decode_area, encode_area, to_event
from stream.schemas import Colour, EvidenceObserved, EvidenceRef, Hazard

T0 = datetime(2026, 7, 12, tzinfo=timezone.utc)
POLICY = Policy()
SOURCES = 20
REPEAT = 3
"""Each figure is the best of this many measurements."""
AREA_SIZES = (1, 10, 100)


def evidence(n: int, incident: int, minute: float) -> bytes:
    cell = f"231102{incident + 1:03d}001001"  # one township per incident: never merged with each other
    ref = EvidenceRef(evidence_id=f"report:{incident}:{n}", kind="grid_report", source="bench",
                      event_time=T0 + timedelta(minutes=minute), colour=Colour.YELLOW, cells=[cell], cell_code=cell,
                      hazard=Hazard.FLOOD, summary="bench report")
    return schemas.encode(EvidenceObserved(source="bench", event_time=ref.event_time, area_key="231102/flood",
                                           evidence=ref))


def seeded_area(incidents: int) -> bytes:
    area = Area(area_key="231102/flood")
    for i in range(incidents):
        area = observe(area, schemas.decode(EvidenceObserved, evidence(0, i, i * 0.01)), TablePlaces(), POLICY,
                       lambda inc, reason: [("bench/desk", "webhook")]).area
    return encode_area(area)


def fusion_step_s(state: bytes, incidents: int, n: int) -> float:
    """Seconds per fusion step over ``n`` inputs, the area starting from ``state`` each time (best of ``REPEAT``)."""
    places = TablePlaces()
    # each incident keeps 20 sources of evidence that report again and again (newer times)
    payloads = [evidence(k // incidents % SOURCES, k % incidents, 5 + k * 0.001) for k in range(n)]

    def fuse_all() -> None:
        area = state
        for payload in payloads:
            item = schemas.decode(EvidenceObserved, payload)
            outcome = observe(decode_area(area), item, places, POLICY, lambda inc, reason: [("bench/desk", "webhook")])
            area = encode_area(outcome.area)
            for incident in outcome.changes:
                schemas.encode(to_event(incident, "bench"))

    return best_time(fuse_all, REPEAT) / n


def plain_hop_s(n: int) -> float:
    """Seconds per plain hop (decode and re-encode) over ``n`` inputs (best of ``REPEAT``)."""
    payloads = [evidence(k, 0, k * 0.001) for k in range(n)]

    def hop_all() -> None:
        for payload in payloads:
            schemas.encode(schemas.decode(EvidenceObserved, payload))

    return best_time(hop_all, REPEAT) / n


@click.command(name="incidents", help=__doc__)
@click.option("-n", type=click.IntRange(min=1), default=2000, show_default=True, help="inputs per measurement")
def command(n: int) -> int:
    rows = Rows("incidents in the area", "state KiB", "µs per step", "evidence/s", "x plain hop",
                title="fusion step")
    with Steps(1 + len(AREA_SIZES), above=rows.live) as steps:
        steps.start(f"plain hop, {n:,} inputs")
        hop = plain_hop_s(n)
        print(f"plain hop (decode + encode one evidence event): {hop * 1e6:8.1f} µs", flush=True)
        for incidents in AREA_SIZES:
            steps.start(f"fusion step, {incidents} incidents in the area, {n:,} inputs")
            state = seeded_area(incidents)
            step = fusion_step_s(state, incidents, n)
            rows.add([f"{incidents}", f"{len(state) / 1024:.1f}", f"{step * 1e6:.1f}", f"{1 / step:.0f}",
                      f"{step / hop:.1f}"],
                     f"fusion step, {incidents:3d} incidents in the area ({len(state) / 1024:6.1f} KiB state): "
                     f"{step * 1e6:8.1f} µs = {1 / step:8.0f} evidence/s = {step / hop:5.1f} x plain hop")
    rows.show()
    return 0
