"""Property-based fuzzing of every decoder and every HTTP, websocket and CLI input.

Each input is accepted, or refused with the project's documented error (the exception of
its own tree, or a 4xx with the documented body, or exit code 1/2 with a one-line message)
— never another exception, a 500, a traceback, or a connection the server drops.
How many cases each target tried is written to test-artifacts/fuzz-cases.json.
"""

from __future__ import annotations

import asyncio
import json
import string
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest
from aiohttp import web
from aiokafka import AIOKafkaProducer
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from command_ui.errors import AuthError, ProtocolError
from command_ui.protocol import parse_client_message
from command_ui.tokens import issue, verify
from stream import schemas
from stream.dispatch.calls import decode_calls
from stream.embedded.services import free_port
from stream.errors import InvalidEvent
from stream.ingest.http.dispatch_actions import action_event
from stream.ingest.http.open311 import load_services, parse_request
from stream.ingest.http.server import build_ingest_app, check_body
from stream.ingest.inventory import load_inventory
from stream.ingest.registry import load_registry
from stream.ingest.validation import TimeLimits
from stream.runtime.admin import bootstrap_servers, prepare_topics_async
from stream.runtime.app import kafka_url
from stream.runtime.metrics import Metrics
from tests.conftest import ARTIFACTS

NOW = datetime(2026, 7, 20, 8, 0, tzinfo=timezone.utc)
TRIED: Counter[str] = Counter()
FAST = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
SLOW = settings(FAST, max_examples=40)
"""Targets that go through a socket or a command: fewer cases, same variety."""


@pytest.fixture(scope="module", autouse=True)
def record_cases() -> Iterator[None]:
    """Write how many cases each target tried (merged with the other fuzz modules' counts)."""
    yield
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "fuzz-cases.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**previous, **TRIED}, indent=2, sort_keys=True) + "\n")


# ------------------------------------------------------------------ strategies

scalars = st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=40)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)
TAGS = ["sensor_reading", "weather_observation", "water_level", "reading_batch", "frame_sample", "operator_command"]
FIELDS = ["type", "source", "event_time", "sensor_id", "kind", "value", "unit", "gauge_id", "stage_m", "station_id",
          "readings", "camera_id", "status", "schema_version", "incident_id", "command_id", "action", "role"]
plausible = st.sampled_from([
    "hydrology.river-gauges", "meteorology.temperature-sensors", "hlj-heihe", "temperature-00001",
    "2026-07-20T08:00:00+00:00", "2026-07-20T08:00:00", "9999-12-31T23:59:59Z", "degF", "degC", "m", "temperature",
    *TAGS, 7.2, -1e308, float("nan"), float("inf"), 0, -1, 2**63, "", "\x00", "../../etc/passwd"])
event_docs = st.dictionaries(st.sampled_from(FIELDS), plausible | json_values, max_size=10).map(
    lambda d: d if "type" in d else {**d, "type": "water_level"})


def dumps(value: object) -> bytes:
    """JSON as a sender might write it: big integers, NaN and Infinity included (the stdlib writes them)."""
    return json.dumps(value, ensure_ascii=False).encode()


def mutated(seed: bytes) -> st.SearchStrategy[bytes]:
    """``seed`` with bytes flipped, cut or repeated: close enough to valid to reach deep checks."""
    return st.tuples(st.integers(0, max(0, len(seed) - 1)), st.binary(max_size=8), st.integers(0, 8)).map(
        lambda t: seed[:t[0]] + t[1] + seed[t[0] + t[2]:])


GOOD_LEVEL = orjson.dumps([{"type": "water_level", "source": "hydrology.river-gauges", "event_time": NOW.isoformat(),
                            "gauge_id": "hlj-heihe", "stage_m": 7.2}])
bodies = (st.binary(max_size=300) | mutated(GOOD_LEVEL) | st.lists(event_docs, max_size=5).map(dumps)
          | event_docs.map(dumps) | json_values.map(dumps))


def refused_as_documented(call: Callable[[], object], *errors: type[Exception]) -> bool:
    """Run ``call``; True if it refused with one of ``errors`` (whose message must name what was wrong)."""
    try:
        call()
    except errors as exc:
        assert str(exc), f"{type(exc).__name__} without a message"
        return True
    return False


# ------------------------------------------------------------------ decoders (pure)

