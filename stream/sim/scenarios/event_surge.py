"""Scenario ``event-surge``: hundreds of grid reports in minutes, many of them about one flooded street.

A summer cloudburst over Heihe city (Aihui district). In the first
:data:`SURGE` minutes the Open311 front door takes:

- :data:`STREET_REPORTS` reports of a waterlogged street (城市内涝积水,
  ``waterlogging``) from the cells of one street in one urban village, worded
  differently by different citizens: the fusion must make them **one** flood
  incident;
- one waterlogging report from the other end of the city (the urban cell
  furthest from the street): a **second**, separate flood incident;
- two smoke reports (不明烟雾, ``smoke_report``) in two other counties (Xunke,
  Bei'an): two fire incidents;
- :data:`NOISE_REPORTS` everyday reports (street lights, vending, piled snow,
  street furniture ...) across the city: dispatched, never an incident.

Everything is seeded data from the layer set and the responsibility list (the
same item, department and hazard the front door gives each report). The
ground truth (:func:`ground_truth`) expects the four incidents, each in its
cells, raised within :data:`RAISE_WITHIN` of its first report in event time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from gis import registry as R
from stream.schemas import GridEvent, Hazard
from stream.sim.hooks import TimedGridEvents
from stream.sim.scenarios.truth import Expected, GroundTruth

NAME = "event-surge"
SOURCE = "open311"
"""What the front door stamps on a report (stream.ingest.http.open311.SOURCE)."""
COUNTY = "231102"
SURGE = timedelta(minutes=5)
STREET_CELLS = 3
STREET_REPORTS = 40
NOISE_REPORTS = 300
RAISE_WITHIN = timedelta(minutes=5)
"""How long after its first report an incident may be raised and still count as on time."""
FIRE_COUNTIES = ("231123", "231181")
STREET_TEXTS = ("西兴路积水没过脚踝，车过不去", "路口积水很深，井盖冒水", "西兴路一片汪洋，商铺进水了",
                "Street flooded ankle-deep, cars stuck", "积水越来越深，行人蹚水过街")
NOISE_CODES = ("street_light_out", "street_vending", "snow_piles", "street_furniture")
NOISE_TEXTS = {"street_light_out": "路灯不亮", "street_vending": "占道经营", "snow_piles": "清雪堆雪占道",
               "street_furniture": "护栏损坏"}


@dataclass(frozen=True)
class Plan:
    street: tuple[str, ...]
    """The flooded street's cells (one urban village)."""
    far_cell: str
    fire_cells: tuple[str, ...]
    events: tuple[GridEvent, ...]


def plan(start: datetime, seed: int = 7, data_dir: Path | None = None) -> Plan:
    """The surge from ``start``: where, and every report (in event-time order)."""
    if start.tzinfo is None:
        raise ValueError(f"start must be time-zone aware, got {start!r}")
    from stream.dispatch.catalogue import services
    from stream.dispatch.responsibility import load_list

    rng = np.random.default_rng([seed, 0x5E6E])
    cells = R.load_cells(data_dir)
    urban = sorted((c for c in cells if c.urban and c.county_code == COUNTY), key=lambda c: c.cell_code)
    villages = sorted({c.village_code for c in urban if sum(u.village_code == c.village_code for u in urban) >= 10})
    village = villages[int(rng.integers(0, len(villages)))]
    street = [c for c in urban if c.village_code == village][:STREET_CELLS]
    centre = (np.mean([c.lon for c in street]), np.mean([c.lat for c in street]))
    far = max(urban, key=lambda c: (c.lon - centre[0]) ** 2 + (c.lat - centre[1]) ** 2)
    fires = [sorted((c for c in cells if c.county_code == county), key=lambda c: c.cell_code)
             for county in FIRE_COUNTIES]
    fire_cells = [of[int(rng.integers(0, len(of)))] for of in fires]
    catalogue = services(load_list(counties=sorted({c.county_code for c in cells})))
    stamp = f"{start:%Y%m%dT%H%M%S}"

    def report(n: int, at: timedelta, code: str, cell: R.CellRecord, text: str) -> GridEvent:
        service = catalogue[code]
        return GridEvent(source=SOURCE, event_time=start + at, report_id=f"surge-{stamp}-{n:04d}", service_code=code,
                         description=text, lon=cell.lon, lat=cell.lat, cell_code=cell.cell_code,
                         department=service.item.departments[cell.county_code], item_code=service.item.code,
                         hazard=service.hazard or Hazard.OTHER)

    def moment() -> timedelta:
        return timedelta(seconds=round(float(rng.uniform(10, SURGE.total_seconds())), 1))

    events = [report(n, timedelta(seconds=20) if n == 0 else moment(), "waterlogging", street[n % len(street)],
                     STREET_TEXTS[int(rng.integers(0, len(STREET_TEXTS)))]) for n in range(STREET_REPORTS)]
    events.append(report(len(events), timedelta(minutes=2), "waterlogging", far, "小区门口积水，进不了楼"))
    events += [report(len(events) + i, timedelta(minutes=3 + i), "smoke_report", cell, "山坡上冒烟，不知道哪来的")
               for i, cell in enumerate(fire_cells)]
    for _ in range(NOISE_REPORTS):
        code = NOISE_CODES[int(rng.integers(0, len(NOISE_CODES)))]
        events.append(report(len(events), moment(), code, urban[int(rng.integers(0, len(urban)))], NOISE_TEXTS[code]))
    events.sort(key=lambda e: (e.event_time, e.report_id))
    return Plan(tuple(c.cell_code for c in street), far.cell_code, tuple(c.cell_code for c in fire_cells),
                tuple(events))


def ground_truth(start: datetime, seed: int = 7, data_dir: Path | None = None) -> GroundTruth:
    p = plan(start, seed, data_dir)

    def first(cells: tuple[str, ...]) -> datetime:
        return min(e.event_time for e in p.events if e.cell_code in cells)

    expected = (
        Expected("flooded-street", Hazard.FLOOD, COUNTY, first(p.street) + RAISE_WITHIN,
                 f"Waterlogged street, {STREET_REPORTS} reports (one incident)", cells=p.street),
        Expected("flooded-yard", Hazard.FLOOD, COUNTY, first((p.far_cell,)) + RAISE_WITHIN,
                 "Waterlogging at the other end of the city (a separate incident)", cells=(p.far_cell,)),
        *(Expected(f"smoke-{cell[:6]}", Hazard.FIRE, cell[:6], first((cell,)) + RAISE_WITHIN,
                   f"Smoke reported in county {cell[:6]}", cells=(cell,)) for cell in p.fire_cells),
    )
    return GroundTruth(NAME, start, seed, expected, frozenset({Hazard.FLOOD, Hazard.FIRE}))


def scenario(start: datetime, seed: int) -> TimedGridEvents:
    """Plays the reports on the drill's virtual clock (`amur drill --scenario event-surge`)."""
    played = TimedGridEvents(list(plan(start, seed).events))
    played.name = NAME
    return played
