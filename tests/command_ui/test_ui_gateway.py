"""The websocket gateway on a real Redis and broker: snapshot, resume, slow clients, auth, limits."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import orjson
import pytest
import redis.asyncio as aioredis
from websockets.asyncio.client import ClientConnection, connect
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.protocol import State
from websockets.uri import parse_uri

from command_ui.server import Gateway, start_gateway
from command_ui.tokens import issue
from stream import schemas
from stream.agents.projection import RedisProjector
from stream.embedded.services import free_port
from stream.runtime.admin import prepare_topics_async
from stream.screens.projection import Keys, project

pytestmark = pytest.mark.integration

T0 = datetime(2026, 7, 20, 8, 0, tzinfo=timezone.utc)


def incident(incident_id: str, *, cells: list[str], colour: str = "yellow", title: str = "flood",
             state: str = "raised", revision: int = 1) -> schemas.IncidentChanged:
    return schemas.IncidentChanged(
        source="test", event_time=T0 + timedelta(seconds=revision), incident_id=incident_id,
        hazard=schemas.Hazard.FLOOD, colour=schemas.Colour(colour), state=schemas.IncidentState(state),
        title=title, cells=cells, grid_path=["231100", cells[0][:6]] if cells else [], revision=revision)


def token(settings, role: str = "duty_officer", scope: str = "231100", ttl_s: int = 3600,
          subject: str | None = None) -> str:
    return issue(settings.jwt_secret.get_secret_value(), subject=subject or f"{role}-{scope}", role=schemas.Role(role),
                 scope=scope, now=datetime.now(timezone.utc), ttl_s=ttl_s)


class Stack:
    def __init__(self, settings, gateway: Gateway, redis_client: aioredis.Redis) -> None:
        self.settings = settings
        self.gateway = gateway
        self.redis = redis_client
        self.projector = RedisProjector(redis_client, Keys(settings.redis_prefix), 10000, 100)
        self.keys = Keys(settings.redis_prefix)

    async def publish(self, *events: schemas.Event) -> None:
        await self.projector.apply(project(e, self.keys) for e in events)

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.gateway.ws_port}/"

    async def client(self, role: str = "duty_officer", scope: str = "231100",
                     resume: dict | None = None, **kwargs) -> ClientConnection:
        ws = await connect(self.ws_url, **kwargs)
        await ws.send(orjson.dumps({"type": "hello", "token": token(self.settings, role, scope),
                                    "resume": resume}).decode())
        return ws


@pytest.fixture
async def stack(make_settings) -> AsyncIterator[Stack]:
    settings = make_settings(ws_port=free_port(), gateway_client_queue=200, gateway_command_burst=3)
    await prepare_topics_async(settings, agent_modules=[])
    client = aioredis.from_url(settings.redis_url)
    gateway = await start_gateway(settings)
    try:
        yield Stack(settings, gateway, client)
    finally:
        await gateway.stop()
        await client.aclose()


async def messages(ws: ClientConnection, until, timeout: float = 60.0) -> list[dict]:
    """Collect messages until ``until(all_so_far)`` holds (``timeout``: a bound, generous for shared machines)."""
    seen: list[dict] = []

    async def collect() -> None:
        while not until(seen):
            seen.extend(orjson.loads(await ws.recv()))

    await asyncio.wait_for(collect(), timeout)
    return seen


def of_type(found: list[dict], kind: str) -> list[dict]:
    return [m for m in found if m["type"] == kind]


async def test_snapshot_then_updates_in_sequence(stack: Stack) -> None:
    await stack.publish(incident("inc-a", cells=["231102001001001"]))
    ws = await stack.client()
    got = await messages(ws, lambda s: of_type(s, "snapshot"))
    snapshot = of_type(got, "snapshot")[0]
    assert list(snapshot["channels"]["incidents"]) == ["inc-a"]
    assert snapshot["seq"]["incidents"] == 1
    await stack.publish(incident("inc-b", cells=["231123001001001"]), incident("inc-a", cells=["231102001001001"],
                                                                               colour="red", revision=2))
    got = await messages(ws, lambda s: len(of_type(s, "update")) >= 2)
    updates = of_type(got, "update")
    assert [(u["seq"], u["key"], u["data"]["colour"]) for u in updates] == [(2, "inc-b", "yellow"),
                                                                           (3, "inc-a", "red")]
    await ws.close()


async def test_county_scope_sees_only_its_incidents(stack: Stack) -> None:
    await stack.publish(incident("aihui", cells=["231102001001001"]), incident("xunke", cells=["231123001001001"]))
    ws = await stack.client(role="viewer", scope="231102")
    snapshot = of_type(await messages(ws, lambda s: of_type(s, "snapshot")), "snapshot")[0]
    assert list(snapshot["channels"]["incidents"]) == ["aihui"]
    await stack.publish(incident("xunke", cells=["231123001001001"], revision=2),
                        incident("aihui", cells=["231102001001001"], revision=2))
    updates = of_type(await messages(ws, lambda s: of_type(s, "update")), "update")
    assert [u["key"] for u in updates] == ["aihui"]
    await ws.close()


async def test_resume_gets_exactly_the_missed_updates(stack: Stack) -> None:
    await stack.publish(incident("inc-0", cells=["231102001001001"]))
    ws = await stack.client()
    snapshot = of_type(await messages(ws, lambda s: of_type(s, "snapshot")), "snapshot")[0]
    last = snapshot["seq"]
    await ws.close()
    await stack.publish(*(incident(f"inc-{i}", cells=["231102001001001"]) for i in range(1, 6)))
    ws = await stack.client(resume=last)
    await stack.publish(incident("inc-6", cells=["231102001001001"]))
    got = await messages(ws, lambda s: any(u.get("key") == "inc-6" for u in s))
    assert not of_type(got, "snapshot")
    assert [u["seq"] for u in of_type(got, "update")] == [2, 3, 4, 5, 6, 7]
    await ws.close()


async def test_resume_too_old_gets_a_snapshot(stack: Stack) -> None:
    await stack.publish(*(incident(f"inc-{i}", cells=["231102001001001"]) for i in range(5)))
    await stack.redis.xtrim(stack.keys.updates(schemas_channel("incidents")), minid="4-0", approximate=False)
    resume = {c: 0 for c in ("incidents", "cells", "gauges", "crests", "forecasts", "cameras",
                             "camera_faults", "sources")}
    resume["incidents"] = 1
    ws = await stack.client(resume=resume)
    got = await messages(ws, lambda s: of_type(s, "snapshot"))
    assert len(of_type(got, "snapshot")[0]["channels"]["incidents"]) == 5
    await ws.close()


def schemas_channel(name: str):
    from stream.screens.projection import Channel

    return Channel(name)


def stalled_client(port: int, hello: bytes) -> socket.socket:
    """A websocket client that says hello and then never reads (tiny receive buffer)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    protocol = ClientProtocol(parse_uri(f"ws://127.0.0.1:{port}/"))
    protocol.send_request(protocol.connect())
    sock.sendall(b"".join(protocol.data_to_send()))
    while protocol.state is State.CONNECTING:
        protocol.receive_data(sock.recv(4096))
    protocol.send_text(hello)
    sock.sendall(b"".join(protocol.data_to_send()))
    return sock


