"""The offline answer, and online detection checked against it on real gauge records (tests/data/hydro/README.md).

Reference: scipy.signal.find_peaks with ``prominence`` (topographic prominence) on the
same spike-filtered record. Online, readings come one by one (also late and out of
order within the lateness window), crests are announced early and revised; the
crests the recession confirms must be the offline crests, reading for reading,
and their numbers 1..n on the gauge's river.
"""

from __future__ import annotations

import random
from datetime import timedelta

import msgspec
import pytest
from scipy.signal import find_peaks

from gis.hydro.crests import (
    CrestEventKind,
    CrestParams,
    CrestState,
    Point,
    crest_events,
    flush,
    step,
)
from gis.hydro.network import RiverNetwork
from gis.hydro.numbering import SeasonLog, number_crest, revise_crest
from gis.hydro.offline import filtered, offline_crests, peaks
from gis.hydro.series import read_series
from tests.conftest import TESTS
from tests.helpers.hydro import gauge

DATA = TESTS / "data" / "hydro"

#: (file, prominence in the record's unit, character)
RECORDS = [
    ("usgs_03431040_2022-02-24.csv", 2.0, "flashy urban stream, 5 min, m3/s"),
    ("usgs_05587450_2022-05_hourly.csv", 300.0, "large river, hourly, m3/s"),
    ("usgs_05587450_2022-05_hourly.csv", 400.0, "large river, hourly, m3/s: one crest at this prominence"),
    ("usgs_01204000_2023-12_hourly.csv", 200.0, "multi-peak season, hourly, ft3/s"),
    ("usgs_01204000_flood_2024-01-10.csv", 200.0, "two floods in four days, hourly, ft3/s"),
]
IDS = [f"{name}@{p:g}" for name, p, _ in RECORDS]


def points(name: str) -> list[Point]:
    return [Point(r.time, r.value) for r in read_series(DATA / name)]


def params_for(prominence: float, lateness: timedelta = timedelta(hours=1)) -> CrestParams:
    return CrestParams(prominence=prominence, hysteresis=prominence / 3, lateness=lateness)


def confirmed(events) -> list:  # noqa: ANN001
    return [e.crest for e in events if e.kind is CrestEventKind.CONFIRMED]


@pytest.mark.parametrize("name,prominence,character", RECORDS, ids=IDS)
def test_offline_peaks_are_find_peaks_on_the_filtered_record(name: str, prominence: float, character: str) -> None:
    y = filtered([p.stage for p in points(name)], 3)
    reference, props = find_peaks(y, prominence=prominence)
    ours = peaks(y, prominence)
    assert [p.index for p in ours] == list(reference), character
    assert [p.prominence for p in ours] == pytest.approx(list(props["prominences"]))


