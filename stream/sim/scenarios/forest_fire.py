"""Scenario ``forest-fire``: a dry, hot, windy spell over the Xunke forests; smoke, a citizen's call, a wind shift.

Xunke county (逊克县, the most forested county of the sample) has days of high
fire weather around the fire: from ``start`` the :data:`HOT_STATIONS` weather
stations of the county nearest the burning cell report :data:`HOT` (hot, dry,
windy, no rain) around the clock, so the first noon observation gives a high
Fire Weather Index and the forest cells around them reach orange or red fire
risk. Every other station keeps its ordinary weather.

- **Smoke** rises at :data:`SMOKE_FROM` in a forest cell seen by two forestry
  cameras of the county: the first camera sees it from then, the second from
  :data:`SECOND_CAMERA_FROM`, when the plume has grown (:func:`fleet_events`
  are the simulated fleet's ``POST /control/events`` bodies, rendered by the
  fleet's smoke renderer).
- **A citizen reports it** through Open311 (森林火情, ``forest_fire_report``)
  at :data:`REPORT_AT`, from the centre of that cell.
- **The wind shifts** at :data:`WIND_SHIFT_AT`: the front passing swings it
  round and it rises to :data:`SHIFTED` km/h (the wire format carries no wind
  direction, so what the pipeline sees of the shift is its speed).

Played by a drill today: the weather and the citizen's report. The two
cameras need the drill to sample camera frames (it turns the sampler off), so
the plume is not yet part of a drill and not yet in the ground truth.

Ground truth (:func:`ground_truth`): a fire incident in Xunke with cell-risk
evidence (the fire weather) by the hour after the first noon observation, and
one touching the reported cell within :data:`RAISE_WITHIN` of the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec
import numpy as np

from gis import registry as R
from stream.schemas import GridEvent, Hazard, WeatherObservation
from stream.sim.hooks import TimedGridEvents
from stream.sim.scenarios.truth import Expected, GroundTruth

NAME = "forest-fire"
COUNTY = "231123"
"""Xunke county."""
LOCAL = ZoneInfo("Asia/Shanghai")
HOT_STATIONS = 3
HOT = (31.0, 16.0, 30.0)
"""Temperature (°C), relative humidity (%) and wind (km/h) at the county's stations."""
SHIFTED = 45.0
SMOKE_FROM = timedelta(minutes=15)
SECOND_CAMERA_FROM = timedelta(minutes=35)
REPORT_AT = timedelta(minutes=25)
WIND_SHIFT_AT = timedelta(minutes=35)
SMOKE_UNTIL = timedelta(hours=4)
RAISE_WITHIN = timedelta(minutes=5)
FIRE_WEATHER_BY = timedelta(hours=1)
"""After the first local noon: the FWI day needs a noon observation, then the risk is rescored."""
REPORT_TEXT = "山上冒烟了，火不小，风往村子这边刮（演练）/ Smoke on the hill, a big fire, wind towards the village (drill)"


@dataclass(frozen=True)
class Plan:
    start: datetime
    cell: str
    """The forest cell that burns."""
    cameras: tuple[str, str]
    """The forestry camera that sees the smoke first, then the second."""
    stations: frozenset[tuple[float, float]]
    """(lon, lat) of the county's weather stations that report the fire weather."""
    report: GridEvent


