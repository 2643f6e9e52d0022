"""Where a request is and who must handle it by when: place → five-level path; (item, place) → department.

A request is placed at its grid cell (15 digits) when it has a location, else at
the village, township or county its address names (a 110 call giving only
``爱辉区西兴路…``; :mod:`stream.dispatch.gazetteer`), else at the city. The department comes from the item's row for the place's county;
a request with no item, or placed at no county, waits in the dispatcher queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from stream.dispatch.responsibility import Item, ResponsibilityList
from stream.incidents.grid import CITY_CODE, check_code, county_of, grid_path

DISPATCHER = "grid-office"
"""The department that runs the dispatch platform (网格化管理办公室) and works the dispatcher queue."""
_ADMIN_SUFFIXES = ("区", "县", "市")


@dataclass(frozen=True)
class Place:
    code: str
    """The lowest grid code known: a cell, else the village, township or county of an address, else the city."""

    @property
    def path(self) -> tuple[str, ...]:
        """City first, down to ``code``."""
        return grid_path(self.code)

    @property
    def county(self) -> str | None:
        return None if self.code == CITY_CODE else county_of(self.code)


@dataclass(frozen=True)
class Routing:
    department: str | None
    """None: the dispatcher queue (``queue_reason`` says why)."""
    accept_by: datetime | None
    resolve_by: datetime | None
    queue_reason: str | None = None


def place_of(cell_code: str | None) -> Place:
    """A grid code (checked) as a place; none at all is the city."""
    return Place(check_code(cell_code) if cell_code else CITY_CODE)


def county_names(rows: Mapping[str, tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    """County code -> the names an address may use: ``爱辉区`` and ``爱辉``, ``Aihui`` (from code -> (en, zh))."""
    names = {}
    for code, (english, chinese) in rows.items():
        short = chinese[:-1] if chinese.endswith(_ADMIN_SUFFIXES) and len(chinese) > 2 else chinese
        names[code] = tuple(dict.fromkeys(n for n in (chinese, short, english.casefold()) if n))
    return names


def county_in_address(address: str, names: Mapping[str, tuple[str, ...]]) -> str | None:
    """The one county an address names; None if it names none or several (the dispatcher decides)."""
    text = address.casefold()
    found = {code for code, spellings in names.items() if any(n in text for n in spellings)}
    return found.pop() if len(found) == 1 else None


def route(responsibilities: ResponsibilityList, item: Item | None, place: Place, received: datetime) -> Routing:
    """The department answering for ``item`` at ``place``, with the deadlines from ``received``."""
    if item is None:
        return Routing(None, None, None, "no responsibility item matches the request")
    county = place.county
    department = item.departments.get(county) if county else None
    if department is None:
        why = "the place is not known beyond the city" if county is None else \
            f"county {county} is not in {responsibilities.source}"
        return Routing(None, None, None, why)
    return Routing(department, received + item.accept_within, received + item.resolve_within)
