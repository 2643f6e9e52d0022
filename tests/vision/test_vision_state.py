"""Per-camera state: k-of-n history and serialisation (vision/analysis/state.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stream.schemas import FindingKind
from vision.analysis.errors import AnalysisError
from vision.analysis.scene import BASELINE_SIZE, THUMB_SIZE
from vision.analysis.state import (
    Baseline,
    CameraState,
    pack,
    pack_exact,
    pack_share,
    push_history,
    seen_count,
    state_from_json,
    state_to_json,
    unpack,
    unpack_exact,
    unpack_share,
)

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
shares = st.builds(
    lambda seed: pack_share(np.random.default_rng(seed).uniform(0, 1, (THUMB_SIZE[1], THUMB_SIZE[0]))),
    st.integers(0, 1000),
)
exact = st.builds(
    lambda seed: pack_exact(np.random.default_rng(seed).uniform(0, 255, (BASELINE_SIZE[1], BASELINE_SIZE[0]))),
    st.integers(0, 1000),
)
colours = st.builds(
    lambda seed: pack_exact(np.random.default_rng(seed).uniform(0, 255, (BASELINE_SIZE[1], BASELINE_SIZE[0], 3))),
    st.integers(0, 1000),
)


@given(
    seen=st.one_of(st.none(), st.datetimes(timezones=st.just(timezone.utc))),
    gray=thumbs,
    share=shares,
    baseline=st.one_of(
        st.none(),
        st.builds(Baseline, st.integers(1, 10**6), exact, exact, st.floats(0, 5), st.floats(0, 500), st.integers(0, 1000), colours),
    ),
    history=st.lists(st.tuples(st.sampled_from(KINDS), st.integers(1, 2**32 - 1)), unique_by=lambda t: t[0]),
    luma=st.one_of(st.none(), st.floats(0, 255)),
    dark_sudden=st.booleans(),
)
@settings(deadline=None)
def test_state_round_trips_through_json(seen, gray, share, baseline, history, luma, dark_sudden) -> None:
    state = CameraState(
        seen_at=seen, gray=gray, fire=share, smoke=b"", baseline=baseline, history=tuple(history),
        luma=luma, dark_since=seen, dark_sudden=dark_sudden,
    )
    assert state_from_json(state_to_json(state)) == state


def test_packed_thumbnails_keep_the_precision_each_use_needs() -> None:
    thumb = np.linspace(0, 255, THUMB_SIZE[0] * THUMB_SIZE[1], dtype=np.float32).reshape(THUMB_SIZE[1], THUMB_SIZE[0])
    assert np.abs(unpack(pack(thumb)) - thumb).max() <= 0.125  # float16 spacing is 0.125 between 128 and 256
    share = thumb / 255.0
    assert np.abs(unpack_share(pack_share(share)) - share).max() <= 0.5 / 255
    base = np.random.default_rng(0).uniform(0, 255, (BASELINE_SIZE[1], BASELINE_SIZE[0], 3)).astype(np.float32)
    assert np.array_equal(unpack_exact(pack_exact(base), channels=3), base)
    assert unpack(b"") is None and unpack_share(b"") is None and unpack_exact(b"") is None


def test_a_slow_ema_step_survives_storage() -> None:
    """With tau = 30 min and a sample every 10 s the EMA weight is 0.0055: a 5-level change moves the
    baseline by 0.028 per sample, below float16's resolution near 200 (0.125) but kept by float32."""
    base = np.full((BASELINE_SIZE[1], BASELINE_SIZE[0]), 200.0, np.float32)
    stepped = unpack_exact(pack_exact(0.9945 * base + 0.0055 * (base + 5.0)))
    assert float(stepped.mean()) > 200.02


def test_garbage_state_is_refused_with_the_payload() -> None:
    with pytest.raises(AnalysisError, match="does not decode"):
        state_from_json(b'{"seen_at": null}')
    with pytest.raises(AnalysisError):
        state_from_json(b"not json")


def test_a_state_of_other_thumbnail_sizes_is_refused() -> None:
    """A copy written by a version with other thumbnail sizes decodes as JSON but cannot be compared."""
    small = pack(np.zeros((THUMB_SIZE[1] // 2, THUMB_SIZE[0] // 2)))
    with pytest.raises(AnalysisError, match="field gray: .* bytes, expected"):
        state_from_json(state_to_json(CameraState(gray=small)))
    base = pack_exact(np.zeros((BASELINE_SIZE[1], BASELINE_SIZE[0])))
    baseline = Baseline(9, base, base, 0.5, 40.0, 0, base)  # colour needs three channels
    with pytest.raises(AnalysisError, match="field baseline.colour"):
        state_from_json(state_to_json(CameraState(baseline=baseline)))


def test_state_is_small_enough_for_a_table() -> None:
    gray = pack(np.zeros((THUMB_SIZE[1], THUMB_SIZE[0])))
    share = pack_share(np.zeros((THUMB_SIZE[1], THUMB_SIZE[0])))
    base = pack_exact(np.zeros((BASELINE_SIZE[1], BASELINE_SIZE[0])))
    colour = pack_exact(np.zeros((BASELINE_SIZE[1], BASELINE_SIZE[0], 3)))
    baseline = Baseline(9, base, base, 0.5, 40.0, 0, colour)
    state = CameraState(datetime(2026, 5, 1, tzinfo=timezone.utc) + timedelta(seconds=1), gray, share, share, baseline, ())
    assert len(state_to_json(state)) < 30_000
