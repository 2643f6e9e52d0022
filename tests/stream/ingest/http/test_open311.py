"""Open311 GeoReport v2 front door: catalogue, parsing, placing and routing, filters, and the HTTP adapter.

GeoReport v2 reference: https://wiki.open311.org/GeoReport_v2 (error list
``[{"code", "description"}]``, POST answer ``[{"service_request_id",
"service_notice", "account_id"}]``, 90-day default window, ids override filters).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp import web
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from hypothesis import given
from hypothesis import strategies as st

from gis.registry import load_cells
from stream import topics
from stream.agents.projection import RedisProjector
from stream.dispatch.responsibility import load_list, read_departments
from stream.dispatch.routing import Place, route
from stream.embedded.services import free_port
from stream.incidents import evidence
from stream.incidents.places import TablePlaces
from stream.ingest.http.open311 import (
    Open311Error,
    RequestFilter,
    cell_of,
    check_api_key,
    check_format,
    check_media,
    grid_event,
    load_cell_index,
    load_county_names,
    load_gazetteer,
    load_services,
    parse_api_keys,
    parse_filter,
    parse_request,
    place_request,
    select_requests,
    with_status,
)
from stream.ingest.http.server import build_ingest_app
from stream.ingest.inventory import Inventory
from stream.ingest.registry import load_registry
from stream.runtime.admin import bootstrap_servers, prepare_topics_async
from stream.runtime.app import kafka_url
from stream.runtime.metrics import Metrics
from stream.schemas import (
    Colour,
    DeadLetter,
    EvidenceRef,
    GridEvent,
    Hazard,
    IncidentChanged,
    IncidentState,
    decode,
)
from stream.screens.projection import Keys, project

LIST = load_list()
SERVICES = load_services(LIST)
NOW = datetime(2026, 7, 20, 8, 0, tzinfo=timezone.utc)
RUSSIA = ("50.2900", "127.5300")  # Blagoveshchensk, across the Amur from Heihe


@pytest.fixture(scope="module")
def cells():
    return load_cell_index()


def test_catalogue_has_the_required_services_with_known_departments() -> None:
    departments = read_departments()
    required = {"flood_report", "fire_report", "smoke_report", "waterlogging", "road_damage", "public_safety"}
    assert required <= SERVICES.keys() and len(SERVICES) >= 225
    assert all(s.department in departments and s.item.name_zh for s in SERVICES.values())
    assert SERVICES["fire_report"].department == "fire-rescue" and SERVICES["flood_report"].hazard is Hazard.FLOOD


def test_the_grid_event_carries_the_items_hazard_to_the_incident_path() -> None:
    # A hazard item's report is evidence of that hazard in its cell; any other report is only dispatched.
    cell = "231102001001001"
    places = TablePlaces()
    for code, hazard in [("levee_seepage", Hazard.FLOOD), ("transformer_smoke", Hazard.FIRE),
                         ("heating_main_burst", Hazard.PUBLIC_SAFETY), ("street_vending", None)]:
        request = parse_request({"service_code": code, "lat": "50.26", "long": "127.47"}, SERVICES)
        event = grid_event(request, SERVICES[code], Place(cell), route(LIST, SERVICES[code].item, Place(cell), NOW),
                           "311-1", NOW)
        observed = evidence.from_grid_event(event, places)
        assert [o.area_key for o in observed] == ([f"231102/{hazard.value}"] if hazard else [])


def test_parse_request_accepts_a_valid_body_and_names_bad_fields() -> None:
    ok = parse_request({"service_code": "fire_report", "lat": "50.2611", "long": "127.4773", "description": "火",
                        "email": "a@b.cn", "api_key": "k"}, SERVICES)
    assert (ok.lat, ok.lon, ok.description, ok.extra) == (50.2611, 127.4773, "火", (("email", "a@b.cn"),))
    cases = [({"service_code": "nope", "lat": "50", "long": "127"}, "service_code", "nope"),
             ({"service_code": "fire_report", "long": "127"}, "lat", ""),
             ({"service_code": "fire_report"}, "lat", ""),
             ({"service_code": "fire_report", "lat": "50"}, "long", ""),
             ({"service_code": "fire_report", "lat": "north", "long": "127"}, "lat", "north"),
             ({"service_code": "fire_report", "lat": "50", "long": "190"}, "long", "190"),
             ({"service_code": "fire_report", "lat": "nan", "long": "127"}, "lat", "nan"),
             ({"service_code": "fire_report", "lat": "50", "long": "127", "description": "x" * 4001},
              "description", "x" * 40)]
    for fields, field, value in cases:
        with pytest.raises(Open311Error) as info:
            parse_request(fields, SERVICES)
        assert (info.value.field, info.value.value, info.value.status) == (field, value, 400)
        assert info.value.document() == [{"code": 400, "description": info.value.reason}]


@given(st.floats(-90, 90), st.floats(-180, 180))
def test_coordinates_in_range_are_kept_exactly(lat: float, lon: float) -> None:
    parsed = parse_request({"service_code": "smoke_report", "lat": repr(lat), "long": repr(lon)}, SERVICES)
    assert (parsed.lat, parsed.lon) == (lat, lon)


@given(st.floats(90, 1e9, exclude_min=True))
def test_latitudes_beyond_the_pole_are_refused(lat: float) -> None:
    with pytest.raises(Open311Error, match="lat="):
        parse_request({"service_code": "smoke_report", "lat": repr(lat), "long": "127"}, SERVICES)


def test_api_keys() -> None:
    keys = parse_api_keys(" k1, ,k2 ")
    assert keys == {"k1", "k2"}
    check_api_key("k2", keys)
    for given_key, allowed, words in [("k1", frozenset(), "no API keys are configured"), ("k3", keys, "not accepted"),
                                      (None, keys, "not accepted")]:
        with pytest.raises(Open311Error, match=words) as info:
            check_api_key(given_key, allowed)
        assert info.value.status == 403 and info.value.field == "api_key"


def test_json_and_xml_are_served() -> None:
    assert (check_format("json"), check_format("xml")) == ("json", "xml")
    with pytest.raises(Open311Error, match="format not supported: 'html'"):
        check_format("html")


def test_no_location_and_no_address_is_refused_and_an_address_alone_is_placed_at_its_county() -> None:
    with pytest.raises(Open311Error, match="no location and no address"):
        parse_request({"service_code": "street_vending", "email": "a@b.cn"}, SERVICES)
    names = load_county_names()
    for address, place in [("孙吴县城东十字路口", "231124"), ("黑河市中央街", "231100")]:
        parsed = parse_request({"service_code": "street_vending", "address_string": address}, SERVICES)
        assert (parsed.lat, parsed.address) == (None, address)
        assert place_request(parsed, None, names) == Place(place)


def test_an_address_naming_a_village_is_placed_at_the_village() -> None:
    parsed = parse_request({"service_code": "street_vending", "address_string": "爱辉区样例社区001002门口"}, SERVICES)
    assert place_request(parsed, None, load_county_names(), load_gazetteer()) == Place("231102001002")


def test_media_must_be_a_small_image() -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 100
    assert check_media(png, 1024).extension == "png"
    with pytest.raises(Open311Error) as info:
        check_media(png + b"\0" * 1024, 1024)
    assert (info.value.status, info.value.field) == (413, "media")
    with pytest.raises(Open311Error) as info:
        check_media(b"%PDF-1.7 not a photo", 1024)
    assert (info.value.status, info.value.field) == (415, "media")


def test_the_later_status_wins() -> None:
    stored = {"service_request_id": "311-1", "status": "open", "status_notes": None}
    dispatch = b'{"status":"open","status_notes":"accepted by heating","updated_datetime":"2026-07-20T09:00:00+00:00"}'
    incident = b'{"status":"closed","status_notes":"incident resolved","updated_datetime":"2026-07-20T10:00:00+00:00"}'
    assert with_status(stored, dispatch, incident)["status_notes"] == "incident resolved"
    assert with_status(stored, incident.replace(b"10:00", b"08:00"), dispatch)["status"] == "open"
    assert with_status(stored, None, None) == stored


def test_registry_points_fall_in_their_own_cells(cells) -> None:
    # cells_sample.csv gives "a point inside the cell" for every cell: the geometry must agree.
    records = load_cells()[::997]
    assert [cell_of(cells, r.lon, r.lat) for r in records] == [r.cell_code for r in records]


def test_a_point_in_russia_is_refused_naming_lat_and_long(cells) -> None:
    with pytest.raises(Open311Error, match=r"lat=50\.29 long=127\.53 lies outside") as info:
        cell_of(cells, float(RUSSIA[1]), float(RUSSIA[0]))
    assert info.value.field == "lat/long"


def test_filters_follow_georeport_defaults() -> None:
    assert parse_filter({"service_request_id": "311-1, 311-2", "status": "bogus"}, NOW) == RequestFilter(
        ids=("311-1", "311-2"))
    default = parse_filter({"service_code": "fire_report,smoke_report", "status": "open"}, NOW)
    assert (default.start, default.end) == (NOW - timedelta(days=90), NOW)
    assert default.service_codes == ("fire_report", "smoke_report") and default.statuses == ("open",)
    for query, field in [({"status": "pending"}, "status"), ({"start_date": "2026-07-01T00:00:00"}, "start_date"),
                         ({"end_date": "yesterday"}, "end_date"),
                         ({"start_date": "2026-07-02T00:00:00Z", "end_date": "2026-07-01T00:00:00Z"}, "start_date")]:
        with pytest.raises(Open311Error) as info:
            parse_filter(query, NOW)
        assert info.value.field == field


def test_select_requests_filters_and_orders_newest_first() -> None:
    def doc(rid: str, code: str, status: str, days_ago: int) -> dict[str, object]:
        return {"service_request_id": rid, "service_code": code, "status": status,
                "requested_datetime": (NOW - timedelta(days=days_ago)).isoformat()}
    docs = [doc("a", "fire_report", "open", 3), doc("b", "fire_report", "closed", 1),
            doc("c", "road_damage", "open", 2), doc("d", "fire_report", "open", 100)]
    ids = [d["service_request_id"] for d in select_requests(docs, parse_filter({"service_code": "fire_report"}, NOW))]
    assert ids == ["b", "a"]  # "d" is older than the 90-day default window
    assert [d["service_request_id"] for d in select_requests(docs, parse_filter({"status": "open"}, NOW))] == ["c", "a"]
    window = parse_filter({"start_date": (NOW - timedelta(days=200)).isoformat(),
                           "end_date": (NOW - timedelta(days=2)).isoformat()}, NOW)
    assert [d["service_request_id"] for d in select_requests(docs, window)] == ["c", "a", "d"]
    assert [d["service_request_id"] for d in select_requests(docs, RequestFilter(ids=("d",)))] == ["d"]


@pytest.mark.integration
async def test_post_routes_a_report_to_its_cell_and_department(make_settings) -> None:
    settings = make_settings(partitions=1, open311_api_keys="key-a,key-b")
    await prepare_topics_async(settings, agent_modules=[])
    bootstrap = bootstrap_servers(kafka_url(settings))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    runner = web.AppRunner(build_ingest_app(settings, load_registry(), Inventory.from_sites([], [], []), producer,
                                            Metrics()))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest", fetch_max_wait_ms=10)
    consumer.subscribe([topics.topic_name(topics.GRID_EVENTS, settings.drill_id),
                        topics.topic_name(topics.DEAD_LETTER, settings.drill_id)])
    await consumer.start()
    aihui = load_cells()[0]  # an urban cell of Aihui district (231102)
    url = f"http://127.0.0.1:{port}/open311/v2"
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{url}/services.json") as response:
                assert response.status == 200
                assert {s["service_code"] for s in await response.json()} == SERVICES.keys()
            async with http.get(f"{url}/services/waterlogging.json") as response:
                assert (await response.json())["department"] == "urban-management"
            async with http.get(f"{url}/services.html") as response:
                assert response.status == 400 and "format not supported" in (await response.json())[0]["description"]
            form = {"api_key": "key-b", "service_code": "flood_report", "lat": str(aihui.lat), "long": str(aihui.lon),
                    "description": "江水漫过堤顶"}
            async with http.post(f"{url}/requests.json", data=form) as response:
                assert response.status == 201
                [created] = await response.json()
            assert created["account_id"] is None and aihui.cell_code in created["service_notice"]
            assert "routed to 水务局 (Water Affairs Bureau)" in created["service_notice"]
            russia = {**form, "lat": RUSSIA[0], "long": RUSSIA[1]}
            async with http.post(f"{url}/requests.json", json=russia) as response:
                assert response.status == 400
                [error] = await response.json()
            assert error["code"] == 400 and "lat=50.29 long=127.53" in error["description"]
            async with http.post(f"{url}/requests.json", data={**form, "api_key": "wrong"}) as response:
                assert response.status == 403 and (await response.json())[0]["code"] == 403
            async with http.get(f"{url}/requests/{created['service_request_id']}.json") as response:
                [stored] = await response.json()
            async with http.get(f"{url}/requests.json", params={"service_code": "flood_report"}) as response:
                listed = await response.json()
            async with http.get(f"{url}/requests/311-999999.json") as response:
                assert response.status == 404
        assert stored["service_request_id"] == created["service_request_id"] and stored["status"] == "open"
        assert (stored["cell_code"], stored["agency_responsible"]) == (aihui.cell_code, "water-affairs")
        assert [d["service_request_id"] for d in listed] == [created["service_request_id"]]
        grid_topic = topics.topic_name(topics.GRID_EVENTS, settings.drill_id)
        dlq_topic = topics.topic_name(topics.DEAD_LETTER, settings.drill_id)
        seen: dict[str, list] = {}
        for _ in range(20):
            if len(seen) == 2:
                break
            for tp, records in (await consumer.getmany(timeout_ms=5000)).items():
                seen.setdefault(tp.topic, []).extend(records)
        [record] = seen[grid_topic]
        event = decode(GridEvent, record.value)
        assert record.key == aihui.cell_code.encode()
        assert (event.report_id, event.cell_code, event.department, event.service_code) == (
            created["service_request_id"], aihui.cell_code, "water-affairs", "flood_report")
        assert (event.item_code, event.hazard) == ("FLD-001", Hazard.FLOOD)
        assert stored["expected_datetime"] == (event.event_time + timedelta(hours=6)).isoformat(timespec="seconds")
        [dead] = [decode(DeadLetter, r.value) for r in seen[dlq_topic]]
        assert dead.field == "lat/long" and "key-b" not in dead.raw

        # the incident the report became evidence of is resolved: the projection closes the request
        report_id = created["service_request_id"]
        resolved = IncidentChanged(
            source="amur.incidents", event_time=datetime(2026, 7, 20, 9, tzinfo=timezone.utc),
            incident_id="231102-flood-0123456789ab", hazard=Hazard.FLOOD, colour=Colour.YELLOW,
            state=IncidentState.RESOLVED, title="flood", cells=[aihui.cell_code],
            evidence=[EvidenceRef(evidence_id=f"report:{report_id}", kind="grid_report", source="open311",
                                  event_time=event.event_time, colour=Colour.YELLOW)])
        client, keys = aioredis.from_url(settings.redis_url), Keys(settings.redis_prefix)
        await RedisProjector(client, keys, 100, 100).apply([project(resolved, keys)])  # as the projection agent does
        await client.aclose()
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{url}/requests/{report_id}.json") as response:
                [closed] = await response.json()
            async with http.get(f"{url}/requests.json", params={"status": "closed"}) as response:
                listed_closed = await response.json()
            async with http.get(f"{url}/requests.json", params={"status": "open"}) as response:
                listed_open = await response.json()
        assert (closed["status"], closed["updated_datetime"]) == ("closed", "2026-07-20T09:00:00+00:00")
        assert closed["status_notes"] == "incident 231102-flood-0123456789ab resolved"
        assert closed["description"] == "江水漫过堤顶"  # the stored request, with its status laid over it
        assert [d["service_request_id"] for d in listed_closed] == [report_id] and listed_open == []
    finally:
        await consumer.stop()
        await runner.cleanup()
        await producer.stop()


def test_a_report_placed_only_at_its_county_or_nowhere_is_dispatched_not_evidence() -> None:
    places = TablePlaces()
    base = dict(source="110", event_time=NOW, service_code="levee_seepage", hazard=Hazard.FLOOD)
    county = GridEvent(report_id="110-a", cell_code="231102", address="爱辉区江边", **base)  # type: ignore[arg-type]
    off_grid = GridEvent(report_id="110-b", cell_code="231102", lon=127.53, lat=50.29, **base)  # type: ignore[arg-type]
    nowhere = GridEvent(report_id="110-c", address="江边", **base)  # type: ignore[arg-type]
    assert [evidence.from_grid_event(e, places) for e in (county, off_grid, nowhere)] == [[], [], []]
