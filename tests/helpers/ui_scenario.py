"""A flood-season afternoon on the bundled Heihe sample, as wire events for the command view.

Used by the browser tests and the screenshot: every event goes through the real
projection (``stream.screens.projection.project`` + ``RedisProjector``), thumbnails are
rendered by the camera-fleet simulator's renderer. Deterministic for a seed.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

import cv2
import redis.asyncio as aioredis

from gis.registry import Camera, Gauge, load_cameras, load_cells, load_gauges
from stream import schemas
from stream.agents.projection import RedisProjector
from stream.ingest.registry import load_registry
from stream.screens.projection import Keys, project
from tests.helpers.dispatch_scenario import morning
from vision.fleet.camera import fleet_camera
from vision.fleet.events import EventKind, ScriptedEvent
from vision.fleet.render import FrameRenderer

CITY_BBOX = (124.3, 47.3, 129.6, 51.9)
SOURCE = "scenario"


def _in_city(lon: float, lat: float) -> bool:
    return CITY_BBOX[0] <= lon <= CITY_BBOX[2] and CITY_BBOX[1] <= lat <= CITY_BBOX[3]


def _colour(margin: float) -> schemas.Colour:
    """Colour from how far the stage is above (positive) a cell's inundation stage."""
    for limit, colour in ((1.0, schemas.Colour.RED), (0.5, schemas.Colour.ORANGE), (0.0, schemas.Colour.YELLOW),
                          (-0.4, schemas.Colour.BLUE)):
        if margin >= limit:
            return colour
    return schemas.Colour.GREEN


def _stage(gauge: Gauge, hours: float) -> float:
    """A small earlier wave (crest No. 4, 30 h ago) on the rise of the big one."""
    peak_stage = gauge.warning_m * (1.05 if gauge.river == "heilongjiang" else 0.8)
    rise = (peak_stage - gauge.warning_m + 1.6) / (1 + math.exp(-(hours - 30) / 5))
    return gauge.warning_m - 1.6 + rise + 0.6 * math.exp(-(((hours - CREST_4_HOURS) / 3) ** 2))


CREST_4_HOURS = 18.0  # hours into the 48 h series


def gauge_events(now: datetime) -> list[schemas.Event]:
    """48 h of stage per in-city gauge (a flood wave on the main stem), a crest upstream, a forecast at Heihe."""
    events: list[schemas.Event] = []
    for gauge in load_gauges():
        if not _in_city(gauge.lon, gauge.lat):
            continue
        for step in range(97):
            at = now - timedelta(minutes=30 * (96 - step))
            stage = _stage(gauge, step / 2)
            colour = (schemas.Colour.ORANGE if stage >= gauge.guaranteed_m else
                      schemas.Colour.YELLOW if stage >= gauge.warning_m else
                      schemas.Colour.BLUE if stage >= gauge.warning_m - 0.3 else schemas.Colour.GREEN)
            events.append(schemas.GaugeState(source=SOURCE, event_time=at, gauge_id=gauge.gauge_id,
                                             stage_m=round(stage, 3), trend=schemas.TrendState.RISING,
                                             rate_m_per_h=0.05, colour=colour))
    heihe = next(g for g in load_gauges() if g.gauge_id == "hlj-heihe")
    crest_time = now - timedelta(hours=48 - CREST_4_HOURS)
    events.append(schemas.CrestDetected(
        source=SOURCE, event_time=crest_time + timedelta(hours=3), gauge_id="hlj-heihe", river="heilongjiang",
        crest_no=4, crest_time=crest_time, stage_m=round(_stage(heihe, CREST_4_HOURS), 2), prominence_m=0.6,
        rise_start=crest_time - timedelta(hours=8)))
    events.append(schemas.CrestForecast(
        source=SOURCE, event_time=now, forecast_id="fc-heihe-5", gauge_id="hlj-heihe", river="heilongjiang",
        crest_no=5, from_gauge_id="hlj-dawujiazi", issued_at=now, arrival_time=now + timedelta(hours=14),
        arrival_low=now + timedelta(hours=11), arrival_high=now + timedelta(hours=17),
        stage_m=round(heihe.guaranteed_m + 0.2, 2), stage_low_m=round(heihe.guaranteed_m - 0.2, 2),
        stage_high_m=round(heihe.guaranteed_m + 0.55, 2), colour=schemas.Colour.ORANGE))
    return events


