"""The 110 feed's call format: checked call by call, each refusal naming its index, field and value."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import orjson
import pytest

from stream.dispatch.calls import (
    UNMAPPED_SERVICE,
    Call,
    Refused,
    call_event,
    decode_calls,
)
from stream.dispatch.routing import Place, route
from stream.errors import InvalidEvent
from stream.schemas import Hazard
from tests.stream.dispatch.test_dispatch_responsibility import LIST

NOW = datetime(2026, 1, 10, 8, tzinfo=timezone.utc)
FUTURE = timedelta(minutes=5)
GOOD = {"call_id": "20260110-0001", "time": "2026-01-10T15:55:00+08:00", "lat": 50.2452, "lon": 127.5283,
        "address": "爱辉区海兰街12号", "category": "暖气不热", "text": "家里只有十四度"}


def test_one_call_or_an_array() -> None:
    [one] = decode_calls(orjson.dumps(GOOD), NOW, FUTURE)
    assert isinstance(one, Call) and one.request_id == "110-20260110-0001"
    many = decode_calls(orjson.dumps([GOOD, {**GOOD, "call_id": "x2", "lat": None, "lon": None}]), NOW, FUTURE)
    assert [c.call_id for c in many if isinstance(c, Call)] == ["20260110-0001", "x2"]


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"lat": None, "lon": None, "address": " "}, "address", "no location and no address"),
    ({"lat": None}, "lat", "lat and lon come together"),
    ({"time": "2026-01-10T15:55:00"}, "time", ""),
    ({"time": "2026-01-10T16:30:00+08:00"}, "time", "in the future"),
    ({"lat": 95.0}, "lat", ""),
    ({"call_id": "bad id!"}, "call_id", ""),
    ({"caller_phone": "138..."}, None, "caller_phone"),
    ({"text": "x" * 4001}, "text", ""),
])
def test_a_bad_call_is_refused_alone_naming_the_field(change: dict[str, object], field: str | None,
                                                       words: str) -> None:
    bad = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    first, refused = decode_calls(orjson.dumps([GOOD, bad]), NOW, FUTURE)
    assert isinstance(first, Call) and isinstance(refused, Refused) and refused.index == 1
    assert words in refused.error.reason
    if field:
        assert refused.error.field == field


@pytest.mark.parametrize(("body", "field"), [(b"{nope", "body"), (b'"a call"', "body"), (b"[]", "calls"),
                                             (orjson.dumps([GOOD] * 501), "calls")])
def test_an_unusable_body_is_refused_whole(body: bytes, field: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        decode_calls(body, NOW, FUTURE)
    assert info.value.field == field


def test_a_call_becomes_a_routed_grid_event_and_an_unmapped_one_waits() -> None:
    [call] = decode_calls(orjson.dumps(GOOD), NOW, FUTURE)
    assert isinstance(call, Call)
    item, place = LIST.item("HEA-001"), Place("231102001001001")
    event = call_event(call, item, place, route(LIST, item, place, call.time))
    assert (event.source, event.report_id, event.service_code, event.item_code, event.department) == (
        "110", "110-20260110-0001", "heating_cold", "HEA-001", "heating")
    assert (event.cell_code, event.hazard, event.description) == (
        "231102001001001", Hazard.OTHER, "暖气不热: 家里只有十四度")
    unmapped = call_event(call, None, Place("231100"), route(LIST, None, Place("231100"), call.time))
    assert (unmapped.service_code, unmapped.item_code, unmapped.cell_code, unmapped.department) == (
        UNMAPPED_SERVICE, None, None, None)
