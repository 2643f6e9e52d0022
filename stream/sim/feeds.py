"""`amur sim feeds`: the department feeds of the bundled Heihe sample, on a virtual clock.

Every 10 simulated seconds each of the sample's sensors (smoke, temperature,
rain, water level) reads; every minute each weather station observes; each river
gauge reports every 5–15 minutes (its own seeded period). Values follow a
diurnal cycle (local time UTC+8) with noise, and carry the faults real feeds
have: gaps (a reading missing), spikes (valid but extreme) and occasional bad
values (sentinels, unknown units, out of range, unknown ids, future times) that
validation must send to the dead-letter topic. Same seed and start → same
stream. Readings travel as ReadingBatch messages of up to 1,000 readings,
weather observations and gauge levels one per message, on the raw-ingest topic
keyed by source id (``--out`` writes the same messages as ``key<TAB>payload``
lines, the recording format of ``amur drill --replay``). A run of finite
``--duration`` shows the simulated time reached on a terminal (stderr).

The feed ``indicators`` adds one series per generated category of the source
registry (:mod:`stream.sim.indicators`). A live run (started now, producing to
Kafka, outside a drill) first sends ``AMUR_SIM_BACKFILL_H`` hours of history
(:meth:`FeedSimulator.history`); ``--demo`` plays `amur run`'s demonstration
(:mod:`stream.sim.scenarios.demonstration`, :mod:`stream.sim.demo`). How one run
goes is :mod:`stream.sim.session`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click
import msgspec
import numpy as np

from stream.cli.params import ZonedTime
from stream.ingest.inventory import Inventory, Site, load_inventory
from stream.ingest.registry import Registry, load_registry
from stream.schemas import (
    ReadingBatch,
    SensorKind,
    SensorReading,
    WaterLevel,
    WeatherObservation,
    encode,
)
from stream.sim.hooks import GAUGE_SOURCE, Scenario, load_scenario
from stream.sim.indicators import IndicatorFeed

log = logging.getLogger(__name__)

STEP_S = 10
WEATHER_EVERY = 6  # steps: one observation per minute
BATCH_SIZE = 1000
HISTORY_STEP_S = 3 * 3600
"""A backfill step: every rain sensor, station and regular gauge once (rain summed over the step); enough for
rain windows, a daily FWI (an observation after noon) and a two-day hydrograph."""
HISTORY_OTHER_EVERY = 4
"""Backfill steps between two readings of the sensors whose history nothing keeps (smoke, temperature, level)."""
RAIN_MM_PER_H = 0.216
"""Mean rain per rain sensor and per station (about 5 mm a day, a wet summer on the Heilongjiang)."""
LOCAL_UTC_OFFSET_H = 8
SENSOR_UNITS: dict[SensorKind, str] = {SensorKind.SMOKE: "%obs/m", SensorKind.TEMPERATURE: "degC",
                                      SensorKind.RAIN: "mm", SensorKind.WATER_LEVEL: "m"}
SENSOR_SOURCES: dict[SensorKind, str] = {
    SensorKind.SMOKE: "forestry.smoke-sensors",
    SensorKind.TEMPERATURE: "meteorology.temperature-sensors",
    SensorKind.RAIN: "meteorology.rain-sensors",
    SensorKind.WATER_LEVEL: "water-affairs.water-level-sensors",
}
"""The registered source of each kind's sensors; OWNER_SOURCES overrides by running department."""
OWNER_SOURCES: dict[tuple[SensorKind, str], str] = {
    (SensorKind.SMOKE, "city_management"): "urban-management.smoke-sensors",
}
WEATHER_SOURCE = "meteorology.weather-stations"
BAD_KINDS = ("sentinel", "unit", "range", "unknown_id", "future")


@dataclass(frozen=True, slots=True)
class VirtualClock:
    """Simulated time = start + speed x wall time elapsed."""

    start: datetime
    speed: float

    def at(self, wall_elapsed_s: float) -> datetime:
        return self.start + timedelta(seconds=wall_elapsed_s * self.speed)

    def wall_elapsed(self, at: datetime) -> float:
        return (at - self.start).total_seconds() / self.speed


@dataclass(frozen=True, slots=True)
class FaultRates:
    """Per-reading probabilities of a gap, a spike and a bad value."""

    gap: float = 0.002
    spike: float = 0.0005
    bad: float = 0.0002


