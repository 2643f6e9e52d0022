"""The bounded dedupe window: exact repeats dropped, bounds held."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stream.ingest.dedupe import DedupeWindow


def test_exact_repeat_is_a_duplicate_and_any_difference_is_not() -> None:
    window = DedupeWindow(window_s=60, max_keys=1000)
    assert window.first_time("src", "s1", 100.0)
    assert not window.first_time("src", "s1", 100.0)
    assert not window.first_time("src", "s1", 100.0)  # idempotent: still a duplicate
    assert window.first_time("src", "s1", 101.0)
    assert window.first_time("src", "s2", 100.0)
    assert window.first_time("other", "s1", 100.0)


def test_keys_older_than_the_window_are_forgotten() -> None:
    window = DedupeWindow(window_s=60, max_keys=1000)
    window.first_time("src", "s1", 0.0)
    window.first_time("src", "s1", 60.0)
    assert not window.first_time("src", "s1", 0.0)  # exactly at the horizon: still remembered
    window.first_time("src", "s1", 61.0)
    assert window.first_time("src", "s1", 0.0)  # beyond the horizon: forgotten (documented limit)


def test_invalid_bounds_are_refused() -> None:
    with pytest.raises(ValueError, match="window_s=0"):
        DedupeWindow(window_s=0, max_keys=10)


@given(st.lists(st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 20), st.integers(0, 200)), max_size=300),
       st.integers(1, 50))
def test_behaves_as_a_fifo_of_the_last_max_keys_new_keys(keys: list[tuple[str, int, int]], max_keys: int) -> None:
    window = DedupeWindow(window_s=1e9, max_keys=max_keys)  # time never evicts: only the count bound
    model: list[tuple[str, str, float]] = []
    for source, ident, t in keys:
        key = (source, str(ident), float(t))
        assert window.first_time(*key) == (key not in model)
        if key not in model:
            model = (model + [key])[-max_keys:]
        assert len(window) == len(model) <= max_keys
        assert not window.first_time(*key)  # the key just offered is always remembered


def test_remember_keeps_a_small_window_of_times() -> None:
    from stream.ingest.dedupe import remember

    times = remember((), 100.0, 60.0)
    assert times == (100.0,)
    assert remember(times, 100.0, 60.0) is None
    times = remember(times, 130.0, 60.0)
    assert times == (100.0, 130.0)
    assert remember(times, 170.0, 60.0) == (130.0, 170.0)  # 100 fell out of the window
    assert remember((130.0, 170.0), 20.0, 60.0) == (130.0, 170.0)  # too old to keep, but not a known repeat
