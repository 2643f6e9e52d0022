"""The five-level grid's codes: city → county → township → village → cell.

Codes follow GB/T 2260 for the top two levels (Heihe city 231100, its counties
231102 ... 231183) and extend the parent's code below: township +3 digits,
village +3, cell +3 (15 digits). The chain of command of a place is its path
of codes from the cell up to the city.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from stream.errors import InvalidEvent

CITY_CODE = "231100"
COUNTY_CODES: tuple[str, ...] = ("231102", "231123", "231124", "231181", "231182", "231183")
LEVEL_NAMES: tuple[str, ...] = ("city", "county", "township", "village", "cell")
_LENGTHS = (6, 6, 9, 12, 15)  # code length per level, city first
_CODE = re.compile(r"^\d{6}(\d{3}){0,3}$")


def check_code(code: str, field: str = "cell_code") -> str:
    """``code`` if it is a grid code of this city, else :class:`InvalidEvent` naming it."""
    if not _CODE.match(code) or not in_subtree(code, CITY_CODE):
        raise InvalidEvent(f"{field} {code!r} is not a grid code of city {CITY_CODE}", field=field, value=code)
    if code != CITY_CODE and code[:6] not in COUNTY_CODES:
        raise InvalidEvent(f"{field} {code!r} is in no county of city {CITY_CODE}", field=field, value=code)
    return code


def level_of(code: str) -> int:
    """0 = city, 1 = county, 2 = township, 3 = village, 4 = cell."""
    return 0 if code == CITY_CODE else _LENGTHS.index(len(code), 1)


def grid_path(code: str) -> tuple[str, ...]:
    """Codes from the city down to ``code`` (inclusive)."""
    if code == CITY_CODE:
        return (CITY_CODE,)
    return (CITY_CODE,) + tuple(code[:n] for n in _LENGTHS[1:] if n <= len(code))


def in_subtree(code: str, scope: str) -> bool:
    """Whether ``code`` lies in the subtree of ``scope``.

    A prefecture-level city code (``XXYY00``) covers every code starting ``XXYY``
    (its counties are ``XXYYZZ``); a province code (``XX0000``) every ``XX...``;
    below that, the code extends its parent's.
    """
    if len(scope) == 6 and scope.endswith("0000"):
        return code[:2] == scope[:2]
    if len(scope) == 6 and scope.endswith("00"):
        return code[:4] == scope[:4]
    return code.startswith(scope)


def common_place(codes: list[str] | tuple[str, ...]) -> str:
    """The lowest grid code whose subtree holds every code (the city if none)."""
    if not codes:
        return CITY_CODE
    first, last = min(codes), max(codes)  # every code shares a prefix iff the first and last (in order) do
    shortest = min(len(code) for code in codes)
    place = CITY_CODE
    for n in _LENGTHS[1:]:
        if n > shortest or first[:n] != last[:n]:
            break
        place = first[:n]
    return place


def all_within_one(codes: Iterable[str], level: int) -> bool:
    """Whether some ``codes`` exist and all lie in one place of ``level`` (1 county, 2 township, 3 village,
    4 cell), i.e. :func:`common_place` of them is at that level or below; stops at the first code outside."""
    if level >= len(_LENGTHS):
        return False  # below the cell: nothing
    n, first = _LENGTHS[level], None
    for code in codes:
        if len(code) < n or code == CITY_CODE or (first is not None and code[:n] != first):
            return False
        first = code[:n]
    return first is not None


def chain_of_command(place: str) -> tuple[str, ...]:
    """Who answers for ``place``, first to last: the place itself, then each level up to the city."""
    return tuple(reversed(grid_path(place)))


def county_of(code: str) -> str:
    """The county code of ``code`` (the city code for the city itself)."""
    return CITY_CODE if code == CITY_CODE else code[:6]
