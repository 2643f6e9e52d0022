"""Grid scopes on GB/T 2260 codes (DOMAIN.md: Heihe 231100; Aihui 231102, Xunke 231123, ...)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from command_ui.errors import AuthError
from command_ui.scope import check_scope, in_scope, incident_commandable, incident_in_scope, request_in_scope
from stream import schemas

AIHUI_CELL, XUNKE_CELL = "231102001001001", "231123001001001"


def incident(cells: list[str], path: list[str] | None = None) -> schemas.IncidentChanged:
    return schemas.IncidentChanged(source="t", event_time=datetime(2026, 7, 1, tzinfo=timezone.utc),
                                   incident_id="i", hazard=schemas.Hazard.FLOOD, colour=schemas.Colour.RED,
                                   state=schemas.IncidentState.RAISED, title="t", cells=cells, grid_path=path or [])


@pytest.mark.parametrize("scope, cells, visible", [
    ("231100", [AIHUI_CELL], True),          # the city sees every county
    ("231100", [XUNKE_CELL], True),
    ("231102", [AIHUI_CELL], True),          # a county sees its own
    ("231102", [XUNKE_CELL], False),         # and not its neighbour's
    ("231102001", [AIHUI_CELL], True),       # a township sees its cells
    ("231102002", [AIHUI_CELL], False),
    ("231102", [AIHUI_CELL, XUNKE_CELL], True),  # an incident reaching two counties shows in both
    ("231123", [AIHUI_CELL, XUNKE_CELL], True),
])
def test_visibility_follows_the_grid_subtree(scope: str, cells: list[str], visible: bool) -> None:
    assert incident_in_scope(scope, incident(cells)) is visible


def test_an_incident_without_a_place_belongs_to_the_city() -> None:
    assert incident_in_scope("231100", incident([]))
    assert not incident_in_scope("231102", incident([]))
    assert incident_in_scope("231102", incident([], ["231100", "231102"]))


def test_commands_need_every_cell_in_scope() -> None:
    both = incident([AIHUI_CELL, XUNKE_CELL])
    assert not incident_commandable("231102", both)
    assert incident_commandable("231100", both)
    assert incident_commandable("231102", incident([AIHUI_CELL]))


@pytest.mark.parametrize("scope", ["", "2311", "231100x", "2311000", "../231100", "231100001001001001"])
def test_malformed_scopes_are_refused_by_value(scope: str) -> None:
    with pytest.raises(AuthError, match="scope must be a grid code"):
        check_scope(scope)


@pytest.mark.parametrize("scope, place, visible", [
    ("231100", AIHUI_CELL, True),
    ("231102", AIHUI_CELL, True),
    ("231102", XUNKE_CELL, False),
    ("231102001", AIHUI_CELL, True),
    ("231102", "231102", True),      # a 110 call placed at the county its address names
    ("231102001", "231102", False),  # is not any one township's
    ("231100", "231100", True),      # an address naming no county: the city's only
    ("231102", "231100", False),
])
def test_a_request_is_seen_where_it_is_placed(scope: str, place: str, visible: bool) -> None:
    request = schemas.RequestChanged(source="t", event_time=datetime(2026, 1, 10, tzinfo=timezone.utc),
                                     request_id="311-1", status=schemas.RequestStatus.RECEIVED, change="received",
                                     channel="open311", service_code="heating_cold", place=place, responsible=place,
                                     received_at=datetime(2026, 1, 10, tzinfo=timezone.utc))
    assert request_in_scope(scope, request) is visible
    assert in_scope(scope, request) is visible
