"""Catalogue items into grid cells, or onto the list an operator places by hand."""

from __future__ import annotations

from vision.gb28181.manscdp import CatalogItem
from vision.gb28181.placement import county_of, place

DEVICE = "23110200001180000001"


def cell_of(lon: float, lat: float) -> str | None:
    return "231102001001001" if lon < 128 else None


def test_positioned_channels_in_cells_others_listed_groups_skipped() -> None:
    items = [CatalogItem("23110200001320000001", "a", "231102", longitude=127.5, latitude=50.2),
             CatalogItem("23110200001320000002", "b", "231124001", longitude=None, latitude=None),
             CatalogItem("23110200001320000003", "c", "", longitude=130.0, latitude=50.0),
             CatalogItem("23110200002150000001", "group", "231102")]
    placed = place(DEVICE, items, "forestry", cell_of)
    assert [(c.channel_id, c.cell_code, c.department) for c in placed.placed] == [
        ("23110200001320000001", "231102001001001", "forestry")]
    assert [(c.channel_id, c.county_code, c.unplaced_reason) for c in placed.unplaced] == [
        ("23110200001320000002", "231124", "no coordinates in the catalogue"),
        ("23110200001320000003", "231102", "position outside every grid cell")]
    assert placed.skipped == ("23110200002150000001",)


def test_county_from_civil_code_else_from_the_id() -> None:
    assert county_of(CatalogItem("23118200001320000001", "x", "231183")) == "231183"
    assert county_of(CatalogItem("23118200001320000001", "x", "abc")) == "231182"