async def until(condition, timeout: float = 30.0) -> None:
    """Wait (bounded, generously: shared machines) for ``condition()`` to hold."""
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), timeout)


async def joined(hub, subject: str):
    """The hub's session of ``subject``, once its hello has been handled."""
    await until(lambda: any(s.claims.subject == subject for s in hub.sessions))
    return next(s for s in hub.sessions if s.claims.subject == subject)


async def test_stalled_client_never_holds_back_fast_clients(stack: Stack) -> None:
    """One client stops reading; fast clients still get every update, the stalled one is cut off or coalesced."""
    fast = [await stack.client() for _ in range(3)]
    for ws in fast:
        await messages(ws, lambda s: of_type(s, "snapshot"))
    stalled = await asyncio.to_thread(stalled_client, stack.gateway.ws_port,
                                      orjson.dumps({"type": "hello", "token": token(stack.settings, subject="stalled")}))
    hub = stack.gateway.hub
    stalled_session = await joined(hub, "stalled")
    big = "x" * 2000
    total = 0
    for round_ in range(20):
        batch = [incident(f"inc-{i}", cells=["231102001001001"], title=big, revision=round_ + 1)
                 for i in range(50)]
        await stack.publish(*batch)
        total += len(batch)
        for ws in fast:  # every fast client gets every update, in order, without merging
            got = await messages(ws, lambda s: any(u.get("seq") == total for u in s))
            assert [u["seq"] for u in of_type(got, "update")] == list(range(total - 49, total + 1))
    assert stalled_session in hub.sessions
    others = [s for s in hub.sessions if s is not stalled_session]
    assert len(others) == 3 and all(not s.outbox.coalesced and not s.overflowed for s in others)
    assert stalled_session.outbox.coalesced > 0 and not stalled_session.overflowed
    # new keys cannot be merged into waiting ones: the outbox overflows and the client is cut off
    await stack.publish(*(incident(f"new-{i}", cells=["231102001001001"]) for i in range(300)))
    total += 300
    for ws in fast:
        got = await messages(ws, lambda s: any(u.get("seq") == total for u in s))
    await until(lambda: stalled_session not in hub.sessions)
    assert hub.metrics.slow_disconnects._value.get() == 1
    for ws in fast:
        await ws.close()
    stalled.close()