EVENT_KINDS = sorted((kind for kind in vars(schemas).values() if isinstance(kind, type)
                      and issubclass(kind, schemas.Event) and kind is not schemas.Event), key=lambda k: k.__name__)


@FAST
@given(kind=st.sampled_from(EVENT_KINDS), payload=bodies)
def test_every_wire_event_decodes_or_is_refused_naming_the_field(kind: type, payload: bytes) -> None:
    TRIED["schemas.decode (every wire event)"] += 1
    refused_as_documented(lambda: schemas.decode(kind, payload), InvalidEvent)


REGISTRY = load_registry()
INVENTORY = load_inventory()


@FAST
@given(body=bodies)
def test_ingest_bodies_and_batches_are_checked_item_by_item(body: bytes) -> None:
    TRIED["POST /ingest body (readings and batches, decode + validation)"] += 1
    limits = TimeLimits(300.0, 86400.0 * 30)
    refused_as_documented(lambda: check_body(body, REGISTRY, INVENTORY, limits, NOW.timestamp(), 100), InvalidEvent)


JPEG = (Path(__file__).parent / "data").glob("**/*.jpg")
SEED_JPEG = next(iter(sorted(JPEG)), None)


@FAST
@given(data=st.binary(max_size=400) | mutated(SEED_JPEG.read_bytes()[:4000] if SEED_JPEG else b"\xff\xd8\xff\xe0"))
def test_frame_bytes_decode_or_are_refused_as_undecodable(data: bytes) -> None:
    from vision.analysis.decode import decode_frame
    from vision.analysis.errors import UndecodableFrame

    TRIED["vision frame bytes (decode_frame)"] += 1
    refused_as_documented(lambda: decode_frame(data), UndecodableFrame)


@FAST
@given(body=bodies | st.lists(st.dictionaries(st.sampled_from(
    ["call_id", "received_at", "category", "text", "address", "lat", "lon", "phone"]), plausible | json_values,
    max_size=8), max_size=4).map(dumps))
def test_110_calls_decode_or_are_refused(body: bytes) -> None:
    TRIED["110 feed calls (decode_calls)"] += 1
    refused_as_documented(lambda: decode_calls(body, NOW, timedelta(minutes=5)), InvalidEvent)


CATALOGUE = load_services()
OPEN311_FIELDS = ["service_code", "lat", "long", "address_string", "description", "email", "first_name",
                  "media_url", "device_id", "address_id", "phone", "last_name"]


@FAST
@given(fields=st.dictionaries(st.sampled_from(OPEN311_FIELDS), st.sampled_from(
    ["flood_report", "fire_report", "50.2611", "127.4773", "nan", "inf", "-0", "1e309", " ", "水" * 5000])
    | st.text(max_size=60), max_size=8))
def test_open311_request_fields_parse_or_are_refused(fields: dict[str, str]) -> None:
    from stream.ingest.http.open311 import Open311Error

    TRIED["Open311 request fields (parse_request)"] += 1
    refused_as_documented(lambda: parse_request(fields, CATALOGUE), Open311Error)


@FAST
@given(body=bodies | st.dictionaries(st.sampled_from(["action", "action_id", "note", "assignee", "reason"]),
                                     plausible | json_values, max_size=4).map(dumps))
def test_department_actions_decode_or_are_refused(body: bytes) -> None:
    TRIED["dispatch action bodies (action_event)"] += 1
    refused_as_documented(lambda: action_event("r-1", body, "grid-office", NOW), InvalidEvent)


client_messages = st.fixed_dictionaries({"type": st.sampled_from(["hello", "command", "ping", ""]) | scalars},
                                        optional={"token": scalars, "resume": json_values, "command_id": scalars,
                                                  "incident_id": scalars, "action": st.sampled_from(
                                                      ["acknowledge", "resolve", "assign", "x"]) | scalars,
                                                  "assignee": scalars, "comment": scalars, "extra": scalars})


@FAST
@given(raw=client_messages.map(dumps) | st.binary(max_size=200) | st.text(max_size=200))
def test_operator_messages_parse_or_are_refused(raw: bytes | str) -> None:
    TRIED["websocket client messages (parse_client_message)"] += 1
    refused_as_documented(lambda: parse_client_message(raw), ProtocolError)


