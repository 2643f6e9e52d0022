"""Placing a request on the five-level grid and routing it by (item, place)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from stream.dispatch.routing import (
    Place,
    county_in_address,
    county_names,
    place_of,
    route,
)
from stream.errors import InvalidEvent
from tests.stream.dispatch.test_dispatch_responsibility import LIST

T0 = datetime(2026, 7, 20, 8, tzinfo=timezone.utc)
NAMES = county_names({"231102": ("Aihui", "爱辉区"), "231123": ("Xunke", "逊克县"), "231124": ("Sunwu", "孙吴县"),
                      "231181": ("Bei'an", "北安市"), "231182": ("Wudalianchi", "五大连池市"),
                      "231183": ("Nenjiang", "嫩江市")})


def test_a_cell_has_its_five_level_path() -> None:
    place = place_of("231102001002003")
    assert place.path == ("231100", "231102", "231102001", "231102001002", "231102001002003")
    assert place.county == "231102"
    assert place_of(None).path == ("231100",) and place_of(None).county is None
    with pytest.raises(InvalidEvent, match="231199001001001"):
        place_of("231199001001001")


@pytest.mark.parametrize(("address", "county"), [
    ("爱辉区西兴街道海兰街12号", "231102"), ("黑河市爱辉区", "231102"), ("孙吴县城东", "231124"),
    ("五大连池风景区药泉山", "231182"), ("12 Xingan St, Xunke", "231123"), ("北安市兆麟街", "231181"),
    ("黑河市中央街", None), ("爱辉区到孙吴县之间的公路", None), ("", None),
])
def test_an_address_is_placed_at_the_one_county_it_names(address: str, county: str | None) -> None:
    assert county_in_address(address, NAMES) == county


def test_route_gives_the_county_department_and_deadlines_from_the_receipt() -> None:
    item = LIST.for_service("street_vending")
    aihui = route(LIST, item, Place("231102001001001"), T0)
    nenjiang = route(LIST, item, Place("231183"), T0)  # a call placed by its address only
    assert (aihui.department, nenjiang.department) == ("urban-management", "housing")
    assert (aihui.accept_by, aihui.resolve_by) == (T0 + timedelta(hours=2), T0 + timedelta(days=3))


def test_no_item_or_no_county_goes_to_the_dispatcher_saying_why() -> None:
    assert route(LIST, None, Place("231102001001001"), T0).queue_reason == \
        "no responsibility item matches the request"
    nowhere = route(LIST, LIST.for_service("street_vending"), Place("231100"), T0)
    assert (nowhere.department, nowhere.accept_by, nowhere.queue_reason) == (
        None, None, "the place is not known beyond the city")
