"""Inventory channels in the place index: pinned after the cameras whose coverage the GIS knows."""

from __future__ import annotations

from stream.incidents.places import ChannelPlaces
from tests.helpers.incidents import CELL_A, CELL_B, PLACES


def test_channels_rank_after_known_coverage_and_are_replaced_as_a_whole() -> None:
    places = ChannelPlaces(PLACES)
    assert places.cameras_covering([CELL_B]) == PLACES.cameras_covering([CELL_B])  # no channels yet
    places.set_channels({"ch-2": CELL_B, "ch-1": CELL_B, "ch-a": CELL_A})
    assert places.cameras_covering([CELL_B]) == (*PLACES.cameras_covering([CELL_B]), "ch-1", "ch-2")
    assert places.cameras_covering([CELL_A, CELL_B])[-3:] == ("ch-a", "ch-1", "ch-2")
    assert places.cells_of_camera("ch-a") == (CELL_A,) and places.cells_of_camera("cam-1") == (CELL_B, CELL_A)
    places.set_channels({"ch-1": CELL_A})
    assert "ch-2" not in places.cameras_covering([CELL_B]) and places.cells_of_camera("ch-2") == ()
    assert places.outline(CELL_A) == PLACES.outline(CELL_A) and places.neighbours(CELL_A) == PLACES.neighbours(CELL_A)