async def test_token_is_required_and_checked(stack: Stack) -> None:
    ws = await connect(stack.ws_url)
    await ws.send(orjson.dumps({"type": "hello", "token": "not-a-jwt"}).decode())
    got = orjson.loads(await ws.recv())
    assert got["type"] == "error" and got["code"] == "auth"
    with pytest.raises(ConnectionClosed) as closed:
        await ws.recv()
    assert closed.value.rcvd.code == 4001
    expired = issue(stack.settings.jwt_secret.get_secret_value(), subject="x", role=schemas.Role.ADMIN,
                    scope="231100", now=datetime.now(timezone.utc) - timedelta(hours=2), ttl_s=60)
    ws = await connect(stack.ws_url)
    await ws.send(orjson.dumps({"type": "hello", "token": expired}).decode())
    assert "expired" in orjson.loads(await ws.recv())["reason"]


def tampered_tokens(settings) -> dict[str, str]:
    """A valid viewer token altered each way an attacker would try."""
    import base64

    import jwt

    good = token(settings, role="viewer", scope="231102")
    header, payload, signature = good.split(".")
    claims = jwt.decode(good, options={"verify_signature": False})
    b64 = lambda doc: base64.urlsafe_b64encode(orjson.dumps(doc)).rstrip(b"=").decode()  # noqa: E731
    return {
        "payload changed": ".".join([header, b64({**claims, "role": "admin", "scope": "231100"}), signature]),
        "alg none": ".".join([b64({"alg": "none", "typ": "JWT"}), b64({**claims, "role": "admin"}), ""]),
        "wrong key": jwt.encode({**claims, "role": "admin"}, "an-attacker-key-of-32-characters!", algorithm="HS256"),
        "unknown role": jwt.encode({**claims, "role": "mayor"}, settings.jwt_secret.get_secret_value(),
                                   algorithm="HS256"),
        "expired": issue(settings.jwt_secret.get_secret_value(), subject="x", role=schemas.Role.ADMIN,
                         scope="231100", now=datetime.now(timezone.utc) - timedelta(hours=2), ttl_s=60),
    }


async def refused_login(url: str, raw_token: str) -> str:
    ws = await connect(url)
    await ws.send(orjson.dumps({"type": "hello", "token": raw_token}).decode())
    got = orjson.loads(await ws.recv())
    with pytest.raises(ConnectionClosed) as closed:
        await ws.recv()
    assert got["type"] == "error" and got["code"] == "auth" and closed.value.rcvd.code == 4001
    return got["reason"]


async def test_tampered_tokens_are_refused_and_failed_logins_are_limited(stack: Stack, caplog) -> None:
    tampered = tampered_tokens(stack.settings)
    reasons = {name: await refused_login(stack.ws_url, raw) for name, raw in tampered.items()}
    assert "Signature verification failed" in reasons["payload changed"]
    assert "alg" in reasons["alg none"] or "algorithm" in reasons["alg none"]
    assert "Signature verification failed" in reasons["wrong key"]
    assert "'mayor'" in reasons["unknown role"] and "expired" in reasons["expired"]
    # the address has used its tries: now even a good token is refused, without being checked
    while "too many failed logins" not in (reason := await refused_login(stack.ws_url, "x.y.z")):
        pass
    assert "too many failed logins" in await refused_login(stack.ws_url, token(stack.settings))
    assert "login refused client=127.0.0.1" in caplog.text
    assert not any(raw in caplog.text for raw in tampered.values())


async def test_foreign_origin_is_refused(stack: Stack) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await connect(stack.ws_url, origin="http://evil.example")
    assert refused.value.response.status_code == 403
    ws = await connect(stack.ws_url, origin=f"http://127.0.0.1:{stack.settings.http_port}")
    await ws.close()