SECRET = "fuzz-secret-of-at-least-32-characters"
TOKEN = issue(SECRET, subject="o", role=schemas.Role.DUTY_OFFICER, scope="231102", now=NOW, ttl_s=600)


@FAST
@given(token=st.text(alphabet=string.ascii_letters + string.digits + "-_.=", max_size=300)
       | mutated(TOKEN.encode()).map(lambda b: b.decode("latin-1")))
def test_tokens_verify_or_are_refused(token: str) -> None:
    TRIED["operator tokens (verify)"] += 1
    if not refused_as_documented(lambda: verify(SECRET, token, now=NOW), AuthError):
        assert token == TOKEN or verify(SECRET, token, now=NOW).subject == "o"  # only the real token passes


# ------------------------------------------------------------------ command-line CSV inputs

csv_cells = (st.sampled_from(["7.2", "-1", "nan", "inf", "", "x", "1e400", "0", "2026-02-30", "100", "\ufeff", " 5"])
             | st.integers(1, 31).map(lambda d: f"2026-07-{d:02d}")
             | st.integers(0, 30).map(lambda h: f"2026-07-20T{h:02d}:00")
             | st.floats(-50, 200).map(lambda f: f"{f:.2f}") | st.text(alphabet=string.printable, max_size=8))
csv_headers = st.sampled_from(["date,temp,rh,wind,rain", "time,stage", "time,inflow", "time,flow", "time,level",
                               "date,temp,rh,wind", ""]) | st.lists(st.sampled_from(
                                   ["time", "stage", "inflow", "date", "temp", "rh", "wind", "rain", "x"]),
                                   max_size=6).map(",".join)
random_csv = st.tuples(csv_headers, st.lists(st.lists(csv_cells, min_size=1, max_size=6).map(",".join),
                                             max_size=14)).map(lambda t: "\n".join([t[0], *t[1]]) + "\n")


@st.composite
def valid_csv(draw: st.DrawFn, header: str) -> str:
    """A well-formed file for ``header`` (consecutive days or hours), sometimes with one cell replaced."""
    daily = header.startswith("date")
    width = header.count(",")
    values = draw(st.lists(st.lists(st.floats(0, 60), min_size=width, max_size=width), min_size=1, max_size=30))
    start = datetime(2026, 7, 1)
    rows = [[(start + (timedelta(days=i) if daily else timedelta(hours=i))).isoformat()[:10 if daily else 16],
             *(f"{v:.2f}" for v in row)] for i, row in enumerate(values)]
    if draw(st.booleans()):
        i, j = draw(st.integers(0, len(rows) - 1)), draw(st.integers(0, width))
        rows[i][j] = draw(csv_cells)
    return "\n".join([header, *(",".join(row) for row in rows)]) + "\n"


def csv_files(header: str) -> st.SearchStrategy[str]:
    return valid_csv(header) | random_csv | st.text(max_size=200)


CLI = {  # name: (header of a valid file, argv)
    "amur fwi": ("date,temp,rh,wind,rain", lambda p: ["fwi", str(p)]),
    "amur hydro crests": ("time,stage", lambda p: ["hydro", "crests", str(p)]),
    "amur hydro crests --offline": ("time,stage", lambda p: ["hydro", "crests", "--offline", str(p)]),
    "amur hydro route": ("time,inflow", lambda p: ["hydro", "route", str(p), "--k", "2", "--x", "0.2", "--dt", "1"]),
    "amur hydro calibrate": ("time,flow", lambda p: ["hydro", "calibrate", "--upstream", str(p),
                                                     "--downstream", str(p)]),
}


