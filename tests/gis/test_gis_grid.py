"""The grid model: arrays per cell, levels and controlling gauges."""

import numpy as np
import pytest

from gis import registry as R
from gis.grid import GridModel


@pytest.fixture(scope="module")
def model():
    return GridModel.from_registry()


def test_arrays_line_up_with_the_cells(model):
    cells = R.load_cells()
    assert model.size == len(cells)
    i = model.index_of[cells[123].cell_code]
    assert model.population[i] == cells[123].population
    assert model.codes[i] == cells[123].cell_code


def test_levels_group_cells_by_code_prefix(model):
    county = model.level("county")
    assert county.codes.tolist() == ["231102", "231123", "231124", "231181", "231182", "231183"]
    assert model.level("city").codes.tolist() == ["231100"]
    for name, n in (("county", 6), ("township", 9), ("village", 12)):
        lv = model.level(name)
        assert all(lv.codes[lv.of_cell[i]] == model.codes[i][:n] for i in range(0, model.size, 997))


def test_controlling_gauges_and_facilities(model):
    gauges = {g.gauge_id for g in R.load_gauges()}
    assert set(model.gauge_ids) <= gauges and "hlj-heihe" in model.gauge_ids
    no_gauge = model.gauge_of_cell < 0
    assert np.isnan(model.inundation_stage_m[no_gauge]).all()
    assert not np.isnan(model.inundation_stage_m[~no_gauge]).any()
    assert model.schools.sum() == sum(f.kind == "school" for f in R.load_facilities())


def test_rejects_bad_columns():
    with pytest.raises(ValueError, match="not unique"):
        GridModel.from_columns(["a", "a"], [127, 127], [50, 50], [1, 1], [True, True], [0, 0], ["urban", "urban"],
                               [None, None], [None, None])
    with pytest.raises(ValueError, match="fuel_type"):
        GridModel.from_columns(["a"], [127], [50], [1], [True], [0], ["lava"], [None], [None])
