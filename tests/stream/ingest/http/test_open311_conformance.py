"""GeoReport v2 conformance of every endpoint, in both formats: answers and the error list of every refusal.

Reference: https://wiki.open311.org/GeoReport_v2 — errors are ``[{"code", "description"}]`` in JSON and
``<errors><error><code/><description/></error></errors>`` in XML, with the HTTP status as the code; the
POST answer is ``service_requests/request`` with ``service_request_id``, ``service_notice`` and
``account_id``; GET services is ``services/service``, a definition is ``service_definition``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import aiohttp
import pytest

from gis.registry import load_cells
from tests.helpers.dispatch import KEYS, front_door

pytestmark = pytest.mark.integration
FORMATS = ("json", "xml")
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 200


def errors_of(body: bytes, fmt: str) -> list[tuple[int, str]]:
    """The (code, description) pairs of an error answer, checking its exact GeoReport shape."""
    if fmt == "json":
        import orjson

        doc = orjson.loads(body)
        assert isinstance(doc, list) and doc and all(set(e) == {"code", "description"} for e in doc), doc
        return [(e["code"], e["description"]) for e in doc]
    root = ET.fromstring(body)
    assert root.tag == "errors" and [c.tag for c in root] == ["error"] * len(root) and len(root)
    pairs = []
    for error in root:
        assert [c.tag for c in error] == ["code", "description"]
        pairs.append((int(error.findtext("code") or 0), error.findtext("description") or ""))
    return pairs


def entries_of(body: bytes, fmt: str, root: str, element: str | None) -> list[dict[str, str | None]]:
    if fmt == "json":
        import orjson

        doc = orjson.loads(body)
        return [doc] if element is None else doc
    tree = ET.fromstring(body)
    assert tree.tag == root
    nodes = [tree] if element is None else list(tree)
    assert all(n.tag == (element or root) for n in nodes)
    return [{c.tag: c.text for c in node} for node in nodes]


async def test_every_endpoint_in_both_formats(make_settings, tmp_path) -> None:
    settings = make_settings(partitions=1, open311_media_dir=tmp_path / "media", open311_max_media_bytes=1024,
                             **KEYS)
    cell = load_cells()[0]
    good = {"api_key": "key-a", "service_code": "street_light_out", "lat": str(cell.lat), "long": str(cell.lon),
            "description": "路灯不亮"}
    async with front_door(settings) as door, aiohttp.ClientSession() as http:
        base = door.url + "/open311/v2"

        async def call(method: str, path: str, **kwargs: object) -> tuple[int, bytes, str]:
            async with http.request(method, base + path, **kwargs) as response:  # type: ignore[arg-type]
                return response.status, await response.read(), response.content_type

        def photo(data: bytes, content_type: str = "image/png") -> aiohttp.FormData:
            form = aiohttp.FormData()
            for name, value in good.items():
                form.add_field(name, value)
            form.add_field("media", data, filename="photo.png", content_type=content_type)
            return form

        created: dict[str, str] = {}
        for fmt in FORMATS:
            # answers
            status, body, kind = await call("GET", f"/services.{fmt}")
            services = entries_of(body, fmt, "services", "service")
            assert status == 200 and kind == ("application/json" if fmt == "json" else "text/xml")
            assert len(services) >= 225 and {"service_code", "service_name", "group", "metadata", "type"} <= \
                set(services[0])
            status, body, _ = await call("GET", f"/services/street_light_out.{fmt}")
            [definition] = entries_of(body, fmt, "service_definition", None)
            assert status == 200 and definition["service_code"] == "street_light_out" and "attributes" in definition
            status, body, _ = await call("POST", f"/requests.{fmt}", data=photo(PNG))
            [answer] = entries_of(body, fmt, "service_requests", "request")
            assert status == 201 and set(answer) == {"service_request_id", "service_notice", "account_id"}
            created[fmt] = str(answer["service_request_id"])
            status, body, _ = await call("GET", f"/requests/{created[fmt]}.{fmt}")
            [stored] = entries_of(body, fmt, "service_requests", "request")
            assert status == 200 and stored["service_request_id"] == created[fmt]
            assert str(stored["media_url"]).endswith(".png") and stored["status"] == "open"
            status, body, _ = await call("GET", f"/requests.{fmt}", params={"service_code": "street_light_out"})
            assert status == 200 and created[fmt] in {e["service_request_id"]
                                                      for e in entries_of(body, fmt, "service_requests", "request")}
            status, body, _ = await call("GET", f"/tokens/{created[fmt]}.{fmt}")
            assert status == 200 and entries_of(body, fmt, "service_requests", "request")[0]["token"] == created[fmt]
            async with http.get(door.url + str(stored["media_url"])) as response:
                assert response.status == 200 and await response.read() == PNG

            # every refusal: its status, and the same GeoReport error list in either format
            refusals: list[tuple[str, str, dict[str, object], int, str]] = [
                ("GET", f"/services/no_such_service.{fmt}", {}, 404, "service_code 'no_such_service'"),
                ("POST", f"/requests.{fmt}", {"data": {k: v for k, v in good.items() if k != "api_key"}}, 403,
                 "api_key missing"),
                ("POST", f"/requests.{fmt}", {"data": {**good, "api_key": "wrong"}}, 403, "not accepted"),
                ("POST", f"/requests.{fmt}", {"data": {**good, "service_code": "ufo"}}, 400,
                 "service_code 'ufo' is not in the catalogue"),
                ("POST", f"/requests.{fmt}", {"data": {k: v for k, v in good.items() if k not in ("lat", "long")}},
                 400, "no location and no address"),
                ("POST", f"/requests.{fmt}", {"data": {**good, "lat": "50.29", "long": "127.53"}}, 400,
                 "lies outside every grid cell of the city"),
                ("POST", f"/requests.{fmt}", {"data": photo(PNG + b"\0" * 2048)}, 413, "media has more than 1024"),
                ("POST", f"/requests.{fmt}", {"data": photo(b"%PDF-1.7", "image/png")}, 415,
                 "media is not an image"),
                ("POST", f"/requests.{fmt}", {"data": b"{broken", "headers": {"Content-Type": "application/json"}},
                 400, "body is not valid JSON"),
                ("GET", f"/requests.{fmt}", {"params": {"status": "pending"}}, 400, "neither open nor closed"),
                ("GET", f"/requests.{fmt}", {"params": {"start_date": "yesterday"}}, 400, "not an ISO 8601 time"),
                ("GET", f"/requests/311-999999.{fmt}", {}, 404, "'311-999999' not found"),
                ("GET", f"/tokens/nope.{fmt}", {}, 404, "token 'nope' not found"),
            ]
            for method, path, kwargs, expected, words in refusals:
                status, body, _ = await call(method, path, **kwargs)
                [(code, description)] = errors_of(body, fmt)
                assert (status, code) == (expected, expected), (fmt, path, words, body)
                assert words in description, (fmt, path, description)
        status, body, _ = await call("GET", "/services.html")
        assert status == 400 and "format not supported" in errors_of(body, "json")[0][1]
    assert created["json"] != created["xml"]
