"""Crest numbers per river per season, kept as a wave travels downstream."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from gis.hydro.network import Reach, RiverNetwork
from gis.hydro.numbering import MatchWindow, number_crest, seed_season
from tests.helpers.hydro import gauge

T0 = datetime(2024, 7, 1, tzinfo=timezone.utc)
NET = RiverNetwork(
    {
        "up": gauge("up", "amur", 0, 5, 6, 7, "mid"),
        "mid": gauge("mid", "amur", 100, 5, 6, 7, "down"),
        "down": gauge("down", "amur", 200, 5, 6, 7, None),
        "trib": gauge("trib", "zeya", 50, 3, 4, 5, "mid"),
    },
    {"up": Reach("up", "mid", k_h=24.0), "mid": Reach("mid", "down", k_h=24.0), "trib": Reach("trib", "mid", lag_h=6.0)},
)


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_a_wave_keeps_its_number_downstream_and_the_next_wave_gets_the_next() -> None:
    log = seed_season("amur", 2024, prior_crests=4)
    log, c1 = number_crest(log, "amur", "up", h(0), 8.0, NET)
    log, c2 = number_crest(log, "amur", "mid", h(27), 7.5, NET)  # expected at 24 h, 3 h late
    log, c3 = number_crest(log, "amur", "up", h(30), 6.0, NET)  # a new wave upstream
    log, c4 = number_crest(log, "amur", "down", h(50), 7.0, NET)  # wave 5 expected at 48 h
    log, c5 = number_crest(log, "amur", "mid", h(55), 6.1, NET)  # wave 6 expected at 54 h
    assert [c.crest_no for c in (c1, c2, c3, c4, c5)] == [5, 5, 6, 5, 6]
    assert log.next_no == 7


def test_a_crest_far_from_any_expected_arrival_opens_a_new_number() -> None:
    log, first = number_crest(None, "amur", "up", h(0), 8.0, NET)
    log, other = number_crest(log, "amur", "mid", h(60), 7.0, NET)  # 36 h off, window max(12, 0.5 x 24)
    assert (first.crest_no, other.crest_no) == (1, 2)
    log, wide = number_crest(None, "amur", "up", h(0), 8.0, NET)
    log, same = number_crest(log, "amur", "mid", h(60), 7.0, NET, MatchWindow(min_h=40.0))
    assert same.crest_no == wide.crest_no == 1


def test_one_number_is_given_once_per_gauge() -> None:
    log, _ = number_crest(None, "amur", "up", h(0), 8.0, NET)
    log, a = number_crest(log, "amur", "mid", h(24), 7.0, NET)
    log, b = number_crest(log, "amur", "mid", h(30), 7.1, NET)  # a second crest at mid in the window
    assert (a.crest_no, b.crest_no) == (1, 2)


def test_rivers_and_seasons_number_on_their_own() -> None:
    log, z = number_crest(None, "zeya", "trib", h(0), 4.0, NET)
    assert z.crest_no == 1 and log.river == "zeya"
    spring = seed_season("amur", 2024, 4)
    log, next_year = number_crest(spring, "amur", "up", datetime(2025, 5, 1, tzinfo=timezone.utc), 6.0, NET)
    assert next_year.crest_no == 1 and log.season == 2025
