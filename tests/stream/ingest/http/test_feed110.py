"""The 110 feed's front door: placing a call, routing it by keyword and place (the HTTP path end to end is in
tests/stream/agents/test_dispatch_agent.py)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from gis.registry import load_cells
from stream.dispatch.calls import Call
from stream.dispatch.keywords import load_keywords
from stream.dispatch.responsibility import load_list
from stream.dispatch.routing import Place
from stream.ingest.http.feed110 import answer, place_call, routed_call
from stream.ingest.http.open311 import load_cell_index, load_county_names, load_gazetteer

LIST = load_list()
KEYWORDS = load_keywords(None, LIST)
T = datetime(2026, 1, 10, 8, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def cells():
    return load_cell_index()


def call(**fields: object) -> Call:
    return Call(call_id="c1", time=T, **fields)  # type: ignore[arg-type]


def test_a_call_is_placed_by_its_point_else_its_address(cells) -> None:
    names = load_county_names()
    cell = load_cells()[0]
    assert place_call(call(lat=cell.lat, lon=cell.lon), cells, names) == Place(cell.cell_code)
    assert place_call(call(lat=50.29, lon=127.53, address="孙吴县"), cells, names) == Place("231124")  # in Russia
    assert place_call(call(address="嫩江市某小区"), None, names) == Place("231183")
    assert place_call(call(address="不知道在哪"), None, names) == Place("231100")
    # by the township and village names of the GIS layers (docs/dispatch.md, "Placing an address")
    places = load_gazetteer()
    assert place_call(call(address="孙吴县样例村003002屯东头"), None, names, places) == Place("231124003002")
    assert place_call(call(address="嫩江市某小区"), None, names, places) == Place("231183")  # unmatched: the county


def test_a_call_is_routed_by_keyword_and_county_or_queued() -> None:
    event, routing = routed_call(call(address="嫩江市", category="暖气不热"), KEYWORDS, LIST, Place("231183"))
    assert (event.item_code, routing.department, event.cell_code) == ("HEA-001", "housing", "231183")
    assert answer(event, routing)["queue"] is None and answer(event, routing)["call_id"] == "c1"
    event, routing = routed_call(call(address="x", category="咨询", text="户口"), KEYWORDS, LIST, Place("231183"))
    assert (event.item_code, routing.department, answer(event, routing)["queue"]) == (None, None, "dispatcher")
    assert routing.queue_reason == "no responsibility item matches the request"
