"""Hydrology agents: water levels → gauge states, numbered crests, downstream forecasts.

Topology (one repartition hop): ``route_levels_to_rivers`` decodes each
:class:`WaterLevel` on ``water.levels`` (key: gauge id), dead-letters what does
not decode or names a gauge the hydrology configuration does not know, and
forwards the payload to ``hydro.rivers`` keyed by the gauge's river.
``track_rivers`` runs :func:`gis.hydro.pipeline.step_river` for each reading
and publishes :class:`GaugeState`, :class:`CrestDetected` (crests announced,
and revised: same number, ``revision`` > 0) and :class:`CrestForecast`. Its
state lives in two changelogged tables, written only from the river's partition
so a river's keys move (and come back after a restart) together:

- ``hydro-gauges``: gauge id → :class:`GaugeMemory` (crest detector with its
  reorder buffer, smoothed history, alert colour);
- ``hydro-rivers``: river → :class:`RiverState` (season's crest log, open
  waves and the forecasts issued for them).

Values are msgspec JSON of those frozen dataclasses. Camera priorities for
forecast alerts are raised by the incident agents from ``hydro.forecasts``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import msgspec

from gis.hydro.alerts import load_exposures
from gis.hydro.config import load_config
from gis.hydro.crests import Point
from gis.hydro.numbering import SeasonLog
from gis.hydro.pipeline import (
    ForecastReport,
    GaugeMemory,
    GaugeReport,
    HydroContext,
    NumberedReport,
    Outputs,
    RiverState,
    step_river,
)
from stream import schemas, topics
from stream.agents.deadletter import send_dead_letter
from stream.agents.outbox import Outgoing, publish_acknowledged
from stream.errors import InvalidEvent

log = logging.getLogger(__name__)
SOURCE = "amur.hydro"

_gauge_decoder = msgspec.json.Decoder(GaugeMemory)
_river_decoder = msgspec.json.Decoder(RiverState)


def register(rt: Any) -> None:
    install(rt, HydroContext.build(load_config(), load_exposures()))


def install(rt: Any, ctx: HydroContext, seasons: Mapping[str, SeasonLog] | None = None) -> None:
    """Define the hydrology agents and tables on ``rt.app``.

    ``seasons`` seeds a river's crest log (crests numbered by hand before Amur ran).
    """
    app, settings = rt.app, rt.settings
    levels, rivers = rt.topic(topics.WATER_LEVELS), rt.topic(topics.HYDRO_RIVERS)
    gauge_state_topic, crests_topic = rt.topic(topics.GAUGE_STATE), rt.topic(topics.CRESTS)
    forecasts_topic = rt.topic(topics.FORECASTS)
    gauge_table = app.Table("hydro-gauges", default=None, partitions=settings.partitions,
                            key_type=bytes, value_type=bytes, help="gauge id -> GaugeMemory (msgspec JSON)")
    river_table = app.Table("hydro-rivers", default=None, partitions=settings.partitions,
                            key_type=bytes, value_type=bytes, help="river -> RiverState (msgspec JSON)")
    config = ctx.config
    on_river = {r: [g for g, x in config.gauges.items() if x.river == r] for r in {x.river for x in config.gauges.values()}}
    seeds = dict(seasons or {})

    async def dead_letter(payload: bytes, exc: InvalidEvent) -> None:
        await send_dead_letter(rt, topics.WATER_LEVELS, payload, exc, SOURCE)

    @app.agent(levels, name="route_levels_to_rivers")
    async def route_levels_to_rivers(stream: Any) -> None:
        async for payload in stream:
            try:
                level = schemas.decode(schemas.WaterLevel, payload)
                gauge = config.gauges.get(level.gauge_id)
                if gauge is None:
                    raise InvalidEvent(f"gauge {level.gauge_id!r} is not in the hydrology configuration",
                                       field="gauge_id", value=level.gauge_id)
            except InvalidEvent as exc:
                await dead_letter(payload, exc)
                continue
            await rivers.send(key=gauge.river.encode(), value=payload)

    @app.agent(rivers, name="track_rivers")
    async def track_rivers(stream: Any) -> None:
        async for payload in stream:
            level = schemas.decode(schemas.WaterLevel, payload)
            gauge_id, river = level.gauge_id, config.gauges[level.gauge_id].river
            stored = gauge_table.get(gauge_id.encode())
            memory = _gauge_decoder.decode(stored) if stored else GaugeMemory()
            stored = river_table.get(river.encode())
            state = _river_decoder.decode(stored) if stored else RiverState(river, seeds.get(river))

            def histories() -> dict[str, tuple[Point, ...]]:
                found = {}
                for other in on_river[river]:
                    raw = gauge_table.get(other.encode())
                    if raw:
                        found[other] = _gauge_decoder.decode(raw).history
                return found

            new_state, memory, out = step_river(state, memory, gauge_id, Point(level.event_time, level.stage_m),
                                                histories, ctx)
            await publish_acknowledged(outgoing(gauge_id, out))  # before the tables record it: see outbox
            gauge_table[gauge_id.encode()] = msgspec.json.encode(memory)
            if new_state != state:
                river_table[river.encode()] = msgspec.json.encode(new_state)

    def outgoing(gauge_id: str, out: Outputs) -> list[Outgoing]:
        messages = []
        if out.gauge is not None:
            messages.append(Outgoing(gauge_state_topic, gauge_id.encode(), schemas.encode(gauge_state(out.gauge))))
        for crest in out.crests:
            event = crest_detected(crest)
            log.info("crest river=%s crest_no=%s gauge_id=%s stage_m=%.2f revision=%s", event.river, event.crest_no,
                     event.gauge_id, event.stage_m, event.revision)
            messages.append(Outgoing(crests_topic, event.gauge_id.encode(), schemas.encode(event)))
        for report in out.forecasts:
            event = crest_forecast(report)
            messages.append(Outgoing(forecasts_topic, event.gauge_id.encode(), schemas.encode(event)))
        return messages


# --------------------------------------------------------------------------- wire events


def gauge_state(report: GaugeReport) -> schemas.GaugeState:
    return schemas.GaugeState(source=SOURCE, event_time=report.trend.time, gauge_id=report.gauge_id,
                              stage_m=report.trend.stage, trend=report.trend.state,
                              rate_m_per_h=report.trend.rate_per_h, colour=report.colour)


def crest_detected(report: NumberedReport) -> schemas.CrestDetected:
    """A crest announced, or revised (same number, ``revision`` > 0, the time and stage it replaces)."""
    crest, previous = report.crest, report.previous
    return schemas.CrestDetected(source=SOURCE, event_time=crest.confirmed_at, gauge_id=report.numbered.gauge_id,
                                 river=report.river, crest_no=report.numbered.crest_no, crest_time=crest.time,
                                 stage_m=crest.stage, prominence_m=crest.prominence, rise_start=crest.rise_start,
                                 revision=crest.revision,
                                 previous_crest_time=previous.time if previous else None,
                                 previous_stage_m=previous.stage if previous else None)


def crest_forecast(report: ForecastReport) -> schemas.CrestForecast:
    issued, fc = report.issued, report.issued.forecast
    return schemas.CrestForecast(
        source=SOURCE, event_time=fc.issued_at, forecast_id=issued.forecast_id, gauge_id=fc.gauge_id,
        river=issued.river, crest_no=issued.crest_no, from_gauge_id=fc.from_gauge_id, issued_at=fc.issued_at,
        arrival_time=fc.arrival, arrival_low=fc.arrival_low, arrival_high=fc.arrival_high, stage_m=fc.stage,
        stage_low_m=fc.stage_low, stage_high_m=fc.stage_high, colour=issued.colour,
        affected_cells=list(issued.alert.cells) if issued.alert else [], cancelled=report.cancelled,
    )