async def test_oversized_message_closes_the_connection(stack: Stack) -> None:
    ws = await stack.client()
    await messages(ws, lambda s: of_type(s, "snapshot"))
    await ws.send("x" * (stack.settings.gateway_max_message_bytes + 1))
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await ws.recv()
    assert closed.value.rcvd.code == 1009


async def command(ws: ClientConnection, incident_id: str, action: str = "acknowledge") -> dict:
    command_id = uuid.uuid4().hex
    await ws.send(orjson.dumps({"type": "command", "command_id": command_id, "incident_id": incident_id,
                                "action": action}).decode())
    got = await messages(ws, lambda s: any(m.get("command_id") == command_id for m in s))
    return next(m for m in got if m.get("command_id") == command_id)


async def test_commands_are_checked_for_role_scope_and_rate(stack: Stack) -> None:
    await stack.publish(incident("aihui", cells=["231102001001001"]), incident("xunke", cells=["231123001001001"]))
    viewer = await stack.client(role="viewer")
    await messages(viewer, lambda s: of_type(s, "snapshot"))
    assert (await command(viewer, "aihui"))["code"] == "forbidden"
    officer = await stack.client(role="duty_officer", scope="231102")
    await messages(officer, lambda s: of_type(s, "snapshot"))
    assert (await command(officer, "xunke"))["code"] == "out_of_scope"
    assert (await command(officer, "nope"))["code"] == "unknown_incident"
    # burst is 3 and the out-of-scope/unknown commands spent 2
    assert (await command(officer, "aihui"))["ok"] is True
    assert (await command(officer, "aihui"))["code"] == "rate_limited"


