"""The fusion's place index over the bundled Heihe GIS sample (registries and the cell layer)."""

from __future__ import annotations

import csv

import pytest

from gis.registry import DEFAULT_DATA_DIR
from stream.incidents.gis_places import GisPlaces, load_gis_places
from stream.incidents.places import adjacent


@pytest.fixture(scope="module")
def places() -> GisPlaces:
    return load_gis_places()


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with open(DEFAULT_DATA_DIR / "cells_sample.csv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_each_cells_registry_point_lies_in_that_cell(places: GisPlaces, rows: list[dict[str, str]]) -> None:
    for row in rows[:: len(rows) // 50]:  # the registry documents lon/lat as a point inside the cell
        assert places.cell_at(float(row["lon"]), float(row["lat"])) == row["cell_code"]
        ring = places.outline(row["cell_code"])
        assert ring is not None and ring[0] == ring[-1] and len(ring) >= 4


def test_gauge_evidence_covers_the_cells_flooded_at_its_stage(places: GisPlaces,
                                                              rows: list[dict[str, str]]) -> None:
    mine = [r for r in rows if r["gauge_id"] == "hlj-heihe" and r["inundation_stage_m"]]
    lowest = min(float(r["inundation_stage_m"]) for r in mine)
    stage = lowest + 0.05
    expected = {r["cell_code"] for r in mine if float(r["inundation_stage_m"]) <= stage}
    got = places.cells_of_gauge("hlj-heihe", stage)
    assert set(got) == expected or (len(got) == 64 and set(got) < expected)
    below = places.cells_of_gauge("hlj-heihe", lowest - 1.0)
    assert len(below) == 1 and below[0].startswith("2311")  # the gauge's own (or nearest) cell
    assert places.cells_of_gauge("hlj-mohe", 99.0) == ()  # Mohe is upstream, outside the city


def test_cameras_are_ranked_by_how_much_of_the_area_they_see(places: GisPlaces) -> None:
    cell, views = next((c, v) for c, v in places.coverage.by_cell.items() if len(v) >= 2)
    assert places.cameras_covering([cell])[0] == views[0].camera_id
    camera = views[0].camera_id
    assert cell in places.cells_of_camera(camera)


def test_neighbours_share_a_boundary_both_ways(places: GisPlaces, rows: list[dict[str, str]]) -> None:
    for row in rows[:: len(rows) // 20]:
        for other in places.neighbours(row["cell_code"]):
            assert row["cell_code"] in places.neighbours(other)
            assert adjacent(places, row["cell_code"], other)


def test_names_come_from_the_layers(places: GisPlaces) -> None:
    assert places.name("231102") == "爱辉区"  # Aihui district, GB/T 2260 231102
    assert places.name("231183") == "嫩江市"
