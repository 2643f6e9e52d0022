"""Grid scopes: which part of the five-level grid an operator may see and command.

Subtree membership is the incident engineer's rule (:func:`stream.incidents.grid.in_subtree`):
the city code ``231100`` covers every county ``2311xx``, any lower code covers
the codes it prefixes.
"""

from __future__ import annotations

import re

from command_ui.errors import AuthError
from stream import schemas
from stream.incidents.grid import CITY_CODE, in_subtree

_SCOPE = re.compile(r"^\d{6}(\d{3}){0,3}$")


def check_scope(scope: str) -> str:
    """``scope`` if it is a grid code (6, 9, 12 or 15 digits), else :class:`AuthError` naming the value."""
    if not _SCOPE.match(scope):
        raise AuthError(f"scope must be a grid code of 6, 9, 12 or 15 digits, got {scope!r}")
    return scope


def incident_places(incident: schemas.IncidentChanged) -> list[str]:
    """The grid codes that locate an incident: its path's deepest code and its cells."""
    places = list(incident.cells)
    if incident.grid_path:
        places.append(incident.grid_path[-1])
    return places


def incident_in_scope(scope: str, incident: schemas.IncidentChanged) -> bool:
    """Visible when any of its places lies in ``scope`` (a county sees an incident that reaches it).

    An incident with no place at all (a city-wide source outage) belongs to the
    city scope only.
    """
    places = incident_places(incident) or [CITY_CODE]
    return any(in_subtree(code, scope) for code in places)


def request_in_scope(scope: str, request: schemas.RequestChanged) -> bool:
    """Visible when its place (a cell, or the county or city an address names) lies in ``scope``.

    A request placed only at the city (an address naming no county) belongs to the city scope only.
    """
    return in_subtree(request.place, scope)


def in_scope(scope: str, event: schemas.IncidentChanged | schemas.RequestChanged) -> bool:
    """The scope rule of a scoped channel's entry (an incident or a dispatched request)."""
    if isinstance(event, schemas.RequestChanged):
        return request_in_scope(scope, event)
    return incident_in_scope(scope, event)


def incident_commandable(scope: str, incident: schemas.IncidentChanged) -> bool:
    """Commandable when all of its cells (else its place) lie in ``scope``.

    The same rule the incident agent applies (``stream.incidents.actions.refusal_reason``),
    checked early so an out-of-scope command never reaches the topic.
    """
    places = list(incident.cells) or incident.grid_path[-1:] or [CITY_CODE]
    return all(in_subtree(code, scope) for code in places)
