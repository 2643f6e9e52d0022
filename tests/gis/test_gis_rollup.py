"""Roll-up over the five levels: worst colour and counts, never hiding a red cell."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gis.grid import GridModel
from gis.rollup import rollup
from stream.schemas import Colour

MODEL = GridModel.from_registry()


def test_counts_and_worst_for_a_known_colouring():
    colour = np.zeros(MODEL.size, dtype=np.int8)
    heihe = np.char.startswith(MODEL.codes, "231102001")
    colour[heihe] = 2  # yellow across one street
    colour[MODEL.index_of[MODEL.codes[heihe][0]]] = 4  # and one red cell in it
    r = rollup(MODEL, colour)
    worst, counts = r["county"].summary("231102")
    assert worst is Colour.RED and counts[Colour.RED] == 1 and counts[Colour.YELLOW] == heihe.sum() - 1
    assert r["county"].summary("231123")[0] is Colour.GREEN
    city_worst, city_counts = r["city"].summary("231100")
    assert city_worst is Colour.RED and sum(city_counts.values()) == MODEL.size
    with pytest.raises(KeyError):
        r["county"].summary("999999")


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 50))
def test_rollup_never_hides_a_red_cell(seed, n_red):
    rng = np.random.default_rng(seed)
    colour = rng.integers(0, 4, MODEL.size).astype(np.int8)  # green..orange
    red = rng.choice(MODEL.size, n_red, replace=False)
    colour[red] = 4
    r = rollup(MODEL, colour)
    for lv in MODEL.levels:
        units_with_red = set(lv.of_cell[red].tolist())
        assert all(r[lv.name].worst[u] == 4 for u in units_with_red)
        assert int(r[lv.name].counts[:, 4].sum()) == n_red
        assert int(r[lv.name].counts.sum()) == MODEL.size
        assert (r[lv.name].worst == 4).sum() == len(units_with_red)


def test_wrong_length_refused():
    with pytest.raises(ValueError, match="one colour per cell"):
        rollup(MODEL, [0, 1, 2])
