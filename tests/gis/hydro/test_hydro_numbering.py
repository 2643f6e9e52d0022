"""Crest numbers per river per season, kept as a wave travels downstream."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from gis.hydro.network import Reach, RiverNetwork
from gis.hydro.numbering import (
    MatchWindow,
    number_crest,
    revise_crest,
    season_of,
    seed_season,
)
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


def test_a_revised_crest_keeps_its_number_and_downstream_matches_where_it_really_was() -> None:
    log, first = number_crest(None, "amur", "up", h(0), 8.0, NET)
    log, other = number_crest(log, "amur", "up", h(40), 6.0, NET)  # the next wave upstream: No. 2
    # No. 1 was announced early: the water rose higher and crested 14 h later than first told
    log, revised = revise_crest(log, "amur", "up", h(0), h(14), 8.6, NET)
    assert (revised.crest_no, revised.time, revised.stage) == (1, h(14), 8.6)
    assert log.next_no == 3 and [c.crest_no for c in log.crests] == [1, 2]
    # at mid the wave arrives 24 h after the revised time: 38 h, outside the window of the first announcement
    log, mid = number_crest(log, "amur", "mid", h(38), 7.9, NET)
    assert mid.crest_no == 1


def test_a_revision_whose_announcement_is_not_in_the_log_is_numbered_like_a_new_crest() -> None:
    seeded = seed_season("amur", 2024, prior_crests=4)
    log, n = revise_crest(seeded, "amur", "up", h(0), h(3), 8.0, NET)
    assert n.crest_no == 5 and log.next_no == 6


def test_seasons_turn_at_midnight_china_standard_time_whatever_zone_a_time_is_in() -> None:
    utc = timezone.utc
    assert season_of(datetime(2024, 12, 31, 15, 59, tzinfo=utc)) == 2024  # 23:59 in Heihe
    assert season_of(datetime(2024, 12, 31, 16, 0, tzinfo=utc)) == 2025  # 00:00 on 1 January in Heihe
    log, last = number_crest(seed_season("amur", 2024, 6), "amur", "up", datetime(2024, 12, 31, 15, tzinfo=utc),
                             3.0, NET)
    log, first = number_crest(log, "amur", "up", datetime(2024, 12, 31, 17, tzinfo=utc), 3.1, NET)
    assert (last.crest_no, last.season, first.crest_no, first.season) == (7, 2024, 1, 2025)
