"""The hydrology decisions for a stream of gauge readings, as pure functions.

Three steps, each with the state it owns (so the stream can keep each in a
table keyed the way its work is partitioned):

- :func:`observe` — per gauge: crest detector, a thinned history of smoothed
  stages, the gauge's alert colour → a :class:`GaugeReport` and new crests;
- :func:`number` — per river: the season's crest log → the crest's number;
- :func:`refresh` — per open crest: forecasts at the gauges downstream, their
  alerts (raise / update / cancel) → :class:`ForecastReport`.

:func:`process` runs all three for one reading over a :class:`HydroState`;
drills and tests replay whole scenarios with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from gis.hydro.alerts import AlertAction, CellExposure, ForecastAlert, Thresholds, forecast_alert, reconcile, stage_colour
from gis.hydro.config import HydroConfig
from gis.hydro.crests import Crest, CrestParams, CrestState, Point, Trend, step, trend
from gis.hydro.forecast import GaugeForecast, forecast_changed, forecast_downstream
from gis.hydro.numbering import MatchWindow, NumberedCrest, SeasonLog, number_crest, season_of
from stream.schemas import Colour


@dataclass(frozen=True, slots=True)
class PipelineParams:
    crest: CrestParams = CrestParams(prominence=0.30, hysteresis=0.05)
    """Gauges report a smoothed stage with ~1 cm noise: a 5 cm fall confirms a crest sooner."""
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
) -> tuple[GaugeMemory, GaugeReport | None, tuple[Crest, ...]]:
    """One reading at one gauge."""
    last = memory.detector.smooth[-1].time if memory.detector.smooth else None
    detector, crests = step(memory.detector, point, params.crest)
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
    current = trend(detector, params.crest)
    if fresh and current is not None:
        colour = stage_colour(current.stage, thresholds, memory.colour)
        report = GaugeReport(thresholds.gauge_id, current, colour)
    return GaugeMemory(detector, history, colour), report, crests


def number(
    log: SeasonLog | None, river: str, gauge_id: str, crest: Crest, config: HydroConfig, params: PipelineParams
) -> tuple[SeasonLog, NumberedCrest]:
    return number_crest(log, river, gauge_id, crest.time, crest.stage, config.network, params.window)


def refresh(
    wave: OpenCrest,
    histories: Mapping[str, tuple[Point, ...]],
    config: HydroConfig,
    thresholds: Mapping[str, Thresholds],
    cells: Mapping[str, CellExposure],
    now: datetime,
    params: PipelineParams,
    force: bool = False,
) -> tuple[OpenCrest, tuple[ForecastReport, ...]]:
    """Re-issue the wave's forecasts below its lowest crest gauge; report what changed."""
    if not force and wave.refreshed_at is not None and now - wave.refreshed_at < params.refresh:
        return wave, ()
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


@dataclass(frozen=True, slots=True)
class HydroState:
    gauges: Mapping[str, GaugeMemory] = field(default_factory=dict)
    seasons: Mapping[str, SeasonLog] = field(default_factory=dict)
    waves: Mapping[str, OpenCrest] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Outputs:
    gauge: GaugeReport | None = None
    crests: tuple[NumberedReport, ...] = ()
    forecasts: tuple[ForecastReport, ...] = ()


def process(
    state: HydroState,
    gauge_id: str,
    point: Point,
    config: HydroConfig,
    thresholds: Mapping[str, Thresholds],
    cells: Mapping[str, CellExposure],
    params: PipelineParams,
) -> tuple[HydroState, Outputs]:
    """One reading through detection, numbering and forecasting; ``now`` is its event time."""
    river = config.gauges[gauge_id].river
    memory, report, crests = observe(state.gauges.get(gauge_id, GaugeMemory()), point, thresholds[gauge_id], params)
    gauges = {**state.gauges, gauge_id: memory}
    seasons, waves = dict(state.seasons), dict(state.waves)
    numbered_reports: list[NumberedReport] = []
    forced: set[str] = set()
    for crest in crests:
        log, numbered = number(seasons.get(river), river, gauge_id, crest, config, params)
        seasons[river] = log
        numbered_reports.append(NumberedReport(river, numbered, crest))
        key = open_crest_key(river, season_of(crest.time), numbered.crest_no)
        old = waves.get(key)
        waves[key] = OpenCrest(river, season_of(crest.time), numbered.crest_no, gauge_id, crest,
                               issued=old.issued if old else {})
        forced.add(key)
    histories = {g: m.history for g, m in gauges.items()}
    now = memory.detector.newest_time or point.time
    reports: list[ForecastReport] = []
    for key, wave in list(waves.items()):
        if wave.river != river:
            continue
        below = gauge_id == wave.gauge_id or config.network.travel_h(wave.gauge_id, gauge_id) is not None
        if not below:
            continue
        wave, out = refresh(wave, histories, config, thresholds, cells, now, params, force=key in forced)
        reports.extend(out)
        if wave.issued or key in forced:
            waves[key] = wave
        else:
            del waves[key]
    return HydroState(gauges, seasons, waves), Outputs(report, tuple(numbered_reports), tuple(reports))
