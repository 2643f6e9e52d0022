"""Placing an address below its county by the township and village names it contains (the documented rule)."""

from __future__ import annotations

import pytest

from stream.dispatch.gazetteer import (
    TOWNSHIP_SUFFIXES,
    Gazetteer,
    gazetteer,
    place_of_address,
    spellings,
)
from stream.dispatch.routing import Place
from stream.ingest.http.open311 import load_county_names, load_gazetteer

COUNTIES = load_county_names()


@pytest.fixture(scope="module")
def sample() -> Gazetteer:
    return load_gazetteer()  # the bundled Heihe layer set: 85 townships, 1,248 villages


def test_a_place_answers_to_its_names_with_and_without_suffix() -> None:
    assert spellings("Hongxing Town (SAMPLE)", "红星镇", TOWNSHIP_SUFFIXES) == ("红星镇", "红星", "hongxing town")
    assert spellings("Xi Town", "西镇", TOWNSHIP_SUFFIXES) == ("西镇", "xi town")  # one character left: no short form
    assert spellings("", "西岗子街道办事处", TOWNSHIP_SUFFIXES) == ("西岗子街道办事处", "西岗子")


@pytest.mark.parametrize("address, place", [
    ("爱辉区Aihui样例街道001样例社区001002号楼", "231102001002"),   # a village of the county named
    ("爱辉区样例社区001002", "231102001002"),                     # the village alone
    ("Aihui street 002, Aihui district", "231102002"),           # a township, in English
    ("孙吴县样例村001001与样例村001002之间", "231124001"),          # two villages of one township: the township
    ("孙吴县样例村005001", "231124005001"),                        # a name every county has, in the county named
    ("样例村005001", "231100"),                                   # ... in no county named: six places, the city
    ("孙吴县样例村001001到样例村002001", "231124"),                 # two townships apart: the county
    ("爱辉区某小区3号楼", "231102"),                               # nothing found: the county
    ("逊克县样例社区001002", "231123"),                            # a place of another county does not count
])
def test_the_sample_places_addresses(sample: Gazetteer, address: str, place: str) -> None:
    assert place_of_address(address, COUNTIES, sample) == Place(place)


def test_without_names_an_address_stays_at_its_county() -> None:
    assert place_of_address("爱辉区样例社区001002", COUNTIES, None) == Place("231102")


def test_a_name_inside_a_longer_one_and_a_named_township_decide() -> None:
    places = gazetteer({"231102001": ("Hongxing", "红星镇"), "231102002": ("Dongfeng", "东风乡")},
                       {"231102001001": ("", "红星村"), "231102001002": ("", "东风村"),
                        "231102002001": ("", "东风村"), "231102002002": ("", "前进村")})
    # 红星 (the township's short name) lies inside 红星村: the village
    assert places.refine("爱辉区红星村", "231102") == "231102001001"
    # 东风村 is in both townships; the township named decides
    assert places.refine("爱辉区红星镇东风村", "231102") == "231102001002"
    # without a township: 东风村 in both, and 东风 (the other township's short name) lies inside it: the county
    assert places.refine("爱辉区东风村", "231102") is None
    # a village outside the township named does not count: the township
    assert places.refine("爱辉区红星镇前进村", "231102") == "231102001"
