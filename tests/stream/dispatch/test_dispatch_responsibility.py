"""The responsibility list: the bundled Heihe sample, and a broken list refused naming line, item and field."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from stream.dispatch.responsibility import (
    BUNDLED_LIST,
    ListRefused,
    layer_counties,
    load_list,
    read_departments,
)
from stream.errors import ConfigError
from stream.incidents.grid import COUNTY_CODES
from stream.schemas import Hazard

COUNTIES = COUNTY_CODES  # the six of the bundled layer set (checked below)
LIST = load_list(counties=COUNTIES)
Rows = list[dict[str, str]]


def edited(folder: Path, change: Callable[[Rows], object], *, drop_column: str | None = None) -> Path:
    """A copy of the bundled list with ``change`` applied to its rows."""
    with BUNDLED_LIST.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        columns, rows = [c for c in reader.fieldnames or () if c != drop_column], list(reader)
    change(rows)
    path = folder / "responsibilities.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_the_bundled_list_has_225_items_for_every_county_of_the_layer_set() -> None:
    assert layer_counties() == COUNTIES
    assert len(LIST.items) == 225 and len({i.code for i in LIST.items}) == 225
    known = set(read_departments())
    for item in LIST.items:
        assert set(item.departments) == set(COUNTIES) and set(item.departments.values()) <= known
        assert item.escalation_contact in known and item.name_zh and item.name_en
        assert timedelta(0) < item.accept_within <= item.resolve_within
    categories = Counter(i.category for i in LIST.items)
    assert {"flood_levee", "river_ice", "forest_fire", "urban_management", "roads_traffic", "heating",
            "border_trade", "environment"} <= categories.keys()
    hazards = Counter(i.hazard for i in LIST.items)
    assert hazards[Hazard.FLOOD] and hazards[Hazard.FIRE] and hazards[Hazard.PUBLIC_SAFETY] and hazards[None]


def test_aihui_district_and_the_counties_differ_where_the_city_has_its_own_bodies() -> None:
    vending = LIST.for_service("street_vending")
    assert vending is not None and vending.departments["231102"] == "urban-management"
    assert {vending.departments[c] for c in COUNTIES[1:]} == {"housing"}  # counties: housing bureau
    heating = LIST.for_service("heating_cold")
    assert heating is not None and (heating.departments["231102"], heating.departments["231183"]) == (
        "heating", "housing")
    border = LIST.for_service("border_market_order")
    assert border is not None and border.departments["231123"] == "ports"  # Xunke has a border port


def test_every_service_code_belongs_to_one_item_and_the_13_first_ones_are_kept() -> None:
    codes = LIST.service_codes
    assert len(codes) == len(set(codes))
    first = {"flood_report": "water-affairs", "waterlogging": "urban-management", "levee_damage": "water-affairs",
             "fire_report": "fire-rescue", "forest_fire_report": "forestry", "smoke_report": "fire-rescue",
             "straw_burning": "ecology", "road_damage": "transport", "traffic_accident": "traffic-police",
             "public_safety": "public-security", "gas_leak": "gas", "power_outage": "power-supply",
             "manhole_cover": "urban-management"}
    assert {code: LIST.for_service(code).departments["231102"] for code in first} == first  # type: ignore[union-attr]


def _set(code: str, field: str, value: str) -> Callable[[Rows], None]:
    def change(rows: Rows) -> None:
        next(r for r in rows if r["item_code"] == code)[field] = value
    return change


def _line(code: str) -> int:
    return 2 + [i.code for i in LIST.items].index(code)


@pytest.mark.parametrize(("change", "code", "field", "words"), [
    (_set("URB-004", "department_231124", "city-planning"), "URB-004", "department_231124",
     "unknown department"),
    (_set("URB-004", "department_231124", ""), "URB-004", "department_231124",
     "county 231124 has no department for category 'urban_management'"),
    (_set("HEA-003", "accept_within", "15 minutes"), "HEA-003", "accept_within", "not an ISO 8601 duration"),
    (_set("HEA-003", "resolve_within", "P1M"), "HEA-003", "resolve_within", "years and months"),
    (_set("HEA-003", "resolve_within", "PT5M"), "HEA-003", "resolve_within", "shorter than accept_within"),
    (_set("FLD-002", "item_code", "FLD-001"), "FLD-001", "item_code", "duplicate: already on line 2"),
    (_set("FLD-002", "service_codes", "flood_report"), "FLD-002", "service_codes",
     "duplicate service code: item FLD-001 already answers it"),
    (_set("FLD-002", "hazard", "camera_fault"), "FLD-002", "hazard", "not one of flood, fire, public_safety"),
    (_set("FLD-002", "escalation_contact", "mayor"), "FLD-002", "escalation_contact", "unknown department"),
    (_set("FLD-002", "item_code", "levee-2"), "levee-2", "item_code", "not an item code"),
    (_set("FLD-002", "service_codes", "Levee Damage"), "FLD-002", "service_codes", "not a service code"),
])
def test_a_broken_list_is_refused_naming_line_item_and_field(tmp_path: Path, change: Callable[[Rows], None],
                                                             code: str, field: str, words: str) -> None:
    path = edited(tmp_path, change)
    with pytest.raises(ListRefused) as info:
        load_list(path, counties=COUNTIES)
    line = _line("FLD-002") if code in ("FLD-001", "levee-2") else _line(code)
    assert (info.value.line, info.value.field) == (line, field)
    assert f"responsibilities.csv line {line} (item {code}), field {field}: " in str(info.value)
    assert words in str(info.value)


def test_a_county_of_the_layer_set_without_a_column_is_refused(tmp_path: Path) -> None:
    path = edited(tmp_path, lambda rows: None, drop_column="department_231183")
    with pytest.raises(ListRefused, match=r"line 1, field department_231183: column missing"):
        load_list(path, counties=COUNTIES)
    with pytest.raises(ListRefused, match=r"field department_231183: not a county of the layer set"):
        load_list(BUNDLED_LIST, counties=COUNTIES[:-1])


def test_an_unreadable_list_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nothere.csv"):
        load_list(tmp_path / "nothere.csv", counties=COUNTIES)
    (tmp_path / "empty.csv").write_text(",".join(["item_code", "category", "name_zh", "name_en", "service_codes",
                                                  "hazard", "accept_within", "resolve_within",
                                                  "escalation_contact"]) + "\n")
    with pytest.raises(ListRefused, match="the list has no items"):
        load_list(tmp_path / "empty.csv", counties=())
