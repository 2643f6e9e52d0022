"""The Open311 service list is generated from the responsibility list: the bundled CSV is current, and an
edited copy of the list changes the catalogue and the routing with no code change."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from stream.dispatch.catalogue import SERVICES_CSV, services, services_csv
from stream.dispatch.responsibility import load_list
from stream.dispatch.routing import Place, route
from stream.incidents.grid import COUNTY_CODES
from stream.ingest.http.open311 import load_services
from tests.stream.dispatch.test_dispatch_responsibility import LIST, edited

T0 = datetime(2026, 7, 20, 8, tzinfo=timezone.utc)
SUNWU_CELL = "231124001001001"


def test_the_bundled_services_csv_is_generated_from_the_bundled_list() -> None:
    assert SERVICES_CSV.read_text(encoding="utf-8") == services_csv(LIST), \
        "regenerate: python -m stream.dispatch.catalogue > stream/ingest/data/open311_services.csv"


def test_one_service_per_service_code_naming_its_item_and_the_seat_department() -> None:
    catalogue = services(LIST)
    assert len(catalogue) == len(LIST.service_codes) >= 225
    assert catalogue["snow_on_road"].item is catalogue["snow_removal"].item  # an item answering two codes
    heating = catalogue["heating_cold"]
    assert (heating.item.code, heating.department, heating.hazard) == ("HEA-001", "heating", None)
    assert "accepted within PT2H, resolved within P1D" in heating.description


def test_an_edited_copy_of_the_list_routes_differently_without_code_change(tmp_path: Path) -> None:
    def change(rows: list[dict[str, str]]) -> None:
        row = next(r for r in rows if r["item_code"] == "HEA-001")
        row["department_231124"] = "civil-affairs"  # Sunwu: the civil affairs bureau takes cold flats
        row["accept_within"] = "PT20M"
        row["service_codes"] = "heating_cold;cold_flat"

    before = route(LIST, LIST.for_service("heating_cold"), Place(SUNWU_CELL), T0)
    copy = load_list(edited(tmp_path, change), counties=COUNTY_CODES)
    catalogue = load_services(copy)
    after = route(copy, catalogue["cold_flat"].item, Place(SUNWU_CELL), T0)
    assert (before.department, before.accept_by) == ("housing", datetime(2026, 7, 20, 10, tzinfo=timezone.utc))
    assert (after.department, after.accept_by) == ("civil-affairs", datetime(2026, 7, 20, 8, 20, tzinfo=timezone.utc))
    assert "cold_flat" in services_csv(copy) and "cold_flat" not in services_csv(LIST)
