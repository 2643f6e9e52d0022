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
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click
import msgspec
import numpy as np
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from stream.cli.params import ZonedTime
from stream.ingest.inventory import Inventory, Site, load_inventory
from stream.schemas import (
    ReadingBatch,
    SensorKind,
    SensorReading,
    WaterLevel,
    WeatherObservation,
    encode,
)
from stream.sim.hooks import GAUGE_SOURCE, Scenario, load_scenario

log = logging.getLogger(__name__)

STEP_S = 10
WEATHER_EVERY = 6  # steps: one observation per minute
BATCH_SIZE = 1000
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
    bad: int = 0
    """Items made invalid on purpose (each must be dead-lettered)."""


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


class FeedSimulator:
    """Deterministic feeds: ``step(k)`` is the same for the same inventory, seed, start and k."""

    def __init__(self, inventory: Inventory, seed: int, start: datetime, scenario: Scenario | None = None,
                 faults: FaultRates = FaultRates()) -> None:
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

    def step(self, k: int) -> Step:
        at = self.start + timedelta(seconds=k * STEP_S)
        rng = np.random.default_rng([self.seed, k])
        out = Step(at)
        for feed in self.feeds:
            self._sensors(feed, at, rng, out)
        if k % WEATHER_EVERY == 0 and self.stations:
            self._weather(at, rng, out)
        self._gauges(k, at, rng, out)
        return out

    def _sensors(self, sites: _FeedSites, at: datetime, rng: np.random.Generator, out: Step) -> None:
        kind, source, unit = sites.kind, sites.source, SENSOR_UNITS[sites.kind]
        n = len(sites.ids)
        if n == 0:
            return
        d = diurnal(at)
        if kind is SensorKind.TEMPERATURE:
            values = 18.0 + 8.0 * d + 3.0 * sites.offset + rng.normal(0, 0.3, n)
        elif kind is SensorKind.SMOKE:
            values = 0.05 + np.abs(rng.normal(0, 0.02, n))
        elif kind is SensorKind.RAIN:
            values = np.where(rng.random(n) < 0.02, rng.gamma(1.5, 0.2, n), 0.0)
        else:
            values = 0.8 + 0.3 * sites.offset + 0.05 * d + rng.normal(0, 0.005, n)
        values = self.scenario.adjust_sensors(kind, sites.lonlat, values, at)
        spike_size = {SensorKind.TEMPERATURE: 12.0, SensorKind.SMOKE: 4.0, SensorKind.RAIN: 5.0}.get(kind, 0.6)
        values = np.where(rng.random(n) < self.faults.spike, values + spike_size, values)
        values = np.clip(np.round(values, 3), 0.0 if kind is not SensorKind.TEMPERATURE else -55.0, None)
        present = rng.random(n) >= self.faults.gap
        bad = rng.random(n) < self.faults.bad
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
        for j in range(0, len(readings), BATCH_SIZE):
            batch = ReadingBatch(source=source, event_time=at, readings=readings[j:j + BATCH_SIZE])
            out.messages.append((source, encode(batch)))

    def _weather(self, at: datetime, rng: np.random.Generator, out: Step) -> None:
        n, d = len(self.stations), diurnal(at)
        temp = 18.0 + 8.0 * d + 2.0 * self.station_offset + rng.normal(0, 0.2, n)
        rh = np.clip(65.0 - 20.0 * d + rng.normal(0, 3, n), 5, 100)
        wind = np.abs(8.0 + 4.0 * d + rng.normal(0, 3, n))
        rain = np.where(rng.random(n) < 0.03, rng.gamma(1.2, 0.8, n), 0.0)
        present = rng.random(n) >= self.faults.gap
        bad = rng.random(n) < self.faults.bad * 10
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
        out.messages += [(WEATHER_SOURCE, encode(obs)) for obs in observations]

    def _gauges(self, k: int, at: datetime, rng: np.random.Generator, out: Step) -> None:
        levels: list[WaterLevel] = list(self.scenario.water_levels(at))
        elapsed = k * STEP_S
        days = elapsed / 86400.0
        for i, site in enumerate(self.gauges):
            if (elapsed - int(self.gauge_phase[i])) % int(self.gauge_period[i]) or self.scenario.silences(site.site_id):
                continue
            if rng.random() < self.faults.gap * 10:
                continue
            base = (site.warning_m if site.warning_m is not None else 4.5) - 1.5
            stage = base + 0.3 * math.sin(2 * math.pi * days / 5 + self.gauge_wave[i]) + 0.03 * diurnal(at, 18.0)
            stage += float(rng.normal(0, 0.005))
            if rng.random() < self.faults.bad * 20:
                stage, out.bad = -9999.0, out.bad + 1
            levels.append(WaterLevel(source=GAUGE_SOURCE, event_time=at, gauge_id=site.site_id,
                                     stage_m=round(stage, 3)))
        out.levels += len(levels)
        out.messages += [(GAUGE_SOURCE, encode(level)) for level in levels]


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
                    paced: bool = True, on_step: Callable[[Step], None] | None = None) -> Step:
    """Emit steps on the virtual clock until ``duration_s`` simulated seconds or ``stop``; totals returned.

    ``on_step`` is told of each step once its messages are sent (progress on a terminal).
    """
    loop = asyncio.get_running_loop()
    t0, totals, k = loop.time(), Step(clock.start), 0
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
        totals.readings += step.readings
        totals.weather += step.weather
        totals.levels += step.levels
        totals.bad += step.bad
        if on_step is not None:
            on_step(step)
        k += 1
    return totals