def cell_events(now: datetime, seed: int) -> list[schemas.Event]:
    """Flood risk of riverside cells against the forecast stage; fire danger of forest cells."""
    rng = random.Random(seed)
    stages = {g.gauge_id: g.guaranteed_m + 0.2 for g in load_gauges()}
    events: list[schemas.Event] = []
    for cell in load_cells():
        if cell.gauge_id and cell.inundation_stage_m is not None:
            margin = stages.get(cell.gauge_id, 0.0) - cell.inundation_stage_m - 1.2
            events.append(schemas.CellRisk(source=SOURCE, event_time=now, cell_code=cell.cell_code,
                                           hazard=schemas.Hazard.FLOOD, score=max(0.0, margin + 1),
                                           colour=_colour(margin)))
        if cell.forest_frac > 0.4:
            fwi = rng.gammavariate(2.0, 4.0) * (1.3 if cell.county_code in ("231123", "231124") else 0.6)
            colour = (schemas.Colour.RED if fwi >= 38 else schemas.Colour.ORANGE if fwi >= 21.3 else
                      schemas.Colour.YELLOW if fwi >= 11.2 else schemas.Colour.BLUE if fwi >= 5.2 else
                      schemas.Colour.GREEN)
            events.append(schemas.CellRisk(source=SOURCE, event_time=now, cell_code=cell.cell_code,
                                           hazard=schemas.Hazard.FIRE, score=round(fwi, 1), colour=colour))
    return events


def nearest_cameras(lon: float, lat: float, cameras: list[Camera], n: int) -> list[Camera]:
    return sorted(cameras, key=lambda c: (c.lon - lon) ** 2 + ((c.lat - lat) * 1.5) ** 2)[:n]


FAULTS = ((schemas.FindingKind.FROZEN, 2), (schemas.FindingKind.OFFLINE, 3), (schemas.FindingKind.COVERED, 5))


def camera_events(now: datetime, cameras: list[Camera], faulty: dict[str, schemas.FindingKind]) -> list[schemas.Event]:
    events: list[schemas.Event] = []
    for camera in cameras:
        fault = faulty.get(camera.camera_id)
        status = schemas.DecodeStatus.OFFLINE if fault is schemas.FindingKind.OFFLINE else schemas.DecodeStatus.OK
        events.append(schemas.FrameSample(source=SOURCE, event_time=now, camera_id=camera.camera_id, status=status))
        if fault is not None:
            events.append(schemas.VisionFinding(source=SOURCE, event_time=now, camera_id=camera.camera_id,
                                                kind=fault, score=0.95, confirmed=True))
    return events


def source_events(now: datetime, stale: int) -> list[schemas.Event]:
    events: list[schemas.Event] = []
    for index, source in enumerate(sorted(load_registry().sources.values(), key=lambda s: s.source_id)):
        state = schemas.SourceState.STALE if index % 17 == 3 and stale > 0 else schemas.SourceState.LIVE
        stale -= state is schemas.SourceState.STALE
        events.append(schemas.SourceHealth(source=SOURCE, event_time=now, source_id=source.source_id, state=state,
                                           last_seen=now - timedelta(seconds=source.cadence_s), cadence_s=source.cadence_s))
    return events


EVIDENCE = {  # evidence ids as stream.incidents.evidence builds them
    schemas.Hazard.FLOOD: [("gauge:{gauge}", "gauge"), ("forecast:heilongjiang:5:{gauge}", "crest_forecast")],
    schemas.Hazard.FIRE: [("camera:{camera}:smoke", "vision_smoke")],
    schemas.Hazard.PUBLIC_SAFETY: [("report:gr-{n}", "grid_report")],
}


def incident(now: datetime, incident_id: str, hazard: schemas.Hazard, colour: schemas.Colour, state: schemas.IncidentState,
             title: str, cell: str, cameras: list[str], evidence: int, age_min: float, gauge: str = "hlj-heihe",
             **extra: object) -> schemas.IncidentChanged:
    cell_record = next(c for c in load_cells() if c.cell_code == cell)
    raised = now - timedelta(minutes=age_min)
    ids = [(i.format(camera=cameras[0], n=n, gauge=gauge), k) for n, (i, k) in enumerate(EVIDENCE.get(hazard, []))]
    ids += [(f"risk:{cell[:-3]}{n:03d}:{hazard.value}", "cell_risk") for n in range(evidence - len(ids))]
    refs = [schemas.EvidenceRef(evidence_id=evidence_id, kind=kind, source=SOURCE, hazard=hazard,
                                event_time=raised + timedelta(minutes=i), colour=colour, cell_code=cell, cells=[cell])
            for i, (evidence_id, kind) in enumerate(ids[:evidence])]
    path = ["231100", cell[:6], cell[:9], cell[:12], cell]
    return schemas.IncidentChanged(
        source=SOURCE, event_time=now, incident_id=incident_id, hazard=hazard, colour=colour, state=state, title=title,
        cells=[cell], grid_path=path, evidence=refs, cameras=cameras, raised_at=raised, lon=cell_record.lon,
        lat=cell_record.lat, **extra)


def pick_cell(county: str, *, river: bool = False, forest: bool = False) -> str:
    for cell in load_cells():
        if cell.county_code != county:
            continue
        if not river and not forest:
            return cell.cell_code
        if river and cell.gauge_id and cell.river == "heilongjiang":
            return cell.cell_code
        if forest and cell.forest_frac > 0.7:
            return cell.cell_code
    raise LookupError(f"no cell in {county} (river={river}, forest={forest})")


