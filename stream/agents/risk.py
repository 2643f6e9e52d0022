"""Risk agents: gauges, forecasts, rain, weather and camera findings → cell risk changes.

Topology (one hop, one scorer): small routers on ``hydro.gauges``,
``hydro.forecasts``, ``sensor.readings`` (rain readings only), ``weather.observations``
and ``vision.findings`` (fire and smoke only) forward what scoring needs to
``risk.inputs``, a one-partition topic. Whichever worker owns that partition is
the scorer: ``keep_risk_inputs`` folds each input into changelogged tables
(partitions=1, so they move with the partition and come back after a restart):

- ``risk-gauges``: gauge id → latest GaugeState; ``risk-forecasts``: forecast id →
  CrestForecast (removed when cancelled);
- ``risk-rain``: rain sensor id → :class:`~stream.riskstate.RainBuckets`;
- ``risk-stations``: station id → :class:`~stream.riskstate.StationFwi` (daily FWI carried);
- ``risk-findings``: ``<camera id>/<kind>`` → latest fire/smoke VisionFinding;
- ``risk-clock``: the newest event time heard (the scorer's ``now``).

The timer ``rescore_cells`` runs every ``gis_rescore_interval_s`` on every
worker but acts only on the owner of ``risk.inputs`` and only after new input:
it rescores the whole grid (:func:`stream.riskscore.score_grid`) and publishes a
:class:`CellRisk` on ``cells.risk`` (key: cell code) for each cell whose colour
or score moved since it was last published. What was published is kept in
memory and in ``risk-published`` (``<hazard>/<cell code>`` → [score, colour
rank]; cells back at the baseline, score 0 and green, are deleted), which a
new owner reads once, so a restart or failover does not republish the grid.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Union
from zoneinfo import ZoneInfo

import msgspec
from faust.types import TP

from gis import registry as R
from gis.errors import GisError
from gis.fire import FINDING_WEIGHT
from gis.risk import RiskScores, Thresholds
from stream import schemas, topics
from stream.errors import InvalidEvent
from stream.metrics import Outcome
from stream.riskscore import FireWeatherMemo, RiskGrid, RiskInputs, changes, published_from, score_grid
from stream.riskstate import RainBuckets, RiskInputError, StationFwi, add_rain, observe_weather
from stream.schemas import Colour, CrestForecast, GaugeState, ReadingBatch, SensorKind, VisionFinding, WeatherObservation

log = logging.getLogger(__name__)
SOURCE = "amur.risk"
RiskInput = Union[GaugeState, CrestForecast, ReadingBatch, WeatherObservation, VisionFinding]

_rain = msgspec.json.Decoder(RainBuckets)
_station = msgspec.json.Decoder(StationFwi)
_time = msgspec.json.Decoder(datetime)
_published = msgspec.json.Decoder(tuple[float, int])


def register(rt: Any) -> None:
    s = rt.settings
    data_dir = R.data_dir_for(s.gis_manifest)
    model = None
    if s.gis_manifest is not None:
        from gis.layers import grid_model, load_layer_set  # geopandas: only for a city's own layer set

        model = grid_model(load_layer_set(s.gis_manifest), [(f.kind, f.cell_code) for f in R.load_facilities(data_dir)])
    thresholds = Thresholds(s.gis_risk_blue, s.gis_risk_yellow, s.gis_risk_orange, s.gis_risk_red)
    install(rt, RiskGrid.load(data_dir, model, thresholds, s.gis_risk_min_change))


def rain_only(batch: ReadingBatch) -> ReadingBatch | None:
    """The batch's rain readings (None if it has none)."""
    rain = [r for r in batch.readings if r.kind is SensorKind.RAIN]
    return msgspec.structs.replace(batch, readings=rain) if rain else None


def scored_finding(finding: VisionFinding) -> bool:
    return finding.kind.value in FINDING_WEIGHT


def newest_time(item: RiskInput) -> datetime:
    if isinstance(item, ReadingBatch):
        return max(r.event_time for r in item.readings)
    return item.event_time


