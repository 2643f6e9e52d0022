"""CAP 1.2 output, validated by the OASIS schema (CAP-v1.2.xsd) with xmlschema.

The validator itself is proven on the four example messages of the CAP 1.2
specification, Appendix A (OASIS Standard, 1 July 2010), shipped in shared/cap/examples.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import msgspec
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from stream.incidents.actions import command
from stream.incidents.cap import (
    CAP_NS,
    MAX_POINTS,
    MAX_POLYGONS,
    InvalidCap,
    area_polygons,
    cap_feed,
    cap_xml,
    feed_alerts,
    validate_cap,
)
from stream.incidents.fusion import observe
from stream.incidents.places import TablePlaces
from stream.incidents.state import Area, to_event
from stream.schemas import Colour, CommandAction, Hazard, IncidentChanged, IncidentState
from tests.conftest import REPO_ROOT
from tests.helpers.incidents import (
    CELL_A,
    CELL_B,
    PLACES,
    POLICY,
    at,
    cmd,
    observed,
    recipients,
    square,
)

EXAMPLES = sorted((REPO_ROOT.parent / "shared" / "cap" / "examples").glob("*.xml"))
NS = {"cap": CAP_NS}


def render(incident: IncidentChanged) -> str:
    return cap_xml(incident, sender=POLICY.cap_sender, zone=POLICY.zone, outlines=PLACES.outline,
                   place_name=PLACES.name)


def lifecycle() -> list[IncidentChanged]:
    """Raised, extended (an Update), acknowledged (no CAP), resolved (the Cancel): snapshots as published."""
    area = Area(area_key="231102/flood")
    published = []
    for item in (observed(0, "gauge:x", Colour.YELLOW, [CELL_A], Hazard.FLOOD, "231102/flood"),
                 observed(5, "camera:y", Colour.ORANGE, [CELL_B], Hazard.FLOOD, "231102/flood")):
        outcome = observe(area, item, PLACES, POLICY, recipients)
        area, published = outcome.area, published + list(outcome.changes)
    incident_id = area.incidents[0].incident_id
    for action in (CommandAction.ACKNOWLEDGE, CommandAction.RESOLVE):
        outcome = command(area, cmd(10, incident_id, action), POLICY, recipients)
        area, published = outcome.area, published + list(outcome.changes)
    return [to_event(i, "amur") for i in published]


def test_the_four_official_examples_validate() -> None:
    assert len(EXAMPLES) == 4
    for path in EXAMPLES:
        validate_cap(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("broken", ["2003-06-11T20:56:00Z", "2003-06-11T20:56:00.5-07:00", "2003-06-11T20:56:00"])
def test_the_validator_refuses_times_without_offset_or_with_fractions(broken: str) -> None:
    text = EXAMPLES[2].read_text(encoding="utf-8").replace("2003-06-11T20:56:00-07:00</sent>", f"{broken}</sent>")
    with pytest.raises(InvalidCap, match="sent"):
        validate_cap(text)


def test_update_and_cancel_chain_references_to_earlier_messages() -> None:
    raised, extended, acked, resolved = lifecycle()
    docs = [ET.fromstring(render(i).encode()) for i in (raised, extended, resolved)]
    for doc in docs:
        validate_cap(ET.tostring(doc, encoding="unicode"))
    assert [d.findtext("cap:msgType", namespaces=NS) for d in docs] == ["Alert", "Update", "Cancel"]
    triples = [",".join(d.findtext(f"cap:{t}", namespaces=NS) for t in ("sender", "identifier", "sent")) for d in docs]
    assert docs[0].find("cap:references", NS) is None
    assert docs[1].findtext("cap:references", namespaces=NS) == triples[0]
    assert docs[2].findtext("cap:references", namespaces=NS) == f"{triples[0]} {triples[1]}"
    assert render(acked) == render(extended)  # acknowledging is internal: the latest CAP message is unchanged
    assert docs[2].findtext("cap:info/cap:responseType", namespaces=NS) == "AllClear"


def test_times_are_heihe_local_with_offset_and_the_area_is_polygons_and_geocodes() -> None:
    doc = ET.fromstring(render(lifecycle()[1]).encode())
    sent = doc.findtext("cap:sent", namespaces=NS)
    assert sent == "2026-07-12T08:05:00+08:00"  # 00:05 UTC is 08:05 in Heihe (UTC+8, no DST)
    infos = doc.findall("cap:info", NS)
    assert [i.findtext("cap:language", namespaces=NS) for i in infos] == ["zh-CN", "en-US"]
    assert {i.findtext("cap:category", namespaces=NS) for i in infos} == {"Met"}
    assert infos[0].findtext("cap:severity", namespaces=NS) == "Severe"  # orange
    polygons = [p.text.split() for p in infos[0].findall("cap:area/cap:polygon", NS)]
    assert len(polygons) == 2 and all(p[0] == p[-1] and len(p) == 5 for p in polygons)
    lat, lon = map(float, polygons[0][0].split(","))
    assert (lat, lon) == (50.2, 127.5)  # CAP pairs are "lat,lon"; the outline is (lon, lat)
    assert [g.findtext("cap:value", namespaces=NS) for g in infos[0].findall("cap:area/cap:geocode", NS)] == \
        [CELL_A, CELL_B]


incidents = st.builds(
    lambda hazard, colour, state, drill, refs, cells: IncidentChanged(
        source="amur", event_time=at(3), incident_id=f"231102-{hazard.value}-0123456789ab", hazard=hazard,
        colour=colour, state=state, title="t", cells=cells, drill=drill, lon=127.5, lat=50.2,
        cap_refs=[f"amur@heihe.local,231102-{hazard.value}-0123456789ab.r{n},2026-07-12T08:0{n}:00+08:00"
                  for n in range(1, refs + 1)]),
    st.sampled_from(list(Hazard)), st.sampled_from(list(Colour)), st.sampled_from(list(IncidentState)), st.booleans(),
    st.integers(0, 4), st.lists(st.sampled_from([CELL_A, CELL_B, "231102001001009"]), unique=True, max_size=3))


@settings(max_examples=60, deadline=None)
@given(incidents)
def test_every_incident_renders_to_valid_cap(incident: IncidentChanged) -> None:
    document = render(incident)
    validate_cap(document)
    doc = ET.fromstring(document.encode())
    assert doc.findtext("cap:status", namespaces=NS) == ("Exercise" if incident.drill else "Actual")
    assert "Z" not in doc.findtext("cap:sent", namespaces=NS)


def test_feed_lists_only_active_incidents_each_a_valid_cap_alert() -> None:
    raised, extended, acked, resolved = lifecycle()
    other = msgspec.structs.replace(raised, incident_id="231123-fire-abcdefabcdef", hazard=Hazard.FIRE,
                                    cap_refs=["amur@heihe.local,231123-fire-abcdefabcdef.r1,2026-07-12T08:00:00+08:00"])
    feed = cap_feed([acked, other], at(30), sender=POLICY.cap_sender, zone=POLICY.zone, outlines=PLACES.outline)
    alerts = feed_alerts(feed)
    assert len(alerts) == 2
    for alert in alerts:
        validate_cap(alert)
    assert feed_alerts(cap_feed([resolved], at(30), sender=POLICY.cap_sender, zone=POLICY.zone)) == []
    root = ET.fromstring(feed.encode())
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"


# --------------------------------------------------------------------------- the <area>

SIZE = 0.002  # a cell of the fixture grids: 0.002 degree squares


def grid_places(columns: int, rows: int, step: float = SIZE) -> TablePlaces:
    """A rows x columns grid of cells; with ``step`` > SIZE the cells stand apart."""
    def corner(start: float, index: int) -> float:
        return round(start + index * step, 6)  # neighbours share their edges exactly, as GIS cells do

    return TablePlaces(outlines={
        f"231102{row:03d}{column:06d}": tuple((round(x, 6), round(y, 6)) for x, y in
                                              square(corner(127.3, column), corner(50.1, row), SIZE))
        for row in range(rows) for column in range(columns)})


def check_cap_polygon(text: str) -> list[tuple[float, float]]:
    """CAP 1.2 section 3.2.4: space-separated "lat,lon" pairs, at least four, the first equal to the last."""
    pairs = [tuple(map(float, pair.split(","))) for pair in text.split()]
    assert len(pairs) >= 4 and pairs[0] == pairs[-1], text[:80]
    assert all(-90 <= lat <= 90 and -180 <= lon <= 180 for lat, lon in pairs)
    return [(lon, lat) for lat, lon in pairs]


def covers_every_cell(rings: list, places: TablePlaces, cells: list[str]) -> bool:
    area = shapely.union_all([shapely.Polygon(ring) for ring in rings]).buffer(1e-6)  # CAP keeps six decimals
    return all(area.covers(shapely.Polygon(places.outline(cell))) for cell in cells)


def fits(rings: list, max_polygons: int = MAX_POLYGONS, max_points: int = MAX_POINTS) -> bool:
    return len(rings) <= max_polygons and sum(map(len, rings)) <= max_points


def test_up_to_the_limit_each_cell_is_its_own_polygon_in_cell_order() -> None:
    places = grid_places(8, 8)
    cells = sorted(places.outlines, reverse=True)
    assert len(cells) == MAX_POLYGONS
    assert area_polygons(cells, places.outline) == [places.outline(cell) for cell in cells]


def test_a_block_of_adjacent_cells_dissolves_into_one_polygon() -> None:
    places = grid_places(30, 30)  # 900 cells: more polygons than an area may hold
    cells = sorted(places.outlines)
    [ring] = area_polygons(cells, places.outline)
    assert shapely.Polygon(ring).bounds == pytest.approx((127.3, 50.1, 127.3 + 30 * SIZE, 50.1 + 30 * SIZE))
    assert covers_every_cell([ring], places, cells)


def test_scattered_cells_are_grown_and_simplified_until_they_fit() -> None:
    places = grid_places(30, 30, step=3 * SIZE)  # 900 cells, none touching another
    cells = sorted(places.outlines)
    rings = area_polygons(cells, places.outline)
    assert fits(rings) and covers_every_cell(rings, places, cells)
    assert all(ring[0] == ring[-1] and len(ring) >= 4 for ring in rings)


@settings(max_examples=40, deadline=None)
@given(st.sets(st.tuples(st.integers(0, 19), st.integers(0, 19)), min_size=1, max_size=200),
       st.integers(1, 6), st.integers(20, 120))
def test_every_area_fits_its_limits_and_covers_every_cell(picked: set[tuple[int, int]], max_polygons: int,
                                                          max_points: int) -> None:
    places = grid_places(20, 20, step=1.5 * SIZE)
    cells = [f"231102{row:03d}{column:06d}" for column, row in sorted(picked)]
    rings = area_polygons(cells, places.outline, max_polygons=max_polygons, max_points=max_points)
    assert rings and fits(rings, max_polygons, max_points)
    assert covers_every_cell(rings, places, cells)
    assert all(ring[0] == ring[-1] and len(ring) >= 4 for ring in rings)


def test_a_large_area_renders_as_valid_cap_with_the_same_polygons_in_both_languages() -> None:
    places = grid_places(30, 30, step=3 * SIZE)
    incident = msgspec.structs.replace(lifecycle()[0], cells=sorted(places.outlines))
    document = cap_xml(incident, sender=POLICY.cap_sender, zone=POLICY.zone, outlines=places.outline)
    validate_cap(document)
    infos = ET.fromstring(document.encode()).findall("cap:info", NS)
    areas = [[p.text for p in info.findall("cap:area/cap:polygon", NS)] for info in infos]
    assert areas[0] == areas[1] and 1 <= len(areas[0]) <= MAX_POLYGONS
    rings = [check_cap_polygon(text) for text in areas[0]]
    assert covers_every_cell(rings, places, incident.cells)
    assert infos[0].find("cap:area/cap:circle", NS) is None
    assert len(infos[0].findall("cap:area/cap:geocode", NS)) == 900  # the cells themselves stay listed
