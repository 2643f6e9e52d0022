"""Risk agents: gauges, forecasts, rain, weather and camera findings → cell risk changes.

Topology (one hop, one scorer): small routers on ``hydro.gauges``,
``hydro.forecasts``, ``sensor.readings`` (rain readings only), ``weather.observations``
and ``vision.findings`` (fire and smoke only) forward what scoring needs to
``risk.inputs``, a one-partition topic. Whichever worker owns that partition is
the scorer: ``keep_risk_inputs`` folds each input into changelogged tables
(partitions=1, so they move with the partition and come back after a restart):

- ``risk-gauges``: gauge id → latest GaugeState; ``risk-forecasts``: forecast id →
  CrestForecast (removed when cancelled);
- ``risk-rain``: rain sensor id → :class:`~stream.risk.state.RainBuckets`;
- ``risk-stations``: station id → :class:`~stream.risk.state.StationFwi` (daily FWI carried);
- ``risk-findings``: ``<camera id>/<kind>`` → latest fire/smoke VisionFinding;
- ``risk-clock``: the newest event time heard (the scorer's ``now``)

(what each input writes: :func:`stream.risk.inputs.fold_input`).

The timer ``rescore_cells`` runs every ``gis_rescore_interval_s`` on every
worker but acts only on the owner of ``risk.inputs`` and only after new input:
it rescores the whole grid (:func:`stream.risk.score.score_grid`) and publishes a
:class:`CellRisk` on ``cells.risk`` (key: cell code) for each cell whose colour
or score moved since it was last published. What was published is kept in
memory and in ``risk-published`` (``<hazard>/<cell code>`` → [score, colour
rank]; cells back at the baseline, score 0 and green, are deleted), which a
new owner reads once, so a restart or failover does not republish the grid.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from faust.types import TP

from gis import registry as R
from gis.errors import GisError
from gis.fire import FINDING_WEIGHT
from gis.risk import RiskScores, Thresholds
from stream import schemas, topics
from stream.agents.deadletter import send_dead_letter
from stream.agents.outbox import Outgoing, publish_acknowledged
from stream.errors import InvalidEvent
from stream.ingest.outcome import Outcome
from stream.risk.inputs import InputTables, RiskInput, clock, fold_input, snapshot
from stream.risk.score import (
    FireWeatherMemo,
    RiskGrid,
    changes,
    published_from,
    score_grid,
)
from stream.risk.state import RiskInputError
from stream.schemas import (
    Colour,
    CrestForecast,
    GaugeState,
    ReadingBatch,
    SensorKind,
    VisionFinding,
    WeatherObservation,
)

log = logging.getLogger(__name__)
SOURCE = "amur.risk"

_published = msgspec.json.Decoder(tuple[float, int])


def register(rt: Any) -> None:
    s = rt.settings
    data_dir = R.data_dir_for(s.gis_manifest)
    model = None
    if s.gis_manifest is not None:
        from gis.layers import (  # geopandas: only for a city's own layer set
            grid_model,
            load_layer_set,
        )

        model = grid_model(load_layer_set(s.gis_manifest), [(f.kind, f.cell_code) for f in R.load_facilities(data_dir)])
    thresholds = Thresholds(s.gis_risk_blue, s.gis_risk_yellow, s.gis_risk_orange, s.gis_risk_red)
    install(rt, RiskGrid.load(data_dir, model, thresholds, s.gis_risk_min_change))


def rain_only(batch: ReadingBatch) -> ReadingBatch | None:
    """The batch's rain readings (None if it has none)."""
    rain = [r for r in batch.readings if r.kind is SensorKind.RAIN]
    return msgspec.structs.replace(batch, readings=rain) if rain else None


def scored_finding(finding: VisionFinding) -> bool:
    return finding.kind.value in FINDING_WEIGHT


@dataclass
class Published:
    """What this worker last published per hazard (missing: read ``risk-published`` first)."""

    by_hazard: dict[schemas.Hazard, RiskScores] = field(default_factory=dict)
    dirty: bool = False


def install(rt: Any, grid: RiskGrid) -> None:
    app, settings = rt.app, rt.settings
    tz = ZoneInfo(settings.gis_fwi_timezone)
    inputs = rt.topic(topics.RISK_INPUTS)
    stored = InputTables(*(app.Table(f"risk-{name}", default=None, partitions=1, key_type=bytes, value_type=bytes)
                           for name in ("gauges", "forecasts", "rain", "stations", "findings", "clock")))
    # written by the rescoring timer, outside any stream: its one changelog partition is picked by the partitioner
    last_published = app.Table("risk-published", default=None, partitions=1, use_partitioner=True,
                               key_type=bytes, value_type=bytes)
    published = Published()
    memo = FireWeatherMemo()
    owned = TP(rt.topic_name(topics.RISK_INPUTS), 0)

    async def dead_letter(spec: topics.TopicSpec, payload: bytes, exc: InvalidEvent) -> None:
        await send_dead_letter(rt, spec, payload, exc, SOURCE)

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

    @app.agent(inputs, name="keep_risk_inputs")
    async def keep_risk_inputs(stream: Any) -> None:
        async for payload in stream:
            try:
                item = schemas.decode(RiskInput, payload)  # type: ignore[arg-type]
                fold_input(stored, item, payload, tz)
            except InvalidEvent as exc:
                await dead_letter(topics.RISK_INPUTS, payload, exc)
                continue
            except (RiskInputError, GisError) as exc:  # refused by the FWI or rain rules
                await dead_letter(topics.RISK_INPUTS, payload, InvalidEvent(str(exc), field=None, value=None))
                continue
            rt.metrics.count(topics.RISK_INPUTS.name, Outcome.ACCEPTED)
            published.dirty = True

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
        now = clock(stored)
        if not published.dirty or now is None:
            return
        published.dirty = False
        started = time.perf_counter()
        scores = score_grid(grid, snapshot(stored), now=now, tz=tz, memo=memo)
        to_send = []
        for current in (scores.flood, scores.fire):
            last = published.by_hazard.get(current.hazard) or recall(current)
            cells, published.by_hazard[current.hazard] = changes(grid, last, current)
            to_send += cells
        elapsed = time.perf_counter() - started
        rt.metrics.stage_latency.labels(stage="risk_rescore").observe(elapsed)
        cell_risk = rt.topic(topics.CELL_RISK)
        await publish_acknowledged(
            Outgoing(cell_risk, cs.cell_code.encode(), schemas.encode(schemas.CellRisk(
                source=SOURCE, event_time=now, cell_code=cs.cell_code, hazard=cs.hazard, score=cs.score,
                colour=cs.colour, factors=cs.factors, gauge_id=cs.gauge_id)))
            for cs in to_send)  # before the table records them as published: see outbox
        for cs in to_send:
            key = f"{cs.hazard.value}/{cs.cell_code}".encode()
            if cs.colour is Colour.GREEN and cs.score == 0.0:
                if last_published.get(key) is not None:
                    del last_published[key]  # back to the baseline
            else:
                last_published[key] = msgspec.json.encode((cs.score, cs.colour.rank))
        log.info("rescored cells=%d published=%d seconds=%.3f now=%s", grid.model.size, len(to_send), elapsed,
                 now.isoformat())
