"""The hydrology decisions for a stream of gauge readings, as pure functions.

Three steps, each with the state it owns (so the stream can keep each in a
table keyed the way its work is partitioned):

- :func:`observe` — per gauge: crest detector, a thinned history of smoothed
  stages, the gauge's alert colour → a :class:`GaugeReport` and crest events
  (a crest detected, or revised: it rose higher before the recession confirmed it);
- :func:`number` — per river: the season's crest log → the crest's number (a
  revised crest keeps the number it was announced with);
- :func:`refresh` — per open crest: forecasts at the gauges downstream, their
  alerts (raise / update / cancel) → :class:`ForecastReport`.

:func:`step_river` runs all three for one reading with the river's state
(:class:`RiverState`) and the gauge's (:class:`GaugeMemory`); the stream keeps
each in a table. :func:`process` does the same over one :class:`HydroState`
for drills and tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from gis.hydro.alerts import (
    AlertAction,
    CellExposure,
    ForecastAlert,
    Thresholds,
    forecast_alert,
    reconcile,
    stage_colour,
)
from gis.hydro.config import HydroConfig
from gis.hydro.crests import (
    Crest,
    CrestEvent,
    CrestEventKind,
    CrestParams,
    CrestState,
    Point,
    Trend,
    provisional_trend,
    step,
)
from gis.hydro.forecast import GaugeForecast, forecast_changed, forecast_downstream
from gis.hydro.numbering import (
    MatchWindow,
    NumberedCrest,
    SeasonLog,
    number_crest,
    revise_crest,
)
from stream.schemas import Colour


@dataclass(frozen=True, slots=True)
class PipelineParams:
    crest: CrestParams = CrestParams(prominence=0.30, hysteresis=0.05)
    """Gauges report a smoothed stage with ~1 cm noise: a 5 cm fall announces a crest early
    (it is revised if the water then rises higher, and final once it has fallen 0.30 m)."""
    history: timedelta = timedelta(days=10)
    """How much smoothed history a gauge keeps (forecasts need the whole rise)."""
    history_step: timedelta = timedelta(minutes=30)
    """Thinning of that history (the newest point is always kept)."""
    refresh: timedelta = timedelta(hours=1)
    """Forecasts of an open crest are recomputed at most this often (event time)."""
    z: float = 2.0
    stage_tol: float = 0.05
    time_tol: timedelta = timedelta(hours=1)
    window: MatchWindow = MatchWindow()
    approach_margin_m: float = 0.5
    hysteresis_m: float = 0.1
    alert_colour: Colour = Colour.YELLOW


@dataclass(frozen=True, slots=True)
class HydroContext:
    """What every step reads and nobody changes: configuration, thresholds, exposed cells."""

    config: HydroConfig
    thresholds: Mapping[str, Thresholds]
    cells: Mapping[str, CellExposure]
    params: PipelineParams = PipelineParams()

    @classmethod
    def build(cls, config: HydroConfig, cells: Mapping[str, CellExposure],
              params: PipelineParams = PipelineParams()) -> "HydroContext":
        """Thresholds of every configured gauge, with the params' margin and hysteresis."""
        thresholds = {g: Thresholds.of(gauge, params.approach_margin_m, params.hysteresis_m)
                      for g, gauge in config.gauges.items()}
        return cls(config, thresholds, cells, params)


@dataclass(frozen=True, slots=True)
class GaugeMemory:
    detector: CrestState = CrestState()
    history: tuple[Point, ...] = ()
    colour: Colour = Colour.GREEN


@dataclass(frozen=True, slots=True)
class GaugeReport:
    gauge_id: str
    trend: Trend
    colour: Colour


@dataclass(frozen=True, slots=True)
class IssuedForecast:
    forecast_id: str
    river: str
    crest_no: int
    forecast: GaugeForecast
    colour: Colour
    alert: ForecastAlert | None