FEED_NAMES = ("sensors", "stations", "gauges")


def feed_names(feeds: str) -> frozenset[str]:
    """The feeds a comma list names; ValueError quotes the list if it names none or an unknown one."""
    wanted = frozenset(name.strip() for name in feeds.split(",") if name.strip())
    if not wanted or wanted - set(FEED_NAMES):
        raise ValueError(f"expected a comma list of {', '.join(FEED_NAMES)}, got {feeds!r}")
    return wanted


def only_feeds(inventory: Inventory, feeds: str) -> Inventory:
    """The inventory with the sites of unlisted feeds removed (validation lists stay whole)."""
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
              help="which feeds to simulate (comma list of sensors, stations, gauges); "
                   "a fast drill of a flood crest needs only gauges")
def command(speed: float | None, seed: int | None, duration: float, scenario: str, start: datetime | None,
            out: Path | None, feeds: str) -> int:
    from stream.runtime.logs import configure
    from stream.settings import load_settings

    settings = load_settings()
    configure(settings.log_level)
    speed = settings.sim_speed if speed is None else speed
    seed = settings.sim_seed if seed is None else seed
    start = start or datetime.now(timezone.utc).replace(microsecond=0)
    inventory = load_inventory(settings.gis_manifest)
    try:
        chosen = load_scenario(scenario, start, seed, fire_place(inventory, seed))
    except ValueError as exc:
        print(f"amur sim feeds: {exc}", file=sys.stderr)
        return 2
    sim = FeedSimulator(only_feeds(inventory, feeds), seed, start, chosen)
    started = time.monotonic()
    totals = asyncio.run(_run(settings, sim, VirtualClock(start, speed), duration, out))
    print(f"sim feeds: readings={totals.readings} weather={totals.weather} levels={totals.levels} "
          f"bad={totals.bad} wall_s={time.monotonic() - started:.1f}", flush=True)
    return 0


async def _run(settings, sim: FeedSimulator, clock: VirtualClock, duration_s: float, out: Path | None) -> Step:  # type: ignore[no-untyped-def]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with _progress(clock.start, duration_s) as on_step:
        if out is not None:
            with out.open("wb") as fh:
                async def write(key: str, payload: bytes) -> None:
                    fh.write(key.encode() + b"\t" + payload + b"\n")
                return await run_feeds(sim, clock, duration_s, write, stop, paced=False, on_step=on_step)
        from aiokafka import AIOKafkaProducer

        from stream import topics
        from stream.runtime.admin import bootstrap_servers
        from stream.runtime.app import kafka_url

        topic = topics.topic_name(topics.RAW_INGEST, settings.drill_id)
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers(kafka_url(settings)), linger_ms=20,
                                    max_request_size=8 * 1024 * 1024, compression_type=None)
        await producer.start()
        try:
            async def send(key: str, payload: bytes) -> None:
                await producer.send(topic, key=key.encode(), value=payload)
            return await run_feeds(sim, clock, duration_s, send, stop, on_step=on_step)
        finally:
            await producer.stop()


@contextmanager
def _progress(start: datetime, duration_s: float) -> Iterator[Callable[[Step], None] | None]:
    """Simulated seconds done of a finite run, on a terminal's stderr, updated per step; None elsewhere."""
    console = Console(stderr=True)
    if not console.is_terminal or not math.isfinite(duration_s):
        yield None
        return
    columns = (TextColumn("sim feeds"), BarColumn(), TextColumn("{task.completed:,.0f}/{task.total:,.0f} simulated s"),
               TextColumn("{task.fields[readings]:,} readings"), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True, redirect_stdout=False, redirect_stderr=False) as progress:
        task = progress.add_task("feeds", total=duration_s, readings=0)
        readings = 0

        def on_step(step: Step) -> None:
            nonlocal readings
            readings += step.readings
            progress.update(task, completed=(step.at - start).total_seconds(), readings=readings)

        yield on_step
