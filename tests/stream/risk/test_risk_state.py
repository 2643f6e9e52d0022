"""Rain windows per sensor and the daily FWI carried per station (stream.risk.state)."""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gis import fwi as F
from stream.risk.state import (
    RainBuckets,
    RiskInputError,
    StationFwi,
    add_rain,
    observe_weather,
    rain_totals,
)
from tests.conftest import TESTS

HEIHE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2024, 8, 5, 6, 2, 30, tzinfo=timezone.utc)  # 2.5 min into a 5-minute bucket, 2.5 min into the hour
REFERENCE = TESTS / "data" / "gis_fwi_reference.csv"


def _rain(readings: list[tuple[datetime, float]]) -> RainBuckets:
    state = RainBuckets()
    for at, mm in readings:
        state = add_rain(state, at, mm)
    return state


def test_rain_windows_by_hand() -> None:
    # 2 mm 10 min ago (all three windows), 5 mm 2 h ago (24 h, 72 h), 7 mm 30 h ago (72 h), 11 mm 80 h ago (none)
    state = _rain([(NOW - timedelta(hours=80), 11.0), (NOW - timedelta(hours=30), 7.0),
                   (NOW - timedelta(hours=2), 5.0), (NOW - timedelta(minutes=10), 2.0)])
    t = rain_totals(state, now=NOW)
    assert (t.mm_1h, t.mm_24h, t.mm_72h) == (2.0, 7.0, 14.0)


def test_readings_add_up_within_a_bucket_and_later_buckets_do_not_count() -> None:
    state = _rain([(NOW - timedelta(seconds=20), 0.5), (NOW - timedelta(seconds=10), 0.25)])
    t = rain_totals(state, now=NOW)
    assert (t.mm_1h, t.mm_24h, t.mm_72h) == (0.75, 0.75, 0.75)
    later = rain_totals(add_rain(state, NOW + timedelta(hours=2), 9.0), now=NOW)
    assert (later.mm_24h, later.mm_72h) == (0.75, 0.75)


def test_buckets_stay_bounded_as_readings_go_on() -> None:
    state = RainBuckets()
    for k in range(6 * 24 * 5):  # five days of a reading every 10 minutes
        state = add_rain(state, NOW + timedelta(minutes=10 * k), 0.1)
    assert len(state.fine) <= 12 and len(state.hourly) <= 72


def test_negative_or_naive_rain_is_refused_naming_the_value() -> None:
    with pytest.raises(RiskInputError, match="-1.0"):
        add_rain(RainBuckets(), NOW, -1.0)
    with pytest.raises(RiskInputError, match="naive"):
        add_rain(RainBuckets(), NOW.replace(tzinfo=None), 1.0)


readings = st.lists(st.tuples(st.integers(0, 80 * 3600), st.floats(0, 50, allow_nan=False)), max_size=30)


@settings(max_examples=150, deadline=None)
@given(readings)
def test_windows_nest_and_order_does_not_matter(items: list[tuple[int, float]]) -> None:
    timed = [(NOW - timedelta(seconds=s), mm) for s, mm in items]
    a = rain_totals(_rain(timed), now=NOW)
    b = rain_totals(_rain(sorted(timed)), now=NOW)
    assert (a.mm_1h, a.mm_24h, a.mm_72h) == pytest.approx((b.mm_1h, b.mm_24h, b.mm_72h))
    assert a.mm_1h <= a.mm_24h + 1e-9 and a.mm_24h <= a.mm_72h + 1e-9
    # clear-cut cases whatever the bucket alignment: within 55 min / 23 h / 71 h, or beyond 1 h / 24 h / 72 h
    for window, total in ((3600, a.mm_1h), (24 * 3600, a.mm_24h), (72 * 3600, a.mm_72h)):
        margin = 300 if window == 3600 else 3600
        inside = sum(mm for s, mm in items if s < window - margin)
        maybe = sum(mm for s, mm in items if s < window)
        assert inside - 1e-9 <= total <= maybe + 1e-9


def _reference_days() -> list[dict[str, float]]:
    with REFERENCE.open() as f:
        rows = [line for line in f if not line.startswith("#")]
    return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(rows)]


def _noon(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=HEIHE)