@dataclass
class Step:
    """What one simulated step sends: (key, payload) messages and what they hold."""

    at: datetime
    messages: list[tuple[str, bytes]] = field(default_factory=list)
    readings: int = 0
    weather: int = 0
    levels: int = 0
    indicators: int = 0
    """Readings of the generated registry categories (:mod:`stream.sim.indicators`)."""
    bad: int = 0
    """Items made invalid on purpose (each must be dead-lettered)."""
    grid: list[tuple[str, bytes]] = field(default_factory=list)
    """The scenario's grid events (keyed by cell code), for the grid-events topic, not raw ingest."""
    grid_events: int = 0

    def add(self, other: "Step") -> None:
        self.readings += other.readings
        self.weather += other.weather
        self.levels += other.levels
        self.indicators += other.indicators
        self.bad += other.bad
        self.grid_events += other.grid_events


@dataclass(frozen=True)
class _FeedSites:
    """The sensors of one kind that one registered source sends."""

    kind: SensorKind
    source: str
    ids: list[str]
    lonlat: np.ndarray
    offset: np.ndarray


def diurnal(at: datetime, peak_local_h: float = 15.0) -> float:
    """cos-shaped daily cycle in [-1, 1], 1 at ``peak_local_h`` local time."""
    local_h = (at.hour + LOCAL_UTC_OFFSET_H + at.minute / 60 + at.second / 3600) % 24
    return math.cos(2 * math.pi * (local_h - peak_local_h) / 24)


def rain_chance(window_s: float, per_s: float, cap: float = 0.25) -> tuple[float, float]:
    """(chance of rain in a window, mean mm when it rains) giving :data:`RAIN_MM_PER_H` on average."""
    chance = min(cap, per_s * window_s)
    return chance, RAIN_MM_PER_H * window_s / 3600.0 / chance