@dataclass(frozen=True, slots=True)
class OpenCrest:
    """A numbered wave whose downstream forecasts are still in force."""

    river: str
    season: int
    crest_no: int
    gauge_id: str
    """The lowest gauge where the wave's crest has been seen so far."""
    crest: Crest
    issued: Mapping[str, IssuedForecast] = field(default_factory=dict)
    """By downstream gauge id."""
    refreshed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ForecastReport:
    issued: IssuedForecast
    action: AlertAction
    cancelled: bool = False
    """True once the forecast is no longer in force (its crest arrived, or it was withdrawn)."""


def open_crest_key(river: str, season: int, crest_no: int) -> str:
    return f"{river}-{season}-{crest_no}"


def observe(
    memory: GaugeMemory, point: Point, thresholds: Thresholds, params: PipelineParams
) -> tuple[GaugeMemory, GaugeReport | None, tuple[CrestEvent, ...]]:
    """One reading at one gauge."""
    last = memory.detector.smooth[-1].time if memory.detector.smooth else None
    detector, events = step(memory.detector, point, params.crest)
    fresh = [p for p in detector.smooth if last is None or p.time > last]
    history = memory.history
    for p in fresh:
        if len(history) >= 2 and history[-1].time - history[-2].time < params.history_step:
            history = history[:-1]  # the newest point is provisional until a step after the one before
        history = history + (p,)
    if fresh:
        horizon = fresh[-1].time - params.history
        history = tuple(p for p in history if p.time >= horizon)
    report = None
    colour = memory.colour
    current = provisional_trend(detector, params.crest)
    accepted = detector.late_dropped == memory.detector.late_dropped
    if accepted and current is not None:
        colour = stage_colour(current.stage, thresholds, memory.colour)
        report = GaugeReport(thresholds.gauge_id, current, colour)
    return GaugeMemory(detector, history, colour), report, events


def number(
    log: SeasonLog | None, river: str, gauge_id: str, event: CrestEvent, config: HydroConfig, params: PipelineParams
) -> tuple[SeasonLog, NumberedCrest]:
    """A detected crest's number, or the number a revised crest was announced with."""
    crest = event.crest
    if event.kind is CrestEventKind.REVISED and event.previous is not None:
        return revise_crest(log, river, gauge_id, event.previous.time, crest.time, crest.stage, config.network,
                            params.window)
    return number_crest(log, river, gauge_id, crest.time, crest.stage, config.network, params.window)


def refresh(
    wave: OpenCrest, histories: Mapping[str, tuple[Point, ...]], ctx: HydroContext, now: datetime
) -> tuple[OpenCrest, tuple[ForecastReport, ...]]:
    """Re-issue the wave's forecasts below its lowest crest gauge; report what changed."""
    config, thresholds, cells, params = ctx.config, ctx.thresholds, ctx.cells, ctx.params
    forecasts = forecast_downstream(
        config, wave.gauge_id, wave.crest, histories.get(wave.gauge_id, ()), histories, now, z=params.z
    )
    reports: list[ForecastReport] = []
    issued: dict[str, IssuedForecast] = {}
    for fc in forecasts:
        t = thresholds[fc.gauge_id]
        alert = forecast_alert(fc, t, cells, now, params.alert_colour)
        new = IssuedForecast(
            forecast_id=f"{open_crest_key(wave.river, wave.season, wave.crest_no)}-{fc.gauge_id}",
            river=wave.river,
            crest_no=wave.crest_no,
            forecast=fc,
            colour=stage_colour(fc.stage, t),
            alert=alert,
        )
        old = wave.issued.get(fc.gauge_id)
        issued[fc.gauge_id] = new
        action = reconcile(old.alert if old else None, alert, params.stage_tol, params.time_tol)
        if old is None or action is not AlertAction.KEEP or forecast_changed(
            old.forecast, fc, params.stage_tol, params.time_tol
        ):
            reports.append(ForecastReport(new, action))
    for gauge_id, old in wave.issued.items():
        if gauge_id not in issued:  # passed, or no longer forecast: no longer in force
            action = AlertAction.CANCEL if old.alert is not None else AlertAction.KEEP
            reports.append(ForecastReport(old, action, cancelled=True))
    return replace(wave, issued=issued, refreshed_at=now), tuple(reports)