def test_station_reproduces_the_van_wagner_pickett_1985_table_from_noon_observations() -> None:
    """Van Wagner & Pickett (1985) test data (tests/data/gis_fwi_reference.csv), one station, day after day.

    Each day's rain is split over an evening observation of the day before
    (40 %; on the first day an early-morning one) and the noon observation (60 %),
    with a morning observation between that must not start a new day; the
    printed values must come out within 0.1.
    """
    state = StationFwi("st-1")
    previous: tuple[float, float, float] = (F.FFMC_START, F.DMC_START, F.DC_START)
    for row in _reference_days():
        day = date(1985, int(row["mon"]), int(row["day"]))
        evening, morning = _noon(day - timedelta(days=1), 20), _noon(day, 9)
        if state.day is not None:  # (before the first day an evening observation would itself make a day)
            state = observe_weather(state, evening, 10.0, 60.0, 5.0, 0.4 * row["rain"], HEIHE)
        else:
            state = observe_weather(state, morning - timedelta(hours=1), 10.0, 60.0, 5.0, 0.4 * row["rain"], HEIHE)
        state = observe_weather(state, morning, 5.0, 90.0, 2.0, 0.0, HEIHE)
        state = observe_weather(state, _noon(day), row["temp"], row["rh"], row["wind"], 0.6 * row["rain"], HEIHE)
        # independently: gis.fwi on the same day's inputs from the previous day's codes
        expected = F.fwi_day(row["temp"], row["rh"], row["wind"], row["rain"], day.month, *previous)
        got = state.today
        assert state.day == day and state.noon is not None
        assert state.noon.rain_24h_mm == pytest.approx(row["rain"])
        assert (state.before.ffmc, state.before.dmc, state.before.dc) == pytest.approx(previous)
        assert (got.ffmc, got.dmc, got.dc, got.isi, got.bui, got.fwi) == pytest.approx(
            [float(v) for v in (expected.ffmc, expected.dmc, expected.dc, expected.isi, expected.bui, expected.fwi)], abs=1e-9)
        for name in ("ffmc", "dmc", "dc", "isi", "bui", "fwi"):
            assert abs(getattr(got, name) - row[name]) <= 0.1, (day, name, getattr(got, name), row[name])
        previous = (got.ffmc, got.dmc, got.dc)


def test_only_the_first_observation_after_noon_makes_the_day() -> None:
    day = date(2024, 7, 1)
    state = observe_weather(StationFwi("st-1"), _noon(day, 11), 25.0, 40.0, 10.0, 1.0, HEIHE)
    assert state.day is None and state.today.fwi == 0.0 and state.rain_since_noon_mm == 1.0
    noon = observe_weather(state, _noon(day, 12), 25.0, 40.0, 10.0, 0.0, HEIHE)
    later = observe_weather(noon, _noon(day, 15), 35.0, 10.0, 40.0, 0.5, HEIHE)
    expected = F.fwi_day(25.0, 40.0, 10.0, 1.0, 7)
    assert noon.today.fwi == pytest.approx(float(expected.fwi))
    assert later.today == noon.today and later.rain_since_noon_mm == 0.5
    assert observe_weather(later, _noon(day, 14), 0.0, 100.0, 0.0, 9.0, HEIHE) is later  # older: ignored


def test_a_day_without_noon_observation_carries_the_codes_over() -> None:
    d1, d3 = date(2024, 7, 1), date(2024, 7, 3)
    first = observe_weather(StationFwi("st-1"), _noon(d1), 25.0, 40.0, 10.0, 0.0, HEIHE)
    third = observe_weather(first, _noon(d3), 28.0, 30.0, 15.0, 0.0, HEIHE)
    expected = F.fwi_day(28.0, 30.0, 15.0, 0.0, 7, first.today.ffmc, first.today.dmc, first.today.dc)
    assert third.day == d3 and third.today.fwi == pytest.approx(float(expected.fwi))


def test_noon_is_local_standard_time() -> None:
    # 04:30 UTC is 12:30 in Heihe (UTC+8): a noon observation there, not in UTC
    state = observe_weather(StationFwi("st-1"), datetime(2024, 7, 1, 4, 30, tzinfo=timezone.utc), 25.0, 40.0, 10.0, 0.0, HEIHE)
    assert state.day == date(2024, 7, 1)
    utc = observe_weather(StationFwi("st-1"), datetime(2024, 7, 1, 4, 30, tzinfo=timezone.utc), 25.0, 40.0, 10.0, 0.0,
                          timezone.utc)
    assert utc.day is None
