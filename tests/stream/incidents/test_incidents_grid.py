"""Grid codes (GB/T 2260 city and counties, +3 digits per level) and the chain of command."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stream.errors import InvalidEvent
from stream.incidents.grid import (
    all_within_one,
    chain_of_command,
    check_code,
    common_place,
    grid_path,
    in_subtree,
    level_of,
)

CELL = "231102001002003"


def test_grid_path_from_city_to_cell() -> None:
    assert grid_path(CELL) == ("231100", "231102", "231102001", "231102001002", CELL)
    assert [level_of(c) for c in grid_path(CELL)] == [0, 1, 2, 3, 4]


def test_chain_of_command_goes_cell_village_township_county_city() -> None:
    assert chain_of_command(CELL) == (CELL, "231102001002", "231102001", "231102", "231100")


def test_city_scope_covers_its_counties_which_do_not_share_its_prefix() -> None:
    assert in_subtree("231183004001001", "231100")  # Nenjiang's code does not start with 231100
    assert in_subtree(CELL, "231102001") and not in_subtree(CELL, "231123")
    assert not in_subtree("230102001001001", "231100")  # Harbin, another city of the province
    assert in_subtree("230102001001001", "230000")


def test_common_place_of_cells() -> None:
    assert common_place([CELL, "231102001002009"]) == "231102001002"
    assert common_place([CELL, "231102007001001"]) == "231102"
    assert common_place([CELL, "231123001001001"]) == "231100"
    assert common_place([]) == "231100"


def test_codes_outside_the_city_or_malformed_are_refused() -> None:
    assert check_code(CELL) == CELL
    for bad in ("2311020010020", "110101001001001", "231199001001001", "abc"):
        with pytest.raises(InvalidEvent, match=bad):
            check_code(bad)


def _paths(county: str, digits: str, length: int) -> str:
    return (county + digits)[:length]


codes = st.one_of(st.just("231100"), st.builds(_paths, st.sampled_from(["231102", "231123"]),
                                               st.sampled_from(["001001001", "001001002", "001002001", "002001001"]),
                                               st.sampled_from([6, 9, 12, 15])))


@given(st.lists(codes, max_size=6), st.integers(0, 6))
def test_a_level_is_left_above_exactly_when_the_chain_of_command_says_so(cells: list[str], level: int) -> None:
    """The escalation check that stops at the first cell outside agrees with the full chain of command."""
    assert all_within_one(cells, level + 1) == (level < len(chain_of_command(common_place(cells))) - 1)
