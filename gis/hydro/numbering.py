"""Crest numbers per river per season, kept by a wave as it travels downstream.

A crest at gauge B takes the number of a crest already numbered at a gauge A
upstream on the same river when B's crest time falls within the match window
of A's crest time plus the configured travel time A -> B (and that number has
not been given at B yet); otherwise it opens the next number. The season is the
calendar year of the crest (the open-water season of the Heilongjiang lies
within one year); a new season starts again at 1.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from gis.hydro.network import RiverNetwork


@dataclass(frozen=True, slots=True)
class NumberedCrest:
    crest_no: int
    gauge_id: str
    time: datetime
    stage: float


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


def season_of(time: datetime) -> int:
    return time.year


def number_crest(
    log: SeasonLog | None,
    river: str,
    gauge_id: str,
    time: datetime,
    stage: float,
    network: RiverNetwork,
    window: MatchWindow = MatchWindow(),
    keep: int = 200,
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
        numbered = NumberedCrest(best[1].crest_no, gauge_id, time, stage)
        next_no = log.next_no
    else:
        numbered = NumberedCrest(log.next_no, gauge_id, time, stage)
        next_no = log.next_no + 1
    crests = (log.crests + (numbered,))[-keep:]
    return replace(log, next_no=next_no, crests=crests), numbered


def seed_season(river: str, season: int, prior_crests: int) -> SeasonLog:
    """A season in which ``prior_crests`` crests were already numbered (e.g. by hand)."""
    return SeasonLog(river=river, season=season, next_no=prior_crests + 1)
