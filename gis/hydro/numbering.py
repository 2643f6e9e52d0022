"""Crest numbers per river per season, kept by a wave as it travels downstream.

A crest at gauge B takes the number of a crest already numbered at a gauge A
upstream on the same river when B's crest time falls within the match window
of A's crest time plus the configured travel time A -> B (and that number has
not been given at B yet); otherwise it opens the next number. A number is given
once per gauge and never reused or skipped: a crest announced early and then
revised (:func:`revise_crest`) keeps its number, and its entry takes the new time
and stage, so crests further down are matched against where the crest really was.

The season is the river's flood season: for the Heilongjiang the open-water
season, from ice break-up (late April or May) to freeze-up (November), which
lies within one calendar year in China Standard Time. So numbers restart at 1 on
1 January 00:00 +08:00, and a crest belongs to the season of its local date
(:data:`SEASON_ZONE`), whatever zone its time was written in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone, tzinfo

from gis.hydro.network import RiverNetwork

#: Where seasons turn: a season is the calendar year in China Standard Time.
SEASON_ZONE = timezone(timedelta(hours=8))


@dataclass(frozen=True, slots=True)
class NumberedCrest:
    crest_no: int
    gauge_id: str
    time: datetime
    stage: float
    season: int = 0


@dataclass(frozen=True, slots=True)
class SeasonLog:
    """Crests numbered so far on one river in one season."""

    river: str
    season: int
    next_no: int = 1
    crests: tuple[NumberedCrest, ...] = ()


@dataclass(frozen=True, slots=True)
class MatchWindow:
    """How far a crest may arrive from its expected time: max(min_h, fraction x travel)."""

    min_h: float = 12.0
    fraction: float = 0.5

    def half_width_h(self, travel_h: float) -> float:
        return max(self.min_h, self.fraction * travel_h)


def season_of(time: datetime, zone: tzinfo = SEASON_ZONE) -> int:
    """The flood season of a crest at ``time``: its calendar year in ``zone``."""
    return time.astimezone(zone).year


def number_crest(
    log: SeasonLog | None,
    river: str,
    gauge_id: str,
    time: datetime,
    stage: float,
    network: RiverNetwork,
    window: MatchWindow = MatchWindow(),
    keep: int = 1000,
) -> tuple[SeasonLog, NumberedCrest]:
    """Number a crest seen at ``gauge_id``; returns the updated log and the numbered crest."""
    season = season_of(time)
    if log is None or log.season != season or log.river != river:
        log = SeasonLog(river=river, season=season)
    taken_here = {c.crest_no for c in log.crests if c.gauge_id == gauge_id}
    best: tuple[float, NumberedCrest] | None = None
    for earlier in log.crests:
        if earlier.crest_no in taken_here or earlier.gauge_id == gauge_id:
            continue
        travel = network.travel_h(earlier.gauge_id, gauge_id)
        if travel is None:
            continue
        miss_h = abs((time - (earlier.time + timedelta(hours=travel))).total_seconds()) / 3600
        if miss_h <= window.half_width_h(travel) and (best is None or miss_h < best[0]):
            best = (miss_h, earlier)
    if best is not None:
        numbered = NumberedCrest(best[1].crest_no, gauge_id, time, stage, season)
        next_no = log.next_no
    else:
        numbered = NumberedCrest(log.next_no, gauge_id, time, stage, season)
        next_no = log.next_no + 1
    crests = (log.crests + (numbered,))[-keep:]
    return replace(log, next_no=next_no, crests=crests), numbered


def revise_crest(
    log: SeasonLog | None,
    river: str,
    gauge_id: str,
    previous_time: datetime,
    time: datetime,
    stage: float,
    network: RiverNetwork,
    window: MatchWindow = MatchWindow(),
) -> tuple[SeasonLog, NumberedCrest]:
    """A crest announced at ``previous_time`` at ``gauge_id`` moved to ``time``/``stage``: same number.

    Only if its announcement is not in the log (a state seeded after it) is the
    revised crest numbered like a new one.
    """
    if log is not None and log.river == river:
        for i, entry in enumerate(log.crests):
            if entry.gauge_id == gauge_id and entry.time == previous_time:
                numbered = NumberedCrest(entry.crest_no, gauge_id, time, stage, log.season)
                crests = log.crests[:i] + (numbered,) + log.crests[i + 1:]
                return replace(log, crests=crests), numbered
    return number_crest(log, river, gauge_id, time, stage, network, window)


def seed_season(river: str, season: int, prior_crests: int) -> SeasonLog:
    """A season in which ``prior_crests`` crests were already numbered (e.g. by hand)."""
    return SeasonLog(river=river, season=season, next_no=prior_crests + 1)