class FeedSimulator:
    """Deterministic feeds: ``step(k)`` is the same for the same inventory, seed, start and k.

    ``registry`` adds a series for each generated sample category of the registry
    (:mod:`stream.sim.indicators`); :meth:`history` gives the hours before ``start``.
    """

    def __init__(self, inventory: Inventory, seed: int, start: datetime, scenario: Scenario | None = None,
                 faults: FaultRates = FaultRates(), registry: Registry | None = None) -> None:
        self.seed, self.start, self.faults = seed, start, faults
        self.scenario = scenario or Scenario()
        fixed = np.random.default_rng([seed, 0xFEED])
        sensors = inventory.sites.get("sensors", ())
        self.feeds: list[_FeedSites] = []
        for kind, default_source in SENSOR_SOURCES.items():
            of_kind = [s for s in sensors if s.kind is kind]
            for source in dict.fromkeys(OWNER_SOURCES.get((kind, s.owner or ""), default_source) for s in of_kind):
                sites = [s for s in of_kind if OWNER_SOURCES.get((kind, s.owner or ""), default_source) == source]
                self.feeds.append(_FeedSites(kind, source, [s.site_id for s in sites],
                                             np.array([(s.lon, s.lat) for s in sites], dtype=float).reshape(-1, 2),
                                             fixed.normal(0.0, 1.0, len(sites))))
        self.stations: tuple[Site, ...] = tuple(inventory.sites.get("stations", ()))
        self.station_offset = fixed.normal(0.0, 1.0, len(self.stations))
        self.gauges: tuple[Site, ...] = tuple(inventory.sites.get("gauges", ()))
        self.gauge_period = fixed.integers(30, 91, len(self.gauges)) * STEP_S  # 5-15 min
        self.gauge_phase = fixed.integers(0, 90, len(self.gauges)) * STEP_S
        self.gauge_wave = fixed.uniform(0, 2 * math.pi, len(self.gauges))
        self.indicators = IndicatorFeed.of(registry, seed) if registry is not None else None

    def step(self, k: int) -> Step:
        at = self.start + timedelta(seconds=k * STEP_S)
        rng = np.random.default_rng([self.seed, k])
        out = Step(at)
        for feed in self.feeds:
            self._sensors(feed, at, STEP_S, rng, self.faults, out)
        if k % WEATHER_EVERY == 0 and self.stations:
            self._weather(at, STEP_S * WEATHER_EVERY, rng, self.faults, out)
        self._gauges(at - timedelta(seconds=STEP_S), at, self.faults, out)
        if self.indicators is not None:
            which = self.indicators.due(at - timedelta(seconds=STEP_S), at, first=k == 0)
            readings = self.indicators.readings(which, at, diurnal(at), rng)
            out.indicators += len(readings)
            out.messages += [(r.source, encode(r)) for r in readings]
        events = self.scenario.grid_events(at)
        out.grid += [(e.cell_code or e.source, encode(e)) for e in events]
        out.grid_events += len(events)
        return out

    def history(self, hours: float, every_s: int = HISTORY_STEP_S) -> Iterator[Step]:
        """The ``hours`` before ``start``, oldest first, summarised: a step every ``every_s`` (the last ends one
        live step before ``start``) with every rain sensor, station and regular gauge once (rain summed over the
        step), the other sensors every :data:`HISTORY_OTHER_EVERY` steps, and every level the scenario has in
        it. Weather and levels travel as JSON arrays, sensor readings in a last step grouped by sensor; gaps, no
        spikes or bad values."""
        faults = FaultRates(gap=self.faults.gap, spike=0.0, bad=0.0)
        end = self.start - timedelta(seconds=STEP_S)
        before = self.start - timedelta(hours=hours)
        held: dict[str, list[SensorReading]] = {}
        n = 0
        while before < end:
            at = min(before + timedelta(seconds=every_s), end)
            window = (at - before).total_seconds()
            rng = np.random.default_rng([self.seed, 0x4157, n])
            out = Step(at)
            for feed in self.feeds:
                if feed.kind is SensorKind.RAIN or n % HISTORY_OTHER_EVERY == 0 or at == end:
                    self._sensors(feed, at, window, rng, faults, out, held)
            if self.stations:
                self._weather(at, window, rng, faults, out, one_by_one=False)
            self._gauges(before, at, faults, out, one_by_one=False, once=True, first=n == 0, final=at == end)
            yield out
            before, n = at, n + 1
        # each sensor's readings together, oldest first: the rain scorer keeps one table entry per sensor and
        # writes it once per batch, so two days of a sensor cost one write, not sixteen
        last = Step(end)
        for source, readings in held.items():
            _batches(last, source, end, sorted(readings, key=lambda r: r.sensor_id))
        yield last

    def _sensors(self, sites: _FeedSites, at: datetime, window_s: float, rng: np.random.Generator,
                 faults: FaultRates, out: Step, held: dict[str, list[SensorReading]] | None = None) -> None:
        """The sensors' readings at ``at`` (rain: fallen in the ``window_s`` before), as batches in ``out``, or
        kept in ``held`` by source to be sent later."""
        kind, source, unit = sites.kind, sites.source, SENSOR_UNITS[sites.kind]
        n = len(sites.ids)
        if n == 0:
            return
        d = diurnal(at)
        if kind is SensorKind.TEMPERATURE:
            values = 18.0 + 8.0 * d + 3.0 * sites.offset + rng.normal(0, 0.3, n)
        elif kind is SensorKind.SMOKE:
            values = 0.05 + np.abs(rng.normal(0, 0.02, n))
        elif kind is SensorKind.RAIN:  # mm since the previous reading
            chance, mean = rain_chance(window_s, per_s=0.0002)
            values = np.where(rng.random(n) < chance, rng.gamma(1.5, mean / 1.5, n), 0.0)
        else:
            values = 0.8 + 0.3 * sites.offset + 0.05 * d + rng.normal(0, 0.005, n)
        values = self.scenario.adjust_sensors(kind, sites.lonlat, values, at)
        spike_size = {SensorKind.TEMPERATURE: 12.0, SensorKind.SMOKE: 4.0, SensorKind.RAIN: 5.0}.get(kind, 0.6)
        values = np.where(rng.random(n) < faults.spike, values + spike_size, values)
        values = np.clip(np.round(values, 3), 0.0 if kind is not SensorKind.TEMPERATURE else -55.0, None)
        present = rng.random(n) >= faults.gap
        bad = rng.random(n) < faults.bad
        bad_kind = rng.integers(0, len(BAD_KINDS), n)
        readings = []
        for i in np.flatnonzero(present):
            reading = SensorReading(source=source, event_time=at, sensor_id=sites.ids[i], kind=kind,
                                    value=float(values[i]), unit=unit)
            if bad[i]:
                reading = _spoil(reading, BAD_KINDS[bad_kind[i]])
                out.bad += 1
            readings.append(reading)
        out.readings += len(readings)
        if held is not None:
            held.setdefault(source, []).extend(readings)
            return
        _batches(out, source, at, readings)

    def _weather(self, at: datetime, window_s: float, rng: np.random.Generator, faults: FaultRates, out: Step,
                 one_by_one: bool = True) -> None:
        n, d = len(self.stations), diurnal(at)
        temp = 18.0 + 8.0 * d + 2.0 * self.station_offset + rng.normal(0, 0.2, n)
        rh = np.clip(65.0 - 20.0 * d + rng.normal(0, 3, n), 5, 100)
        wind = np.abs(8.0 + 4.0 * d + rng.normal(0, 3, n))
        chance, mean = rain_chance(window_s, per_s=0.0005)
        rain = np.where(rng.random(n) < chance, rng.gamma(1.2, mean / 1.2, n), 0.0)
        present = rng.random(n) >= faults.gap
        bad = rng.random(n) < faults.bad * 10
        observations = []
        for i in np.flatnonzero(present):
            site = self.stations[i]
            obs = WeatherObservation(source=WEATHER_SOURCE, event_time=at, station_id=site.site_id,
                                     temp_c=round(float(temp[i]), 1), rh_pct=round(float(rh[i]), 1),
                                     wind_kmh=round(float(wind[i]), 1), rain_mm=round(float(rain[i]), 1))
            obs = self.scenario.adjust_weather(obs, site.lon, site.lat)
            if bad[i]:
                obs = msgspec.structs.replace(obs, rh_pct=-9999.0)
                out.bad += 1
            observations.append(obs)
        out.weather += len(observations)
        _emit(out, WEATHER_SOURCE, observations, one_by_one)

    def _gauges(self, after: datetime, at: datetime, faults: FaultRates, out: Step, one_by_one: bool = True,
                once: bool = False, first: bool = False, final: bool = False) -> None:
        """Every gauge level due in ``(after, at]``: the scenario's, then each regular gauge on its period
        (``once``: only its last in the window, its first two too if ``first``, its last two if ``final``: the
        backfill's summary)."""
        levels: list[WaterLevel] = list(self.scenario.water_levels(at))
        a, b = int((after - self.start).total_seconds()), int((at - self.start).total_seconds())
        for i, site in enumerate(self.gauges):
            if self.scenario.silences(site.site_id):
                continue
            period, phase = int(self.gauge_period[i]), int(self.gauge_phase[i])
            due: Sequence[int] = range(a + 1 + (phase - a - 1) % period, b + 1, period)
            if once:  # the window's last report on the gauge's own schedule, and the history's first two and
                # last two: the hydrology pipeline states a gauge one reading behind, from its second reading on
                due = sorted({*due[:2 if first else 0], *due[-2 if final else -1:]})
            for elapsed in due:
                level = self._gauge_level(i, site, elapsed, faults, out)
                if level is not None:
                    levels.append(level)
        levels.sort(key=lambda level: level.event_time)
        out.levels += len(levels)
        _emit(out, GAUGE_SOURCE, levels, one_by_one)

    def _gauge_level(self, i: int, site: Site, elapsed: int, faults: FaultRates, out: Step) -> WaterLevel | None:
        """Gauge ``i``'s level ``elapsed`` seconds after start (negative: before), or None for a gap."""
        at = self.start + timedelta(seconds=elapsed)
        rng = np.random.default_rng([self.seed, 0x6A06E, i, int(at.timestamp())])
        if rng.random() < faults.gap * 10:
            return None
        base = (site.warning_m if site.warning_m is not None else 4.5) - 1.5
        days = elapsed / 86400.0
        stage = base + 0.3 * math.sin(2 * math.pi * days / 5 + self.gauge_wave[i]) + 0.03 * diurnal(at, 18.0)
        stage += float(rng.normal(0, 0.005))
        if rng.random() < faults.bad * 20:
            stage, out.bad = -9999.0, out.bad + 1
        return WaterLevel(source=GAUGE_SOURCE, event_time=at, gauge_id=site.site_id, stage_m=round(stage, 3))


