"""The patch network's runtime (vision/analysis/network.py): pooling, cell boxes, loading."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from vision.analysis.errors import ModelError
from vision.analysis.network import (
    DEFAULT_NETWORK_PATH,
    INPUT_SIZE,
    NetworkCard,
    PatchNetwork,
    card_path,
    cells_box,
    input_blob,
    pool_logits,
    verdict_of,
)

CARD = NetworkCard(fire_threshold=0.5, smoke_threshold=0.6, pool_sharpness=4.0, input_width=320, input_height=192,
                   sources=("a",), held_out_fire_threshold=0.7, held_out_smoke_threshold=0.8, held_out={})


@pytest.fixture(scope="module")
def network() -> PatchNetwork:
    return PatchNetwork.load()


@settings(max_examples=50, deadline=None)
@given(arrays(np.float64, (2, 12), elements=st.floats(-20, 20)), st.floats(0.5, 16))
def test_pooled_logit_lies_between_the_mean_and_the_max_of_the_cells(cells: np.ndarray, r: float) -> None:
    pooled = pool_logits(cells, r)
    assert np.all(pooled <= cells.max(axis=1) + 1e-9) and np.all(pooled >= cells.mean(axis=1) - 1e-9)


def test_one_hot_cell_is_not_averaged_away() -> None:
    cells = np.full(60, -6.0)
    cells[17] = 6.0  # one cell in sixty: a distant plume
    assert pool_logits(cells, 4.0) > 4.9 and cells.mean() < -5


def test_cells_box_maps_grid_cells_to_original_pixels() -> None:
    mask = np.zeros((6, 10), bool)
    mask[2, 3] = mask[3, 4] = True
    assert cells_box(mask, (1280, 720)) == (384, 240, 256, 240)
    assert cells_box(np.zeros((6, 10), bool), (1280, 720)) is None
    assert cells_box(mask, (1280, 720), pad=0.5) == (320, 180, 384, 360)
    mask[0, 0] = True
    assert cells_box(mask, (1280, 720), pad=0.5)[:2] == (0, 0)  # clipped to the frame


def test_verdict_locates_the_cells_that_reach_the_threshold() -> None:
    cells = np.full((2, 6, 10), -8.0)
    cells[0, 5, 9] = 8.0  # fire in the bottom-right cell, no smoke
    verdict = verdict_of(cells, CARD, (640, 360))
    assert verdict.fire_probability > 0.5 and verdict.fire_region == (544, 270, 96, 90)  # widened by half a cell
    assert verdict.smoke_probability < 0.01 and verdict.smoke_region is None
    assert verdict_of(cells, CARD, (640, 360), reach=(0.4, 1.0)).fire_region is None  # weight keeps it below


def test_input_blob_is_normalised_rgb_at_the_input_size() -> None:
    bgr = np.zeros((180, 320, 3), np.uint8)
    bgr[..., 2] = 255  # red
    blob = input_blob(bgr)
    assert blob.shape == (1, 3, INPUT_SIZE[1], INPUT_SIZE[0])
    assert np.allclose(blob[0, 0], 128 / 128) and np.allclose(blob[0, 2], -127 / 128)


def test_shipped_network_is_under_20_mb_with_its_card() -> None:
    assert DEFAULT_NETWORK_PATH.stat().st_size < 20 * 2**20
    card = json.loads(card_path(DEFAULT_NETWORK_PATH).read_text())
    assert {"fire_threshold", "smoke_threshold", "held_out_fire_threshold", "sources", "held_out"} <= set(card)
    assert card["fire_threshold"] == card["smoke_threshold"] == 0.5  # biases shifted: see network_train.centred


def test_shipped_network_gives_a_grid_of_cell_logits(network: PatchNetwork) -> None:
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 255, (180, 320, 3), dtype=np.uint8)
    cells = network.cell_logits(frame)
    assert cells.shape == (2, INPUT_SIZE[1] // 32, INPUT_SIZE[0] // 32) and np.isfinite(cells).all()
    assert network.features(frame).shape == (1280, 6, 10)
    verdict = network.judge(frame, (640, 360))
    assert 0 <= verdict.fire_probability <= 1 and 0 <= verdict.smoke_probability <= 1


def test_missing_network_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="nope.onnx"):
        PatchNetwork.load(tmp_path / "nope.onnx")


def test_malformed_card_is_a_model_error(tmp_path: Path) -> None:
    (tmp_path / "net.onnx").write_bytes(DEFAULT_NETWORK_PATH.read_bytes())
    (tmp_path / "net.json").write_text(json.dumps({"fire_threshold": 0.5}))
    with pytest.raises(ModelError, match="malformed"):
        PatchNetwork.load(tmp_path / "net.onnx")
