"""A client's bounded outbox: exact below capacity, coalesced at capacity, overflow otherwise."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from command_ui.outbox import Outbox, Pushed


def test_below_capacity_everything_in_order() -> None:
    box = Outbox(3)
    assert [box.push(m, ("c", "k")) for m in (b"1", b"2", b"3")] == [Pushed.QUEUED] * 3
    assert box.pop_batch(10, 1000) == [b"1", b"2", b"3"] and not box.coalesced


def test_at_capacity_a_waiting_twin_is_replaced_in_place() -> None:
    box = Outbox(2)
    box.push(b"a1", ("c", "a"))
    box.push(b"b1", ("c", "b"))
    assert box.push(b"a2", ("c", "a")) is Pushed.COALESCED
    assert box.notice_due and box.coalesced == 1
    assert box.push(b"x", ("c", "new")) is Pushed.OVERFLOW
    assert box.push(b"snap", None) is Pushed.OVERFLOW
    assert box.pop_batch(10, 1000) == [b"a2", b"b1"]


def test_at_capacity_a_key_without_twin_takes_the_place_of_superseded_copies() -> None:
    """The writer just sent the only ``kpi``; the outbox refilled with repeats of two entries.

    The client is behind on three entries, not four, so it is coalesced, not cut off.
    """
    box = Outbox(4)
    box.push(b"kpi1", ("kpi", ""))
    assert box.pop_batch(1, 1000) == [b"kpi1"]
    for m, k in ((b"a1", "a"), (b"b1", "b"), (b"a2", "a"), (b"b2", "b")):
        assert box.push(m, ("c", k)) is Pushed.QUEUED
    assert box.push(b"kpi2", ("kpi", "")) is Pushed.COALESCED
    assert box.notice_due and box.coalesced == 2 and len(box) == 3
    assert box.push(b"c1", ("c", "c")) is Pushed.QUEUED
    assert box.push(b"d1", ("c", "d")) is Pushed.OVERFLOW
    assert box.pop_batch(10, 1000) == [b"a2", b"b2", b"kpi2", b"c1"]


def test_batches_respect_the_byte_budget_but_always_move() -> None:
    box = Outbox(10)
    for m in (b"x" * 60, b"y" * 60, b"z"):
        box.push(m)
    assert box.pop_batch(10, 100) == [b"x" * 60]
    assert box.pop_batch(10, 100) == [b"y" * 60, b"z"]


@given(st.integers(1, 8), st.lists(st.tuples(st.integers(0, 5), st.booleans()), max_size=60))
def test_the_client_ends_with_the_latest_value_of_every_key(capacity: int, script: list) -> None:
    """Whatever the interleaving of pushes and drains, without overflow the last message seen per key is the last pushed."""
    box, latest, seen, overflowed = Outbox(capacity), {}, {}, False
    for n, (key, drain) in enumerate(script):
        message = f"{key}:{n}".encode()
        if box.push(message, ("c", str(key))) is Pushed.OVERFLOW:
            overflowed = True
            break
        latest[key] = message
        if drain:
            for m in box.pop_batch(capacity, 10**6):
                seen[int(m.split(b":")[0])] = m
    for m in box.pop_batch(10**6, 10**9):
        seen[int(m.split(b":")[0])] = m
    if not overflowed:
        assert seen == latest



@given(st.integers(1, 6), st.lists(st.tuples(st.one_of(st.none(), st.integers(0, 4)), st.integers(0, 3)),
                                   max_size=80))
def test_overflow_only_when_nothing_can_be_merged(capacity: int, script: list) -> None:
    """Whatever the writer sent before, a push overflows only when ``capacity`` distinct things are unsent.

    Unsent: the latest accepted message of a key, or an unkeyed message, that no batch has carried yet.
    """
    box, latest, unkeyed, sent = Outbox(capacity), {}, set(), set()
    for n, (key, drain) in enumerate(script):
        message = f"{key}:{n}".encode()
        unsent = {m for m in latest.values() if m not in sent} | (unkeyed - sent)
        if box.push(message, None if key is None else ("c", str(key))) is Pushed.OVERFLOW:
            assert len(unsent) == capacity and (key is None or latest.get(key) in sent or key not in latest)
            return
        if key is None:
            unkeyed.add(message)
        else:
            latest[key] = message
        sent.update(box.pop_batch(drain, 10**6) if drain else [])
    sent.update(box.pop_batch(10**6, 10**9))
    assert set(latest.values()) | unkeyed <= sent
