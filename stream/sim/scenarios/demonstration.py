"""Scenario ``demonstration``: what `amur run` shows a newcomer in its first minutes, on the live clock.

``start`` is the moment the feeds go live (right after the backfilled history):

- **A flash flood on the Gongbiela** at Xigangzi (公别拉河西岗子, gauge
  ``gbl-xigangzi``, warning 3.7 m, guaranteed 4.6 m). The small tributary has
  been rising for the last 12 hours of the history, still clear of its warning
  stage; from ``start`` its gauge reports every 30 s (加报, as gauges do in a fast
  rise) and the water climbs: the approach of the warning stage 30 s in, the
  warning stage 60 s in, the guaranteed stage 4 min in, a crest 0.25 m above it
  6 min in; it falls back below the warning stage 16 min in and to its base
  within 2 hours (so the flood risk of the cells it floods clears too), the
  gauge back to a reading every 15 min after 30 min
  (in the history: every 15 min over the last 12 hours, every 30 min before).
- **Smoke in the forest**: from 20 s to 20 min in, a forestry camera of Aihui
  district (a seeded choice) sees a plume: a scripted event of the simulated
  fleet. The analysis confirms the plume in 3 of 5 samples (at night it may not see it).
- **A citizen's report**: 90 s in, someone reports smoke through Open311
  (``smoke_report``) at the centre of the cell that camera sees most of.

Everything here is pure: :func:`plan` lays out the timeline from the layer set,
:class:`DemonstrationScenario` plays the gauge in the feed simulator, and
:mod:`stream.sim.demo` makes the two HTTP calls. ``readings(start, seed)`` gives
the gauge's levels from 48 hours before ``start`` (``--scenario demonstration``
and drills play only the gauge).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from gis import registry as R
from stream.schemas import WaterLevel
from stream.sim.hooks import GAUGE_SOURCE, Scenario

NAME = "demonstration"
GAUGE = "gbl-xigangzi"
CAMERA_COUNTY = "231102"
"""Aihui district, around Heihe city."""
SERVICE_CODE = "smoke_report"
REPORT_TEXT = "林边冒烟，味道很重（演示）/ Smoke at the forest edge, strong smell (demonstration)"
HISTORY = timedelta(hours=48)
FAST_CADENCE = timedelta(seconds=30)
SLOW_CADENCE = timedelta(minutes=15)
FAST_UNTIL = timedelta(minutes=30)
SPARSE_UNTIL, SPARSE_CADENCE = -timedelta(hours=12), timedelta(minutes=30)
SMOKE_FROM, SMOKE_UNTIL = timedelta(seconds=20), timedelta(minutes=20)
REPORT_AT = timedelta(seconds=90)
CALLS_AT = (timedelta(seconds=45), timedelta(seconds=75))
"""When the two 110 calls come in: a cold flat in the city (routed to the heating company) and a call no
keyword matches (it waits in the dispatcher queue)."""
CITY_CENTRE = (127.4990, 50.2450)
"""Heihe city, where the cold flat is (lon, lat)."""
NOISE_M = 0.005


def stage_knots(warning_m: float, guaranteed_m: float) -> tuple[tuple[float, float], ...]:
    """(seconds from start, stage) of the flood wave; linear in between, the base outside."""
    base = warning_m - 2.0  # low enough that no cell the river floods is at risk
    hour = 3600.0
    return ((-12 * hour, base), (0.0, warning_m - 0.6), (30.0, warning_m - 0.3), (60.0, warning_m + 0.05),
            (240.0, guaranteed_m + 0.02), (360.0, guaranteed_m + 0.25), (540.0, guaranteed_m - 0.05),
            (960.0, warning_m - 0.05), (1500.0, warning_m - 0.6), (hour, warning_m - 1.5), (2 * hour, base))


@dataclass(frozen=True)
class GaugeWave:
    gauge_id: str
    knots: tuple[tuple[float, float], ...]

    def stage(self, seconds: float) -> float:
        """The noise-free stage ``seconds`` after start."""
        times, stages = zip(*self.knots)
        return float(np.interp(seconds, times, stages))


@dataclass(frozen=True)
class Smoke:
    camera_id: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Report:
    """An Open311 service request, as the GeoReport v2 POST fields say it."""

    at: datetime
    service_code: str
    lon: float
    lat: float
    description: str


@dataclass(frozen=True)
class Call110:
    """A call of the 110 non-emergency feed, as its JSON says it (docs/dispatch.md)."""

    at: datetime
    call_id: str
    category: str
    text: str
    lon: float | None = None
    lat: float | None = None
    address: str | None = None

    def body(self) -> dict[str, object]:
        located = {"lon": self.lon, "lat": self.lat} if self.lon is not None else {}
        return {"call_id": self.call_id, "time": self.at.isoformat(), "category": self.category, "text": self.text,
                **located, **({"address": self.address} if self.address else {})}


@dataclass(frozen=True)
class Demonstration:
    start: datetime
    seed: int
    wave: GaugeWave
    smoke: Smoke
    report: Report
    calls: tuple[Call110, ...] = ()

    def report_times(self, after: datetime, until: datetime) -> Iterator[datetime]:
        """When the gauge reports in ``(after, until]``: every 30 s for the first 30 min, else every 15 min
        (every 30 min until 12 hours before the start: the history the simulator backfills)."""
        fast, slow = FAST_UNTIL // FAST_CADENCE, SLOW_CADENCE // FAST_CADENCE
        sparse = (SPARSE_UNTIL // FAST_CADENCE, SPARSE_CADENCE // FAST_CADENCE)
        j, last = (after - self.start) // FAST_CADENCE + 1, (until - self.start) // FAST_CADENCE
        while j <= last:
            step = sparse[1] if j < sparse[0] else slow
            if 0 <= j <= fast or j % step == 0:
                yield self.start + j * FAST_CADENCE
                j += 1
            else:
                j += -j % step  # on to the next report

    def levels(self, after: datetime, until: datetime) -> list[WaterLevel]:
        """The gauge's readings in ``(after, until]``, with 5 mm of seeded noise."""
        out = []
        for t in self.report_times(after, until):
            rng = np.random.default_rng([self.seed, 0xDE30, int(t.timestamp())])
            stage = self.wave.stage((t - self.start).total_seconds()) + rng.normal(0.0, NOISE_M)
            out.append(WaterLevel(source=GAUGE_SOURCE, event_time=t, gauge_id=self.wave.gauge_id,
                                  stage_m=round(stage, 3)))
        return out