def incidents(now: datetime, cameras: list[Camera], faulty: list[str]) -> list[schemas.IncidentChanged]:
    by_code = {c.cell_code: c for c in load_cells()}
    plan = [
        ("231102-flood-5c1e07", schemas.Hazard.FLOOD, schemas.Colour.RED, schemas.IncidentState.RAISED,
         "黑龙江黑河段第5号洪峰将超保证水位", pick_cell("231102", river=True), 6, 38),
        ("231123-fire-9a04b2", schemas.Hazard.FIRE, schemas.Colour.ORANGE, schemas.IncidentState.ACKNOWLEDGED,
         "逊克林区烟火告警", pick_cell("231123", forest=True), 4, 95),
        ("231124-flood-31d8aa", schemas.Hazard.FLOOD, schemas.Colour.YELLOW, schemas.IncidentState.ASSIGNED,
         "卧牛河水位超警戒", pick_cell("231124", river=True), 3, 160),
        ("231181-public_safety-77c0e3", schemas.Hazard.PUBLIC_SAFETY, schemas.Colour.BLUE, schemas.IncidentState.RAISED,
         "网格员上报：道路积水", pick_cell("231181"), 1, 12),
    ]
    found = []
    for incident_id, hazard, colour, state, title, cell, evidence, age in plan:
        record = by_code[cell]
        linked = [c.camera_id for c in nearest_cameras(record.lon, record.lat, cameras, 6)]
        extra: dict[str, object] = {"assignee": "water-affairs"} if state is schemas.IncidentState.ASSIGNED else {}
        if incident_id.startswith("231124"):
            extra["gauge"] = "hlj-sunwu"
        found.append(incident(now, incident_id, hazard, colour, state, title, cell, linked, evidence, age, **extra))
    # the red flood incident also watches two faulty cameras: the wall must show their faults
    first = found[0]
    found[0] = schemas.IncidentChanged(**{**{f: getattr(first, f) for f in first.__struct_fields__},
                                          "cameras": [*first.cameras[:7], *faulty[:2]]})
    return found


async def load_scenario(client: aioredis.Redis, keys: Keys, now: datetime, seed: int = 7,
                        thumbnail_ttl_s: int = 600) -> list[schemas.IncidentChanged]:
    """Project the scenario into Redis; return its incidents."""
    projector = RedisProjector(client, keys, 50000, 2000)
    cameras = load_cameras()
    in_city = [c for c in cameras if _in_city(c.lon, c.lat)]
    found_incidents_cameras = incidents(now, in_city, [])
    linked = {c for inc in found_incidents_cameras for c in inc.cameras}
    rng = random.Random(seed)
    fault_pool = [c.camera_id for c in in_city if c.camera_id not in linked]
    faulty: dict[str, schemas.FindingKind] = {}
    for kind, count in FAULTS:
        for camera_id in rng.sample(fault_pool, count * 8):
            faulty.setdefault(camera_id, kind)
    fault_ids = sorted(faulty)
    the_incidents = incidents(now, in_city, [fault_ids[0], fault_ids[3]])
    events: list[schemas.Event] = [*gauge_events(now), *cell_events(now, seed), *camera_events(now, cameras, faulty),
                                   *source_events(now, stale=3), *the_incidents, *morning(now).changes]
    for start in range(0, len(events), 2000):
        await projector.apply(project(e, keys) for e in events[start:start + 2000])
    await store_thumbnails(client, keys, now, the_incidents, cameras, faulty, seed, thumbnail_ttl_s)
    return the_incidents


async def store_thumbnails(client: aioredis.Redis, keys: Keys, now: datetime, the_incidents: list[schemas.IncidentChanged],
                           cameras: list[Camera], faulty: dict[str, schemas.FindingKind], seed: int, ttl_s: int) -> None:
    """The sampler's job in the running system: the latest JPEG of each linked camera, with a TTL."""
    renderer = FrameRenderer(seed=seed)
    by_id = {c.camera_id: c for c in cameras}
    for inc in the_incidents:
        kind = {schemas.Hazard.FLOOD: EventKind.WATER_RISE, schemas.Hazard.FIRE: EventKind.SMOKE}.get(inc.hazard)
        for camera_id in inc.cameras:
            camera = by_id[camera_id]
            fleet = fleet_camera(camera.camera_id, camera.scene, camera.lon, camera.lat, camera.cell_code, seed=seed)
            events = ()
            if kind is not None:
                events = (ScriptedEvent(f"{inc.incident_id}-{kind}", kind, frozenset({camera_id}),
                                        now - timedelta(hours=1), None, 0.9),)
            frame = renderer.render(fleet, now.replace(hour=4), events)  # 04:00 UTC = noon in Heihe
            small = cv2.resize(frame, (480, 270), interpolation=cv2.INTER_AREA)
            ok, jpeg = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 80])
            await client.set(keys.thumbnail(camera_id), jpeg.tobytes(), ex=ttl_s)