def _batches(out: Step, source: str, at: datetime, readings: list[SensorReading]) -> None:
    """ReadingBatch messages of up to :data:`BATCH_SIZE` readings, keyed by their source."""
    for j in range(0, len(readings), BATCH_SIZE):
        batch = ReadingBatch(source=source, event_time=at, readings=readings[j:j + BATCH_SIZE])
        out.messages.append((source, encode(batch)))


def _emit(out: Step, key: str, items: list[WeatherObservation] | list[WaterLevel], one_by_one: bool) -> None:
    """One message per item, or JSON arrays of up to :data:`BATCH_SIZE` (both are raw-ingest payloads)."""
    if one_by_one:
        out.messages += [(key, encode(item)) for item in items]
        return
    for j in range(0, len(items), BATCH_SIZE):
        out.messages.append((key, encode(items[j:j + BATCH_SIZE])))


def _spoil(reading: SensorReading, how: str) -> SensorReading:
    """A reading made invalid in one of the ways field data goes wrong."""
    if how == "sentinel":
        return msgspec.structs.replace(reading, value=-9999.0)
    if how == "unit":
        return msgspec.structs.replace(reading, unit="furlong")
    if how == "range":
        return msgspec.structs.replace(reading, value=1e6)
    if how == "unknown_id":
        return msgspec.structs.replace(reading, sensor_id=reading.sensor_id + "-x")
    return msgspec.structs.replace(reading, event_time=reading.event_time + timedelta(days=1))