@pytest.mark.parametrize("name,prominence,character", RECORDS, ids=IDS)
def test_online_confirms_the_offline_crests_reading_for_reading(name: str, prominence: float,
                                                                character: str) -> None:
    record = points(name)
    params = params_for(prominence)
    offline = offline_crests(record, params)
    assert offline, character
    online = confirmed(crest_events(record, params))
    assert [(c.time, c.stage) for c in online] == [(o.reading.time, o.reading.stage) for o in offline], character
    # each reported crest is an observed reading of the record, within one step of find_peaks' sample
    observed = {(p.time, p.stage) for p in record}
    steps = sorted({b.time - a.time for a, b in zip(record, record[1:])})
    for c, o in zip(online, offline):
        assert (c.time, c.stage) in observed
        assert abs(c.time - o.peak_time.time) <= steps[len(steps) // 2] or _flat_top(record, c), character


def _flat_top(record: list[Point], crest) -> bool:  # noqa: ANN001
    """find_peaks reports the middle of a flat top; we report where the water first stood there."""
    i = next(k for k, p in enumerate(record) if p.time == crest.time)
    return i + 1 < len(record) and record[i + 1].stage == crest.stage


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("name,prominence,character", RECORDS, ids=IDS)
def test_late_and_out_of_order_arrival_changes_nothing(name: str, prominence: float, character: str,
                                                       seed: int) -> None:
    record = points(name)
    params = params_for(prominence, lateness=timedelta(hours=2))
    rng = random.Random(seed)
    arrival = sorted(record, key=lambda p: p.time + timedelta(minutes=rng.uniform(0, 110)))
    assert crest_events(arrival, params) == crest_events(record, params)


def test_the_flashy_record_announces_the_rising_limb_sub_peak_then_revises_it() -> None:
    # The fault this detector fixes: a sub-peak two hours before the crest, never separated from it by a
    # recession of the prominence, was a crest of its own. Now it is announced, then revised.
    events = crest_events(points("usgs_03431040_2022-02-24.csv"), params_for(2.0))
    assert [e.kind for e in events] == [CrestEventKind.DETECTED, CrestEventKind.REVISED, CrestEventKind.CONFIRMED,
                                        CrestEventKind.DETECTED, CrestEventKind.CONFIRMED]
    first, revised = events[0].crest, events[1].crest
    assert first.stage < revised.stage and first.time < revised.time and revised.revision == 1
    assert events[1].previous == first


NETWORK = RiverNetwork({"g": gauge("g", "river", 0, 5, 6, 7, None)}, {})


def numbers(events, log: SeasonLog | None = None) -> tuple[SeasonLog | None, list[int]]:  # noqa: ANN001
    given: list[int] = []
    for e in events:
        crest = e.crest
        if e.kind is CrestEventKind.DETECTED:
            log, n = number_crest(log, "river", "g", crest.time, crest.stage, NETWORK)
        elif e.kind is CrestEventKind.REVISED:
            log, n = revise_crest(log, "river", "g", e.previous.time, crest.time, crest.stage, NETWORK)
        else:
            continue
        given.append(n.crest_no)
    return log, given


@pytest.mark.parametrize("name,prominence,character", RECORDS, ids=IDS)
def test_numbers_run_1_to_n_a_revision_keeps_its_number(name: str, prominence: float, character: str) -> None:
    events = crest_events(points(name), params_for(prominence))
    log, given = numbers(events)
    n = len(offline_crests(points(name), params_for(prominence)))
    assert sorted(set(given)) == list(range(1, n + 1)), character  # never skipped
    announced = [k for e, k in zip([e for e in events if e.kind is not CrestEventKind.CONFIRMED], given)
                 if e.kind is CrestEventKind.DETECTED]
    assert announced == list(range(1, n + 1))  # never reused
    assert log is not None and [c.crest_no for c in log.crests] == list(range(1, n + 1))
    assert [(c.time, c.stage) for c in log.crests] == [(c.time, c.stage) for c in confirmed(events)]


@pytest.mark.parametrize("name,prominence,character", RECORDS, ids=IDS)
def test_a_restart_mid_record_and_a_replay_give_the_same_crests_and_numbers(name: str, prominence: float,
                                                                            character: str) -> None:
    record = points(name)
    params = params_for(prominence)
    straight = crest_events(record, params)
    # the worker dies half-way: its detector state and river log come back from their tables (msgspec JSON)
    half = len(record) // 2
    state, before = CrestState(), []
    for p in record[:half]:
        state, out = step(state, p, params)
        before.extend(out)
    log, _ = numbers(before)
    state = msgspec.json.decode(msgspec.json.encode(state), type=CrestState)
    log = msgspec.json.decode(msgspec.json.encode(log), type=SeasonLog) if log else None
    # readings from a little before the kill are replayed (offsets not yet committed): those already final
    # are too late and dropped, those still waiting out the lateness are corrections of themselves
    too_late = sum(p.time <= state.final_time for p in record[half - 5:half])
    after: list = []
    for p in record[half - 5:]:
        state, out = step(state, p, params)
        after.extend(out)
    state, out = flush(state, params)
    after.extend(out)
    assert before + after == straight, character
    assert state.late_dropped == too_late
    _, resumed = numbers(after, log)
    assert numbers(before)[1] + resumed == numbers(straight)[1]
    # the whole record replayed again (a drill replay into the same state) announces nothing new
    replayed: list = []
    for p in record:
        state, out = step(state, p, params)
        replayed.extend(out)
    assert replayed == [] and state.late_dropped == too_late + len(record)


def test_a_drill_replay_of_the_same_record_numbers_it_the_same() -> None:
    name, prominence, _ = RECORDS[3]
    events = crest_events(points(name), params_for(prominence))
    assert numbers(events) == numbers(crest_events(points(name), params_for(prominence)))


def test_readings_must_be_in_time_order_offline() -> None:
    record = points(RECORDS[0][0])
    with pytest.raises(Exception, match="increasing time order"):
        offline_crests(list(reversed(record)), params_for(2.0))


def test_equal_tops_without_the_prominence_between_them_are_one_crest_the_earlier() -> None:
    # Real: the gap file's 22 February storm has two readings of 12.714 m3/s with a dip of 0.17 between.
    # find_peaks gives each the prominence of the pair; a hydrologist sees one crest.
    record = points("usgs_03431040_2022-02-22_gap.csv")
    y = filtered([p.stage for p in record], 3)
    reference, _ = find_peaks(y, prominence=1.0)
    ours = [p.index for p in peaks(y, 1.0)]
    twins = sorted(set(reference) - set(ours))
    assert len(twins) == 1 and y[twins[0]] == max(y[i] for i in ours if abs(i - twins[0]) < 12)
    assert len(confirmed(crest_events(record, params_for(1.0)))) == len(ours)
