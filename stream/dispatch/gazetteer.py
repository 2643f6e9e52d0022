"""Placing an address below its county by the township and village names it contains.

The matching rule (docs/dispatch.md, "Placing an address"):

1. Each township and village of the GIS layer set answers to its Chinese name,
   that name without its administrative suffix (镇, 乡, 街道, 街道办事处; 村,
   社区, 屯, 嘎查) when two characters or more remain, and its English name
   without a bracketed note (``(SAMPLE)``), case-insensitively.
2. Only places of the county the address names count (of the whole city when it
   names none); each place found in the address keeps the longest of its names
   found there. A place whose found name lies inside another place's longer
   found name is dropped (the township 红星 inside the village 红星村).
3. When the address names a township, only villages of a named township count.
4. The address is placed at the lowest grid code holding every remaining place
   of the deepest level found (villages, else townships): one village, that
   village; two villages of one township, the township; anything wider, or
   nothing found, leaves it where the county rule put it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from stream.dispatch.routing import Place, county_in_address
from stream.incidents.grid import CITY_CODE, common_place, in_subtree

TOWNSHIP_SUFFIXES = ("街道办事处", "街道", "镇", "乡")
VILLAGE_SUFFIXES = ("社区", "嘎查", "村", "屯")
_NOTE = re.compile(r"\s*[(（][^)）]*[)）]\s*$")


def spellings(english: str, chinese: str, suffixes: tuple[str, ...]) -> tuple[str, ...]:
    """The names an address may use for a place: Chinese, Chinese without its suffix, English (casefolded)."""
    short = next((chinese[: -len(s)] for s in suffixes if chinese.endswith(s) and len(chinese) - len(s) >= 2), "")
    found = (chinese.casefold(), short.casefold(), _NOTE.sub("", english).strip().casefold())
    return tuple(dict.fromkeys(n for n in found if n))


@dataclass(frozen=True)
class NamedPlace:
    code: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class _Found:
    code: str
    name: str


def _found(places: Iterable[NamedPlace], text: str, within: str) -> list[_Found]:
    out = []
    for place in places:
        if in_subtree(place.code, within):
            names = [n for n in place.names if n in text]
            if names:
                out.append(_Found(place.code, max(names, key=len)))
    return out


@dataclass(frozen=True)
class Gazetteer:
    townships: tuple[NamedPlace, ...]
    villages: tuple[NamedPlace, ...]

    def refine(self, address: str, county: str | None) -> str | None:
        """The township or village ``address`` names within ``county`` (None: the city), by the rule above;
        None when it names none, or none that narrows the place."""
        text = address.casefold()
        within = county or CITY_CODE
        towns, villages = _found(self.townships, text, within), _found(self.villages, text, within)
        every = towns + villages
        keep = [f for f in every if not any(f.name != g.name and f.name in g.name for g in every)]
        towns = [f for f in keep if f in towns]
        villages = [f for f in keep if f in villages]
        if towns:
            villages = [v for v in villages if any(in_subtree(v.code, t.code) for t in towns)]
        deepest = villages or towns
        if not deepest:
            return None
        place = common_place([f.code for f in deepest])
        return place if place != within and in_subtree(place, within) else None


def gazetteer(townships: Mapping[str, tuple[str, str]], villages: Mapping[str, tuple[str, str]]) -> Gazetteer:
    """From code -> (English name, Chinese name) of the township and village layers."""
    return Gazetteer(
        tuple(NamedPlace(code, spellings(en, zh, TOWNSHIP_SUFFIXES)) for code, (en, zh) in townships.items()),
        tuple(NamedPlace(code, spellings(en, zh, VILLAGE_SUFFIXES)) for code, (en, zh) in villages.items()))


def place_of_address(address: str, counties: Mapping[str, tuple[str, ...]], places: Gazetteer | None) -> Place:
    """Where an address alone puts a request: the village or township it names (``places``), else the county
    it names, else the city."""
    county = county_in_address(address, counties)
    below = places.refine(address, county) if places is not None else None
    return Place(below or county or CITY_CODE)
