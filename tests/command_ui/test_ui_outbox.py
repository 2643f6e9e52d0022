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