def fire_place(inventory: Inventory, seed: int) -> tuple[float, float]:
    """A seeded smoke sensor's position: where the fire scenario burns."""
    smoke = [s for s in inventory.sites.get("sensors", ()) if s.kind is SensorKind.SMOKE]
    if not smoke:
        return (127.3, 50.5)
    site = smoke[int(np.random.default_rng([seed, 0xF1E]).integers(0, len(smoke)))]
    return (site.lon, site.lat)


async def run_feeds(sim: FeedSimulator, clock: VirtualClock, duration_s: float, send, stop: asyncio.Event,  # type: ignore[no-untyped-def]
                    paced: bool = True, on_step: Callable[[Step], None] | None = None,
                    started_at: float | None = None, send_grid=None) -> Step:  # type: ignore[no-untyped-def]
    """Emit steps on the virtual clock until ``duration_s`` simulated seconds or ``stop``; totals returned.

    ``send_grid`` takes the scenario's grid events (ValueError if there are some and no ``send_grid``).

    ``on_step`` is told of each step once its messages are sent (progress on a terminal);
    ``started_at`` is the loop time of ``clock.start`` (default: now), so steps that fell
    due while a backfill was being sent go out at once.
    """
    loop = asyncio.get_running_loop()
    t0, totals, k = loop.time() if started_at is None else started_at, Step(clock.start), 0
    while not stop.is_set() and k * STEP_S <= duration_s:
        step = sim.step(k)
        if paced:
            wait = t0 + clock.wall_elapsed(step.at) - loop.time()
            if wait > 0:
                try:
                    await asyncio.wait_for(stop.wait(), wait)
                    break
                except asyncio.TimeoutError:
                    pass
        for key, payload in step.messages:
            await send(key, payload)
        if step.grid and send_grid is None:
            raise ValueError(f"scenario {sim.scenario.name} sends grid events and nothing takes them")
        for key, payload in step.grid:
            await send_grid(key, payload)
        totals.add(step)
        if on_step is not None:
            on_step(step)
        k += 1
    return totals


FEED_NAMES = ("sensors", "stations", "gauges", "indicators")


def feed_names(feeds: str) -> frozenset[str]:
    """The feeds a comma list names; ValueError quotes the list if it names none or an unknown one."""
    wanted = frozenset(name.strip() for name in feeds.split(",") if name.strip())
    if not wanted or wanted - set(FEED_NAMES):
        raise ValueError(f"expected a comma list of {', '.join(FEED_NAMES)}, got {feeds!r}")
    return wanted


def only_feeds(inventory: Inventory, feeds: str) -> Inventory:
    """The inventory with the sites of unlisted feeds removed (validation lists stay whole; ``indicators``
    are the registry's, see :class:`FeedSimulator`)."""
    wanted = feed_names(feeds)
    sites = {name: sites for name, sites in inventory.sites.items() if name in wanted}
    return dataclasses.replace(inventory, sites=sites)