def plan(start: datetime, seed: int = 7, data_dir: Path | None = None) -> Demonstration:
    """The demonstration starting at ``start``: its gauge wave, camera and report, from the layer set."""
    if start.tzinfo is None:
        raise ValueError(f"start must be time-zone aware, got {start!r}")
    gauge = next((g for g in R.load_gauges(data_dir) if g.gauge_id == GAUGE), None)
    if gauge is None:
        raise ValueError(f"the layer set has no gauge {GAUGE!r} for the demonstration")
    coverage = R.CameraCoverage.load(data_dir)
    forest = sorted((c for c in R.load_cameras(data_dir) if c.department == "forestry" and c.scene == "forest"
                     and c.county_code == CAMERA_COUNTY and coverage.cells_seen_by(c.camera_id)),
                    key=lambda c: c.camera_id)
    if not forest:
        raise ValueError(f"the layer set has no forestry camera in county {CAMERA_COUNTY} for the demonstration")
    camera = forest[int(np.random.default_rng([seed, 0xDE30]).integers(0, len(forest)))]
    seen = coverage.cells_seen_by(camera.camera_id)[0].cell_code
    cells = R.load_cells(data_dir)
    cell = next(c for c in cells if c.cell_code == seen)
    return Demonstration(
        start=start, seed=seed, wave=GaugeWave(gauge.gauge_id, stage_knots(gauge.warning_m, gauge.guaranteed_m)),
        smoke=Smoke(camera.camera_id, start + SMOKE_FROM, start + SMOKE_UNTIL),
        report=Report(start + REPORT_AT, SERVICE_CODE, cell.lon, cell.lat, REPORT_TEXT),
        calls=calls_110(start, cells))


def calls_110(start: datetime, cells: list[R.CellRecord]) -> tuple[Call110, ...]:
    """The two 110 calls: a cold flat at the city cell nearest the centre, and one no keyword maps, known only by
    its district; call ids carry the start, so a restarted demonstration does not repeat them."""
    city = min((c for c in cells if c.cell_code.startswith(CAMERA_COUNTY)),
               key=lambda c: (c.lon - CITY_CENTRE[0]) ** 2 + (c.lat - CITY_CENTRE[1]) ** 2)
    stamp = f"{start:%Y%m%dT%H%M%S}"
    return (Call110(start + CALLS_AT[0], f"demo-{stamp}-1", "暖气不热",
                    "家里暖气不热，室温只有十二度（演示）/ The flat is 12 °C, the heating is not warm (demonstration)",
                    lon=city.lon, lat=city.lat),
            Call110(start + CALLS_AT[1], f"demo-{stamp}-2", "其他",
                    "邻居家的鹦鹉一早就叫个不停，想问问谁能管（演示）/ A neighbour's parrot squawks from dawn, who can "
                    "help (demonstration)", address="黑龙江省黑河市爱辉区"))


class DemonstrationScenario(Scenario):
    """Plays the demonstration's gauge in the feed simulator, from ``since`` on; the regular feed leaves it alone."""

    name = NAME

    def __init__(self, demonstration: Demonstration, since: datetime) -> None:
        self.demonstration = demonstration
        self._after = since

    def water_levels(self, until: datetime) -> list[WaterLevel]:
        if until <= self._after:
            return []
        due = self.demonstration.levels(self._after, until)
        self._after = until
        return due

    def silences(self, gauge_id: str) -> bool:
        return gauge_id == self.demonstration.wave.gauge_id


def scenario(start: datetime, seed: int) -> DemonstrationScenario:
    """The gauge part, for ``--scenario demonstration`` (history from 48 hours before ``start``)."""
    return DemonstrationScenario(plan(start, seed), start - HISTORY)


def readings(start: datetime, seed: int = 7) -> Iterator[WaterLevel]:
    """The gauge's readings from 48 hours before ``start`` to 12 hours after, in time order."""
    yield from plan(start, seed).levels(start - HISTORY, start + timedelta(hours=12))