@pytest.mark.parametrize("name", list(CLI))
def test_cli_csv_inputs_are_read_or_refused_in_one_line(name: str, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from stream.cli.main import main as amur

    header, argv = CLI[name]

    @SLOW
    @given(text=csv_files(header))
    @example(text=f"{header}\ninf,0.00\n")  # found by this test: an OverflowError traceback
    @example(text="time,stage\n2026-07-01T00:00,0.00\n2026-07-01T01:00,nan\n2026-07-01T02:00,0.00\n")  # IndexError
    def run(text: str) -> None:
        TRIED[f"{name} CSV"] += 1
        path = tmp_path / "input.csv"
        path.write_text(text, encoding="utf-8")
        code = amur(argv(path))
        err = capsys.readouterr().err
        assert code in (0, 1, 2), (code, err)
        TRIED[f"{name} CSV: exit {code}"] += 1
        assert "Traceback" not in err, err
        if code == 2:
            assert err.strip(), "a refusal says why"

    run()


# ------------------------------------------------------------------ HTTP and websocket, on the real servers

@pytest.fixture
async def adapter(make_settings, tmp_path) -> AsyncIterator[str]:
    settings = make_settings(partitions=1, open311_media_dir=tmp_path / "media", ingest_api_keys="k",
                             open311_api_keys="k", feed110_api_keys="k", dispatch_api_keys="grid-office:k")
    await prepare_topics_async(settings, agent_modules=[])
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers(kafka_url(settings)))
    await producer.start()
    runner = web.AppRunner(build_ingest_app(settings, REGISTRY, INVENTORY, producer, Metrics()))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
        await producer.stop()


def post(url: str, body: bytes, content_type: str) -> int:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": content_type, "X-Api-Key": "k"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        exc.read()
        return exc.code


FORM = st.dictionaries(st.sampled_from(OPEN311_FIELDS + ["api_key"]), st.text(max_size=30), max_size=6).map(
    lambda d: urllib.parse.urlencode({**d, "api_key": "k"}).encode())
XML = st.text(max_size=100).map(lambda t: f"<service_request><description>{t}</description></service_request>".encode())
HTTP_CALLS = st.sampled_from(["/ingest", "/110/v1/calls", "/dispatch/v1/requests/r-1/actions",
                              "/open311/v2/requests.json?api_key=k", "/open311/v2/requests.xml?api_key=k"])
CONTENT = st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/xml", "application/xml",
                           "multipart/form-data", "text/plain", "multipart/form-data; boundary=x"])


async def test_http_write_paths_answer_every_body_with_a_4xx_or_success(adapter: str) -> None:
    statuses: Counter[int] = Counter()

    @settings(SLOW, max_examples=120)
    @given(path=HTTP_CALLS, body=bodies | FORM | XML, content_type=CONTENT)
    @example(path="/open311/v2/requests.json?api_key=k", body=b"", content_type="multipart/form-data")  # was a 500
    def run(path: str, body: bytes, content_type: str) -> None:
        TRIED["HTTP write paths (JSON, form, XML, multipart bodies)"] += 1
        status = post(adapter + path, body, content_type)
        statuses[status] += 1
        TRIED[f"HTTP write paths: status {status}"] += 1
        assert status < 500, (path, content_type, body[:200], status)

    await asyncio.to_thread(run)
    assert statuses, "nothing was tried"


async def test_websocket_messages_are_answered_never_dropped(make_settings) -> None:
    from websockets.asyncio.client import connect

    from command_ui.server import start_gateway

    settings_ = make_settings(ws_port=free_port(), gateway_command_burst=10_000)
    await prepare_topics_async(settings_, agent_modules=[])
    gateway = await start_gateway(settings_)
    token = issue(settings_.jwt_secret.get_secret_value(), subject="fuzz", role=schemas.Role.DUTY_OFFICER,
                  scope="231100", now=datetime.now(timezone.utc), ttl_s=3600)
    loop = asyncio.get_running_loop()
    try:
        ws = await connect(f"ws://127.0.0.1:{gateway.ws_port}/")
        await ws.send(orjson.dumps({"type": "hello", "token": token}).decode())

        async def exchange(raw: str) -> list[dict]:
            await ws.send(raw)
            while True:  # skip the snapshot and updates; the reply to this message is an error or a result
                got = orjson.loads(await asyncio.wait_for(ws.recv(), 30))
                found = [m for m in (got if isinstance(got, list) else [got])
                         if m.get("type") in ("error", "command_result")]
                if found:
                    return found

        @settings(SLOW, max_examples=100)
        @given(raw=client_messages.map(lambda d: dumps(d).decode()) | st.text(max_size=200))
        def run(raw: str) -> None:
            TRIED["websocket operator messages (live gateway)"] += 1
            reply = asyncio.run_coroutine_threadsafe(exchange(raw), loop).result(60)[0]
            assert reply["type"] in ("error", "command_result")

        await asyncio.to_thread(run)
        await ws.close()
    finally:
        await gateway.stop()
