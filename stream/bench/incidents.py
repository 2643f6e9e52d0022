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

import argparse
import time
from datetime import datetime, timedelta, timezone

from stream import schemas
from stream.incidents.fusion import observe
from stream.incidents.places import TablePlaces
from stream.incidents.state import Area, Policy, decode_area, encode_area, to_event
from stream.schemas import Colour, EvidenceObserved, EvidenceRef, Hazard

T0 = datetime(2026, 7, 12, tzinfo=timezone.utc)
POLICY = Policy()
SOURCES = 20


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


def fusion_steps(state: bytes, incidents: int, n: int) -> float:
    places = TablePlaces()
    # each incident keeps 20 sources of evidence that report again and again (newer times)
    payloads = [evidence(k // incidents % SOURCES, k % incidents, 5 + k * 0.001) for k in range(n)]
    started = time.perf_counter()
    for payload in payloads:
        item = schemas.decode(EvidenceObserved, payload)
        outcome = observe(decode_area(state), item, places, POLICY, lambda inc, reason: [("bench/desk", "webhook")])
        state = encode_area(outcome.area)
        for incident in outcome.changes:
            schemas.encode(to_event(incident, "bench"))
    return (time.perf_counter() - started) / n


def plain_hops(n: int) -> float:
    payloads = [evidence(k, 0, k * 0.001) for k in range(n)]
    started = time.perf_counter()
    for payload in payloads:
        schemas.encode(schemas.decode(EvidenceObserved, payload))
    return (time.perf_counter() - started) / n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="amur bench incidents", description=__doc__)
    parser.add_argument("-n", type=int, default=2000, help="inputs per measurement")
    args = parser.parse_args(argv)
    hop = min(plain_hops(args.n) for _ in range(3))
    print(f"plain hop (decode + encode one evidence event): {hop * 1e6:8.1f} µs")
    for incidents in (1, 10, 100):
        state = seeded_area(incidents)
        step = min(fusion_steps(state, incidents, args.n) for _ in range(3))
        print(f"fusion step, {incidents:3d} incidents in the area ({len(state) / 1024:6.1f} KiB state): "
              f"{step * 1e6:8.1f} µs = {1 / step:8.0f} evidence/s = {step / hop:5.1f} x plain hop")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
