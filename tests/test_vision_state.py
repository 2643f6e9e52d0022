"""Per-camera state: k-of-n history and serialisation (vision/analysis/state.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stream.schemas import FindingKind
from vision.analysis.errors import AnalysisError
from vision.analysis.scene import THUMB_SIZE
from vision.analysis.state import Baseline, CameraState, pack, push_history, seen_count, state_from_json, state_to_json, unpack

KINDS = list(FindingKind)


@given(st.lists(st.booleans(), max_size=40), st.integers(1, 16))
def test_history_keeps_exactly_the_last_n_samples(samples: list[bool], n: int) -> None:
    history: tuple = ()
    for seen in samples:
        history = push_history(history, {FindingKind.FIRE: seen}, {FindingKind.FIRE: n})
    assert seen_count(dict(history).get(FindingKind.FIRE, 0)) == sum(samples[-n:])


def test_unobserved_kinds_keep_their_history() -> None:
    history = push_history((), {FindingKind.FIRE: True, FindingKind.DARK: True}, {FindingKind.FIRE: 5, FindingKind.DARK: 4})
    history = push_history(history, {FindingKind.FIRE: False}, {FindingKind.FIRE: 5})
    assert dict(history) == {FindingKind.FIRE: 0b10, FindingKind.DARK: 0b1}


thumbs = st.builds(
    lambda seed: pack(np.random.default_rng(seed).uniform(0, 255, (THUMB_SIZE[1], THUMB_SIZE[0]))),
    st.integers(0, 1000),
)


@given(
    seen=st.one_of(st.none(), st.datetimes(timezones=st.just(timezone.utc))),
    gray=thumbs,
    baseline=st.one_of(st.none(), st.builds(Baseline, st.integers(1, 10**6), thumbs, thumbs, st.floats(0, 5), st.floats(0, 500), st.integers(0, 1000))),
    history=st.lists(st.tuples(st.sampled_from(KINDS), st.integers(1, 2**32 - 1)), unique_by=lambda t: t[0]),
)
def test_state_round_trips_through_json(seen, gray, baseline, history) -> None:
    state = CameraState(seen_at=seen, gray=gray, fire=gray, smoke=b"", baseline=baseline, history=tuple(history))
    assert state_from_json(state_to_json(state)) == state


def test_packed_thumbnail_is_float16_precise() -> None:
    thumb = np.linspace(0, 255, THUMB_SIZE[0] * THUMB_SIZE[1], dtype=np.float32).reshape(THUMB_SIZE[1], THUMB_SIZE[0])
    assert np.abs(unpack(pack(thumb)) - thumb).max() <= 0.125  # float16 spacing is 0.125 between 128 and 256
    assert unpack(b"") is None


def test_garbage_state_is_refused_with_the_payload() -> None:
    with pytest.raises(AnalysisError, match="does not decode"):
        state_from_json(b'{"seen_at": null}')
    with pytest.raises(AnalysisError):
        state_from_json(b"not json")


def test_state_is_small_enough_for_a_table() -> None:
    thumb = pack(np.zeros((THUMB_SIZE[1], THUMB_SIZE[0])))
    state = CameraState(datetime(2026, 5, 1, tzinfo=timezone.utc) + timedelta(seconds=1), thumb, thumb, thumb, Baseline(9, thumb, thumb, 0.5, 40.0), ())
    assert len(state_to_json(state)) < 40_000