@dataclass(frozen=True, slots=True)
class NumberedReport:
    river: str
    numbered: NumberedCrest
    crest: Crest
    previous: Crest | None = None
    """For a revision: the crest as announced before (``crest.revision`` counts the revisions)."""


@dataclass(frozen=True, slots=True)
class RiverState:
    """What one river remembers: its season's crest log and its open waves."""

    river: str
    log: SeasonLog | None = None
    waves: Mapping[str, OpenCrest] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Outputs:
    gauge: GaugeReport | None = None
    crests: tuple[NumberedReport, ...] = ()
    forecasts: tuple[ForecastReport, ...] = ()


Histories = Callable[[], Mapping[str, tuple[Point, ...]]]
"""Smoothed histories of the river's gauges; called only when forecasts are due."""


def step_river(
    river: RiverState,
    memory: GaugeMemory,
    gauge_id: str,
    point: Point,
    histories: Histories,
    ctx: HydroContext,
) -> tuple[RiverState, GaugeMemory, Outputs]:
    """One reading at ``gauge_id`` (on ``river``): detect, number, forecast; ``now`` is event time."""
    config, params = ctx.config, ctx.params
    memory, report, events = observe(memory, point, ctx.thresholds[gauge_id], params)
    log, waves = river.log, dict(river.waves)
    numbered_reports: list[NumberedReport] = []
    forced: set[str] = set()
    for event in events:
        if event.kind is CrestEventKind.CONFIRMED:
            continue  # final: the crest as last announced stands
        crest = event.crest
        log, numbered = number(log, river.river, gauge_id, event, config, params)
        numbered_reports.append(NumberedReport(river.river, numbered, crest, event.previous))
        key = open_crest_key(river.river, numbered.season, numbered.crest_no)
        old = waves.get(key)
        if event.kind is CrestEventKind.REVISED and old is not None and old.gauge_id != gauge_id:
            continue  # the wave was seen further down since: forecasts go on from there
        waves[key] = OpenCrest(river.river, numbered.season, numbered.crest_no, gauge_id, crest,
                               issued=old.issued if old else {})
        forced.add(key)
    now = memory.detector.newest_time or point.time
    due = [
        key for key, wave in waves.items()
        if (key in forced or wave.refreshed_at is None or now - wave.refreshed_at >= params.refresh)
        and (gauge_id == wave.gauge_id or config.network.travel_h(wave.gauge_id, gauge_id) is not None)
    ]
    reports: list[ForecastReport] = []
    if due:
        seen = {**histories(), gauge_id: memory.history}
        for key in due:
            wave, out = refresh(waves[key], seen, ctx, now)
            reports.extend(out)
            if wave.issued or key in forced:
                waves[key] = wave
            else:
                del waves[key]  # nothing left to forecast: the wave has left the network
    outputs = Outputs(report, tuple(numbered_reports), tuple(reports))
    return RiverState(river.river, log, waves), memory, outputs


@dataclass(frozen=True, slots=True)
class HydroState:
    """All rivers and gauges in one value: for drills and tests (the stream splits it by table)."""

    gauges: Mapping[str, GaugeMemory] = field(default_factory=dict)
    rivers: Mapping[str, RiverState] = field(default_factory=dict)


def process(state: HydroState, gauge_id: str, point: Point, ctx: HydroContext) -> tuple[HydroState, Outputs]:
    """:func:`step_river` over a :class:`HydroState`."""
    config = ctx.config
    name = config.gauges[gauge_id].river
    river, memory, outputs = step_river(
        state.rivers.get(name, RiverState(name)),
        state.gauges.get(gauge_id, GaugeMemory()),
        gauge_id,
        point,
        lambda: {g: m.history for g, m in state.gauges.items() if config.gauges[g].river == name},
        ctx,
    )
    return HydroState({**state.gauges, gauge_id: memory}, {**state.rivers, name: river}), outputs