def plan(start: datetime, seed: int = 7, data_dir: Path | None = None) -> Plan:
    if start.tzinfo is None:
        raise ValueError(f"start must be time-zone aware, got {start!r}")
    from stream.dispatch.catalogue import services
    from stream.dispatch.responsibility import load_list

    coverage = R.CameraCoverage.load(data_dir)
    forestry = {c.camera_id for c in R.load_cameras(data_dir)
                if c.department == "forestry" and c.scene == "forest" and c.county_code == COUNTY}
    every_cell = R.load_cells(data_dir)
    cells = {c.cell_code: c for c in every_cell if c.county_code == COUNTY and c.forest_frac >= 0.5}
    seen_twice = sorted(code for code in cells
                        if sum(v.camera_id in forestry for v in coverage.cameras_seeing(code)) >= 2)
    if not seen_twice:
        raise ValueError(f"the layer set has no forest cell of county {COUNTY} seen by two forestry cameras")
    cell = cells[seen_twice[int(np.random.default_rng([seed, 0xF0F1]).integers(0, len(seen_twice)))]]
    first, second = [v.camera_id for v in coverage.cameras_seeing(cell.cell_code) if v.camera_id in forestry][:2]
    service = services(load_list(counties=sorted({c.county_code for c in every_cell})))[
        "forest_fire_report"]
    report = GridEvent(source="open311", event_time=start + REPORT_AT, report_id=f"fire-{start:%Y%m%dT%H%M%S}-1",
                       service_code=service.service_code, description=REPORT_TEXT, lon=cell.lon, lat=cell.lat,
                       cell_code=cell.cell_code, department=service.item.departments[COUNTY],
                       item_code=service.item.code, hazard=service.hazard or Hazard.OTHER)
    county = [s for s in R.load_stations(data_dir) if s.county_code == COUNTY]
    nearest = sorted(county, key=lambda s: ((s.lon - cell.lon) ** 2 + (s.lat - cell.lat) ** 2, s.station_id))
    stations = frozenset((s.lon, s.lat) for s in nearest[:HOT_STATIONS])
    return Plan(start, cell.cell_code, (first, second), stations, report)


def fleet_events(p: Plan) -> list[dict[str, object]]:
    """The simulated fleet's ``POST /control/events`` bodies: the smoke on the first camera, then on both."""
    return [{"kind": "smoke", "camera_ids": [p.cameras[0]], "start": (p.start + SMOKE_FROM).isoformat(),
             "end": (p.start + SMOKE_UNTIL).isoformat(), "intensity": 0.8},
            {"kind": "smoke", "camera_ids": [p.cameras[1]], "start": (p.start + SECOND_CAMERA_FROM).isoformat(),
             "end": (p.start + SMOKE_UNTIL).isoformat(), "intensity": 1.0}]


def first_noon_after(start: datetime) -> datetime:
    local = start.astimezone(LOCAL)
    noon = local.replace(hour=12, minute=0, second=0, microsecond=0)
    return noon if noon >= local else noon + timedelta(days=1)


def ground_truth(start: datetime, seed: int = 7, data_dir: Path | None = None) -> GroundTruth:
    p = plan(start, seed, data_dir)
    return GroundTruth(NAME, start, seed, (
        Expected("fire-weather", Hazard.FIRE, COUNTY, first_noon_after(start) + FIRE_WEATHER_BY,
                 "High fire weather over the Xunke forests (FWI)", evidence="cell_risk"),
        Expected("reported-fire", Hazard.FIRE, COUNTY, p.report.event_time + RAISE_WITHIN,
                 "The fire a citizen reported (Open311)", cells=(p.cell,)),
    ), frozenset({Hazard.FIRE}))


class ForestFire(TimedGridEvents):
    """The scenario in the feed simulator: the county's stations report fire weather; the report comes in."""

    name = NAME

    def __init__(self, p: Plan) -> None:
        super().__init__([p.report])
        self.plan = p

    def adjust_weather(self, obs: WeatherObservation, lon: float, lat: float) -> WeatherObservation:
        if (lon, lat) not in self.plan.stations:
            return obs
        temp, rh, wind = HOT
        if obs.event_time >= self.plan.start + WIND_SHIFT_AT:
            wind = SHIFTED
        return msgspec.structs.replace(obs, temp_c=temp, rh_pct=rh, wind_kmh=wind, rain_mm=0.0)


def scenario(start: datetime, seed: int) -> ForestFire:
    return ForestFire(plan(start, seed))