@dataclass
class Published:
    """What this worker last published per hazard (missing: read ``risk-published`` first)."""

    by_hazard: dict[schemas.Hazard, RiskScores] = field(default_factory=dict)
    dirty: bool = False


def install(rt: Any, grid: RiskGrid) -> None:
    app, settings = rt.app, rt.settings
    tz = ZoneInfo(settings.gis_fwi_timezone)
    inputs = rt.topic(topics.RISK_INPUTS)
    tables = {name: app.Table(f"risk-{name}", default=None, partitions=1, key_type=bytes, value_type=bytes)
              for name in ("gauges", "forecasts", "rain", "stations", "findings", "clock")}
    gauges, forecasts, rain, stations, findings, clock = tables.values()
    # written by the rescoring timer, outside any stream: its one changelog partition is picked by the partitioner
    last_published = app.Table("risk-published", default=None, partitions=1, use_partitioner=True,
                               key_type=bytes, value_type=bytes)
    published = Published()
    memo = FireWeatherMemo()
    owned = TP(rt.topic_name(topics.RISK_INPUTS), 0)

    async def dead_letter(spec: topics.TopicSpec, payload: bytes, exc: InvalidEvent) -> None:
        rt.metrics.count(spec.name, Outcome.DEAD_LETTERED)
        letter = schemas.DeadLetter(source=SOURCE, event_time=datetime.now(timezone.utc), topic=rt.topic_name(spec),
                                    reason=exc.reason, field=exc.field, value=exc.value,
                                    raw=payload.decode("utf-8", "replace"))
        await rt.topic(topics.DEAD_LETTER).send(key=SOURCE.encode(), value=schemas.encode(letter))

    def route(spec: topics.TopicSpec, kind: type, keep: Any) -> None:
        async def router(stream: Any) -> None:
            async for key, payload in stream.items():
                try:
                    event = schemas.decode(kind, payload)
                except InvalidEvent as exc:
                    await dead_letter(spec, payload, exc)
                    continue
                kept = keep(event)
                if kept is not None:
                    await inputs.send(key=key, value=payload if kept is event else schemas.encode(kept))

        router.__name__ = router.__qualname__ = f"route_{spec.name.replace('.', '_')}_to_risk"
        app.agent(rt.topic(spec), name=router.__name__)(router)

    route(topics.GAUGE_STATE, GaugeState, lambda e: e)
    route(topics.FORECASTS, CrestForecast, lambda e: e)
    route(topics.WEATHER, WeatherObservation, lambda e: e)
    route(topics.FINDINGS, VisionFinding, lambda e: e if scored_finding(e) else None)
    route(topics.READINGS, ReadingBatch, rain_only)

    def newer(table: Any, key: bytes, event: GaugeState | VisionFinding) -> bool:
        stored = table.get(key)
        return stored is None or schemas.decode(type(event), stored).event_time <= event.event_time

    def apply(item: RiskInput, payload: bytes) -> None:
        if isinstance(item, GaugeState):
            if newer(gauges, item.gauge_id.encode(), item):
                gauges[item.gauge_id.encode()] = payload
        elif isinstance(item, CrestForecast):
            key = item.forecast_id.encode()
            if item.cancelled:
                if forecasts.get(key) is not None:
                    del forecasts[key]
            else:
                forecasts[key] = payload
        elif isinstance(item, ReadingBatch):
            by_sensor: dict[str, list[schemas.SensorReading]] = defaultdict(list)
            for r in item.readings:
                by_sensor[r.sensor_id].append(r)
            for sensor_id, readings in by_sensor.items():
                stored = rain.get(sensor_id.encode())
                state = _rain.decode(stored) if stored else RainBuckets()
                for r in readings:
                    state = add_rain(state, r.event_time, r.value)
                rain[sensor_id.encode()] = msgspec.json.encode(state)
        elif isinstance(item, WeatherObservation):
            stored = stations.get(item.station_id.encode())
            state = _station.decode(stored) if stored else StationFwi(item.station_id)
            after = observe_weather(state, item.event_time, item.temp_c, item.rh_pct, item.wind_kmh, item.rain_mm, tz)
            if after is not state:
                stations[item.station_id.encode()] = msgspec.json.encode(after)
        elif isinstance(item, VisionFinding):
            key = f"{item.camera_id}/{item.kind.value}".encode()
            if newer(findings, key, item):
                findings[key] = payload
        t = newest_time(item)
        stored = clock.get(b"now")
        if stored is None or _time.decode(stored) < t:
            clock[b"now"] = msgspec.json.encode(t)

    @app.agent(inputs, name="keep_risk_inputs")
    async def keep_risk_inputs(stream: Any) -> None:
        async for payload in stream:
            try:
                item = schemas.decode(RiskInput, payload)  # type: ignore[arg-type]
                apply(item, payload)
            except InvalidEvent as exc:
                await dead_letter(topics.RISK_INPUTS, payload, exc)
                continue
            except (RiskInputError, GisError) as exc:  # refused by the FWI or rain rules
                await dead_letter(topics.RISK_INPUTS, payload, InvalidEvent(str(exc), field=None, value=None))
                continue
            rt.metrics.count(topics.RISK_INPUTS.name, Outcome.ACCEPTED)
            published.dirty = True

    def snapshot() -> RiskInputs:
        return RiskInputs(
            gauges={k.decode(): schemas.decode(GaugeState, v) for k, v in gauges.items()},
            forecasts=[schemas.decode(CrestForecast, v) for v in forecasts.values()],
            rain={k.decode(): _rain.decode(v) for k, v in rain.items()},
            stations={k.decode(): _station.decode(v) for k, v in stations.items()},
            findings=[schemas.decode(VisionFinding, v) for v in findings.values()],
        )

    def recall(like: RiskScores) -> RiskScores:
        """What this scorer's predecessor (or an earlier run) last published for ``like``'s hazard."""
        prefix = f"{like.hazard.value}/".encode()
        entries = ((k[len(prefix):].decode(), *_published.decode(v)) for k, v in last_published.items() if k.startswith(prefix))
        return published_from(grid, like, entries)

    @app.timer(interval=settings.gis_rescore_interval_s, name="rescore_cells")
    async def rescore_cells() -> None:
        if owned not in app.assignor.assigned_actives() or app.rebalancing:
            published.by_hazard.clear()
            published.dirty = False
            return
        stored = clock.get(b"now")
        if not published.dirty or stored is None:
            return
        published.dirty = False
        now = _time.decode(stored)
        started = time.perf_counter()
        scores = score_grid(grid, snapshot(), now=now, tz=tz, memo=memo)
        to_send = []
        for current in (scores.flood, scores.fire):
            last = published.by_hazard.get(current.hazard) or recall(current)
            cells, published.by_hazard[current.hazard] = changes(grid, last, current)
            to_send += cells
        elapsed = time.perf_counter() - started
        rt.metrics.stage_latency.labels(stage="risk_rescore").observe(elapsed)
        for cs in to_send:
            event = schemas.CellRisk(source=SOURCE, event_time=now, cell_code=cs.cell_code, hazard=cs.hazard,
                                     score=cs.score, colour=cs.colour, factors=cs.factors)
            await rt.topic(topics.CELL_RISK).send(key=cs.cell_code.encode(), value=schemas.encode(event))
            key = f"{cs.hazard.value}/{cs.cell_code}".encode()
            if cs.colour is Colour.GREEN and cs.score == 0.0:
                if last_published.get(key) is not None:
                    del last_published[key]  # back to the baseline
            else:
                last_published[key] = msgspec.json.encode((cs.score, cs.colour.rank))
        log.info("rescored cells=%d published=%d seconds=%.3f now=%s", grid.model.size, len(to_send), elapsed,
                 now.isoformat())
