"""Per-source state the risk scorer carries between events: rain windows and daily FWI.

Pure functions over frozen dataclasses; time is always an argument.

Rain (per rain sensor)
    Readings are millimetres fallen since the sensor's previous reading; they
    are summed into 5-minute buckets (kept for the last hour) and clock-hour
    buckets (kept for 72 hours). At ``now`` the 1 h total is the current
    5-minute bucket and the 11 before it; the 24 h (72 h) total is the current
    clock hour and the 23 (71) before it. Windows are therefore aligned to
    their bucket: a reading counts for between 55 and 60 minutes in the 1 h
    total, between 23 and 24 hours in the 24 h total.
Daily FWI (per weather station)
    The first observation at or after 12:00 local standard time on a local day
    is that day's noon observation: its temperature, RH and wind, and the rain
    summed over every observation since the previous noon observation, advance
    the station's FFMC, DMC and DC from the previous day's values (start-up 85,
    6, 15) with :func:`gis.fwi.fwi_day`. A day without a noon observation is not
    computed; the codes carry over to the next one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, tzinfo

from gis import fwi as F
from stream.errors import AmurError

FINE_S = 300
"""Width of the 1 h window's buckets (5 minutes)."""
HOUR_S = 3600
FINE_KEPT = 12
HOURS_KEPT = 72


class RiskInputError(AmurError):
    """A risk input the scorer cannot use; the message names the field and value."""


@dataclass(frozen=True)
class RainBuckets:
    """One rain sensor's recent rain: (bucket index, mm) pairs, oldest first."""

    fine: tuple[tuple[int, float], ...] = ()
    """5-minute buckets: index = epoch seconds // 300."""
    hourly: tuple[tuple[int, float], ...] = ()
    """Clock-hour buckets: index = epoch seconds // 3600."""
    latest: datetime | None = None
    """Time of the newest reading added."""


@dataclass(frozen=True)
class RainTotals:
    mm_1h: float
    mm_24h: float
    mm_72h: float


def _epoch(t: datetime) -> int:
    if t.tzinfo is None:
        raise RiskInputError(f"time must carry a time zone, got naive {t.isoformat()}")
    return int(t.timestamp() // 1)


def _add(buckets: tuple[tuple[int, float], ...], index: int, mm: float, oldest: int) -> tuple[tuple[int, float], ...]:
    kept = {i: v for i, v in buckets if i >= oldest}
    if index >= oldest:
        kept[index] = kept.get(index, 0.0) + mm
    return tuple(sorted(kept.items()))


def add_rain(state: RainBuckets, at: datetime, mm: float) -> RainBuckets:
    """``state`` with ``mm`` fallen in the interval ending ``at``; buckets older than the newest reading's windows go."""
    if not mm >= 0.0:
        raise RiskInputError(f"rain reading must be >= 0 mm, got value={mm!r}")
    t = _epoch(at)
    latest = at if state.latest is None or at > state.latest else state.latest
    newest = _epoch(latest)
    fine = _add(state.fine, t // FINE_S, mm, newest // FINE_S - (FINE_KEPT - 1))
    hourly = _add(state.hourly, t // HOUR_S, mm, newest // HOUR_S - (HOURS_KEPT - 1))
    return RainBuckets(fine, hourly, latest)


def _window(buckets: tuple[tuple[int, float], ...], now_index: int, width: int) -> float:
    return sum(v for i, v in buckets if now_index - width < i <= now_index)


def rain_totals(state: RainBuckets, *, now: datetime) -> RainTotals:
    """Rain in the 1 h, 24 h and 72 h windows ending at ``now`` (buckets later than ``now``'s do not count)."""
    t = _epoch(now)
    return RainTotals(_window(state.fine, t // FINE_S, FINE_KEPT), _window(state.hourly, t // HOUR_S, 24),
                      _window(state.hourly, t // HOUR_S, HOURS_KEPT))


@dataclass(frozen=True)
class Codes:
    """The FWI System's values on one day."""

    ffmc: float = F.FFMC_START
    dmc: float = F.DMC_START
    dc: float = F.DC_START
    isi: float = 0.0
    bui: float = 0.0
    fwi: float = 0.0


@dataclass(frozen=True)
class NoonWeather:
    temp_c: float
    rh_pct: float
    wind_kmh: float
    rain_24h_mm: float
    """Rain since the previous noon observation."""


@dataclass(frozen=True)
class StationFwi:
    """A weather station's daily FWI, carried from day to day."""

    station_id: str
    last_obs: datetime | None = None
    """Newest observation applied; older or equal ones are ignored."""
    rain_since_noon_mm: float = 0.0
    day: date | None = None
    """Local date of the latest noon observation (None: no day computed yet)."""
    noon: NoonWeather | None = None
    before: Codes = Codes()
    """Codes the day started from (the previous day's, or the start-up values)."""
    today: Codes = Codes()
    """The day's FWI System values (start-up codes until the first noon observation)."""


def observe_weather(state: StationFwi, at: datetime, temp_c: float, rh_pct: float, wind_kmh: float, rain_mm: float,
                    tz: tzinfo) -> StationFwi:
    """The station's state after one observation made ``at`` (rain: since its previous observation)."""
    if state.last_obs is not None and at <= state.last_obs:
        return state
    if rain_mm < 0.0:
        raise RiskInputError(f"weather rain_mm must be >= 0, got {rain_mm!r} (station {state.station_id})")
    rain = state.rain_since_noon_mm + rain_mm
    local = at.astimezone(tz)
    if local.hour < 12 or local.date() == state.day:
        return replace(state, last_obs=at, rain_since_noon_mm=rain)
    before = Codes(state.today.ffmc, state.today.dmc, state.today.dc)
    day = F.fwi_day(temp_c, rh_pct, wind_kmh, rain, local.month, before.ffmc, before.dmc, before.dc)
    today = Codes(float(day.ffmc), float(day.dmc), float(day.dc), float(day.isi), float(day.bui), float(day.fwi))
    return StationFwi(state.station_id, at, 0.0, local.date(), NoonWeather(temp_c, rh_pct, wind_kmh, rain), before, today)