async def test_an_accepted_command_is_produced_to_the_command_topic(stack: Stack) -> None:
    from aiokafka import AIOKafkaConsumer

    from stream import topics
    from stream.runtime.admin import bootstrap_servers

    await stack.publish(incident("231102-flood-1", cells=["231102001001001"]))
    consumer = AIOKafkaConsumer(topics.topic_name(topics.COMMANDS, stack.settings.drill_id),
                                bootstrap_servers=bootstrap_servers(stack.settings.broker_url),
                                auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    try:
        officer = await stack.client(role="duty_officer", scope="231102")
        await messages(officer, lambda s: of_type(s, "snapshot"))
        result = await command(officer, "231102-flood-1", "acknowledge")
        assert result["ok"] is True
        record = await asyncio.wait_for(consumer.getone(), 30)
    finally:
        await consumer.stop()
    produced = schemas.decode(schemas.OperatorCommand, record.value)
    assert record.key == b"231102-flood-1"
    assert (produced.command_id, produced.action, produced.operator, produced.role, produced.scope) == (
        result["command_id"], schemas.CommandAction.ACKNOWLEDGE, "duty_officer-231102", schemas.Role.DUTY_OFFICER,
        "231102")
    # signed with the gateway's key: the stream applies it (and would dead-letter it unsigned)
    from stream.incidents.signature import check_signature

    assert check_signature(produced, stack.settings.jwt_secret.get_secret_value()) == produced


async def test_two_gateways_read_redis_independently(stack: Stack) -> None:
    second_settings = stack.settings.model_copy(update={"http_port": free_port(), "ws_port": free_port()})
    second = await start_gateway(second_settings)
    try:
        one = await stack.client()
        two = await connect(f"ws://127.0.0.1:{second.ws_port}/")
        await two.send(orjson.dumps({"type": "hello", "token": token(stack.settings)}).decode())
        for ws in (one, two):
            await messages(ws, lambda s: of_type(s, "snapshot"))
        await stack.publish(incident("231102-flood-9", cells=["231102001001001"]))
        got = [of_type(await messages(ws, lambda s: of_type(s, "update")), "update")[0] for ws in (one, two)]
        assert got[0] == got[1] and got[0]["key"] == "231102-flood-9"
    finally:
        await second.stop()


async def test_the_hub_reads_on_after_redis_reads_time_out(stack: Stack) -> None:
    """A starved loop (or a dropped connection) makes a Redis read fail; the tail retries from where it was.

    Here by construction: a 0.3 s socket timeout under the tail's 1 s XREAD BLOCK, so every idle read times out.
    """
    hub = stack.gateway.hub
    ws = await stack.client()
    await messages(ws, lambda s: of_type(s, "snapshot"))
    normal, hub.client = hub.client, aioredis.from_url(stack.settings.redis_url, socket_timeout=0.3)
    try:
        await until(lambda: hub.metrics.redis_errors._value.get() >= 2)
        assert not any(task.done() for task in stack.gateway.tasks)
        await stack.publish(incident("231102-flood-7", cells=["231102001001001"]))
        updates = of_type(await messages(ws, lambda s: of_type(s, "update")), "update")
        assert [(u["seq"], u["key"]) for u in updates] == [(1, "231102-flood-7")]
    finally:
        timing_out, hub.client = hub.client, normal
        await timing_out.aclose()
    await ws.close()


async def test_a_gap_in_the_update_stream_resyncs_every_client(stack: Stack) -> None:
    from command_ui.mirror import Update
    from stream.screens.projection import Channel

    ws = await stack.client()
    await messages(ws, lambda s: of_type(s, "snapshot"))
    hub = stack.gateway.hub
    head = hub.mirror.head[Channel.INCIDENTS]
    assert hub.fan_out([Update(Channel.INCIDENTS, head + 5, "ghost", b"{}")]) is False
    await hub.resync()
    snapshot = of_type(await messages(ws, lambda s: of_type(s, "snapshot")), "snapshot")[0]
    assert "ghost" not in snapshot["channels"]["incidents"] and hub.metrics.resyncs._value.get() == 1


async def test_a_reset_projection_is_noticed_and_resent(stack: Stack) -> None:
    await stack.publish(*(incident(f"231102-flood-{i}", cells=["231102001001001"]) for i in range(3)))
    ws = await stack.client()
    await messages(ws, lambda s: of_type(s, "snapshot"))
    # Redis loses the projection (restart without persistence) and the projector starts again from 1
    stale = [key async for key in stack.redis.scan_iter(match=f"{stack.settings.redis_prefix}*")]
    await stack.redis.delete(*stale)
    await stack.publish(incident("231102-flood-new", cells=["231102001001001"]))
    got = await messages(ws, lambda s: of_type(s, "snapshot"))
    snapshot = of_type(got, "snapshot")[0]
    assert list(snapshot["channels"]["incidents"]) == ["231102-flood-new"] and snapshot["seq"]["incidents"] == 1


def opened(port: int, count: int, hello: bytes | None) -> list[socket.socket]:
    """``count`` websocket connections that never read; each says ``hello`` first, or nothing at all."""
    socks = []
    for _ in range(count):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", port))
        protocol = ClientProtocol(parse_uri(f"ws://127.0.0.1:{port}/"))
        protocol.send_request(protocol.connect())
        sock.sendall(b"".join(protocol.data_to_send()))
        while protocol.state is State.CONNECTING:
            protocol.receive_data(sock.recv(4096))
        if hello is not None:
            protocol.send_text(hello)
            sock.sendall(b"".join(protocol.data_to_send()))
        socks.append(sock)
    return socks


async def test_a_thousand_idle_connections_leave_memory_bounded_and_others_served(stack: Stack) -> None:
    """500 clients that log in and never read, 500 that never even say hello: the silent ones are closed after the
    hello timeout, every session's outbox stays within its bound, and a fast client gets every update."""
    port, hub = stack.gateway.ws_port, stack.gateway.hub
    hello = orjson.dumps({"type": "hello", "token": token(stack.settings, subject="idle")})
    idle = await asyncio.to_thread(opened, port, 500, hello)
    silent = await asyncio.to_thread(opened, port, 500, None)
    try:
        await until(lambda: len(hub.sessions) == 500, timeout=120)
        fast = await stack.client()
        await messages(fast, lambda s: of_type(s, "snapshot"))
        for round_ in range(5):
            await stack.publish(*(incident(f"inc-{i}", cells=["231102001001001"], revision=round_ + 1)
                                  for i in range(50)))
            got = await messages(fast, lambda s: any(u.get("seq") == 50 * (round_ + 1) for u in s), timeout=120)
            assert [u["seq"] for u in of_type(got, "update")][-50:] == list(range(50 * round_ + 1, 50 * round_ + 51))
        capacity = stack.settings.gateway_client_queue
        assert all(len(s.outbox) <= capacity for s in hub.sessions)

        def closed_by_server(sock: socket.socket) -> bool:  # the close frame, then end of stream
            sock.settimeout(60)
            try:
                while sock.recv(65536):
                    pass
            except (ConnectionResetError, TimeoutError):
                return False
            return True

        assert all(await asyncio.gather(*(asyncio.to_thread(closed_by_server, s) for s in silent[:20])))
        await fast.close()
    finally:
        for sock in idle + silent:
            sock.close()