def check_feeds(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """Click callback of ``--feeds`` (here and in ``amur drill``): the list unchanged, or a usage error."""
    try:
        feed_names(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None
    return value



@click.command(name="feeds", help="Simulate the department feeds of the bundled Heihe sample on a virtual clock.")
@click.option("--speed", type=click.FloatRange(min=0, min_open=True), default=None,
              help="simulated seconds per wall second (default: AMUR_SIM_SPEED, 1)")
@click.option("--seed", type=int, default=None, help="seed of the simulated values (default: AMUR_SIM_SEED, 7)")
@click.option("--duration", type=float, default=math.inf, help="simulated seconds to run (default: forever)")
@click.option("--scenario", default="none", show_default=True, help="none, fire, or a scripted scenario name")
@click.option("--start", type=ZonedTime(), default=None, help="virtual start time, ISO 8601 with zone (default: now)")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="write key<TAB>payload lines here instead of Kafka")
@click.option("--feeds", default=",".join(FEED_NAMES), show_default=True, callback=check_feeds,
              help="which feeds to simulate (comma list of sensors, stations, gauges, indicators); "
                   "a fast drill of a flood crest needs only gauges")
@click.option("--backfill", type=click.FloatRange(0, 168), default=None,
              help="hours of history to send before the live feeds (default: AMUR_SIM_BACKFILL_H, 48, for a run "
                   "that starts now and produces to Kafka outside a drill; else 0)")
@click.option("--demo", is_flag=True,
              help="play the demonstration (docs/demonstration.md): a gauge crossing its warning stage, smoke on a "
                   "forestry camera, a citizen's Open311 report; `amur run` turns it on")
@click.option("--resume", is_flag=True,
              help="record the start in AMUR_RUN_DIR (as `amur run` asks); started again there, send no second "
                   "backfill and go on with the demonstration where it was")
def command(speed: float | None, seed: int | None, duration: float, scenario: str, start: datetime | None,
            out: Path | None, feeds: str, backfill: float | None, demo: bool, resume: bool) -> int:
    from stream.runtime.logs import configure
    from stream.settings import load_settings
    from stream.sim.session import (
        RESUME_FILE,
        backfill_hours,
        demonstration_parts,
        recorded_start,
        run,
    )

    settings = load_settings()
    configure(settings.log_level)
    speed = settings.sim_speed if speed is None else speed
    seed = settings.sim_seed if seed is None else seed
    hours = backfill_hours(backfill, settings.sim_backfill_h, live=start is None and out is None
                           and settings.drill_id is None)
    start = start or datetime.now(timezone.utc).replace(microsecond=0)
    first = recorded_start(settings.run_dir / RESUME_FILE, start) if resume else None
    if first is not None:
        hours = 0.0
        log.info("resumed first_start=%s: no second backfill", first.isoformat())
    demonstration = endpoints = None
    try:
        if demo:
            demonstration, chosen, endpoints = demonstration_parts(settings, scenario, first or start, seed,
                                                                   since=start - timedelta(hours=hours))
        inventory = load_inventory(settings.gis_manifest)
        if not demo:
            chosen = load_scenario(scenario, start, seed, fire_place(inventory, seed))
    except ValueError as exc:
        print(f"amur sim feeds: {exc}", file=sys.stderr)
        return 2
    if out is not None and chosen.sends_grid_events:
        print(f"amur sim feeds: scenario {scenario} sends grid events, which a raw-ingest recording (--out) cannot "
              "hold; run it as a drill (`amur drill --scenario`)", file=sys.stderr)
        return 2
    registry = load_registry(settings.ingest_registry) if "indicators" in feed_names(feeds) else None
    sim = FeedSimulator(only_feeds(inventory, feeds), seed, start, chosen, registry=registry)
    if sim.indicators is not None:
        log.info("indicators series=%s silent=%s readings_per_s=%.2f", len(sim.indicators.sources),
                 int(sim.indicators.silent.sum()), sim.indicators.rate_per_s())
    started = time.monotonic()
    totals = asyncio.run(run(settings, sim, VirtualClock(start, speed), duration, out, hours,
                             demonstration, endpoints, resumed=first is not None))
    print(f"sim feeds: readings={totals.readings} weather={totals.weather} levels={totals.levels} "
          f"indicators={totals.indicators} grid_events={totals.grid_events} bad={totals.bad} "
          f"wall_s={time.monotonic() - started:.1f}", flush=True)
    return 0
