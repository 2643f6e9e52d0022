"""The GB/T 28181 SIP server against the device simulator over real UDP/TCP sockets on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stream.settings import load_settings
from tests.helpers.gb28181_device import Device, SimChannel, channel_ids
from vision.gb28181.devices import KeepalivePolicy, WentOffline
from vision.sources.gb28181 import (
    AlarmReceived,
    CatalogueReceived,
    Registered,
    ServerConfig,
    ServerEvent,
    SipServer,
)

pytestmark = pytest.mark.integration

PLATFORM = "23110000002000000001"
DEVICE = "23110200001180000001"
PASSWORD = "12345678"
BOUND_S = 30.0
"""A generous bound on waits that end as soon as their condition holds."""


async def until(condition: Callable[[], bool], what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + BOUND_S
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"not within {BOUND_S} s: {what}")
        await asyncio.sleep(0.02)


class VirtualClock:
    """The server's clock: a keepalive window passes when a test moves it, however slow the machine."""

    def __init__(self) -> None:
        self.now = 1_782_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def server() -> AsyncIterator[tuple[SipServer, list[ServerEvent]]]:
    events: list[ServerEvent] = []
    config = ServerConfig(PLATFORM, PLATFORM[:10], port=0, keepalive=KeepalivePolicy(interval_s=60, missed=3),
                          sweep_every_s=0.05)
    sip = SipServer(config, lambda device_id: PASSWORD if device_id == DEVICE else None, events.append,
                    clock=VirtualClock())
    await sip.start()
    yield sip, events
    await sip.stop()


def channels(count: int, with_position: int) -> list[SimChannel]:
    ids = channel_ids("23110200", count)
    return [SimChannel(cid, f"通道{i + 1}", "231102", 127.5 if i < with_position else None,
                       50.2 if i < with_position else None) for i, cid in enumerate(ids)]


async def device(sip: SipServer, count: int = 100, with_position: int = 90) -> Device:
    sim = Device(DEVICE, PASSWORD, ("127.0.0.1", sip.port), PLATFORM[:10], PLATFORM, channels(count, with_position))
    await sim.start()
    return sim


async def test_register_with_the_right_password_and_refuse_a_wrong_one(server) -> None:
    sip, events = server
    sim = await device(sip)
    try:
        assert await sim.register(password="wrong") == 403
        assert sip.refused["auth_failed"] == 1
        assert sip.devices.online() == []
        assert await sim.register() == 200
        assert sip.devices.online() == [DEVICE]
        assert [e for e in events if isinstance(e, Registered)] == [Registered(DEVICE, sim.local, "udp")]
        assert await sim.register(expires=0) == 200  # unregister
        assert sip.devices.online() == []
        assert any(isinstance(e, WentOffline) and e.reason == "unregistered" for e in events)
    finally:
        await sim.stop()


async def test_catalogue_of_100_channels_arrives_in_parts(server) -> None:
    sip, events = server
    sim = await device(sip)
    try:
        assert await sim.register() == 200
        assert await sip.query_catalog(DEVICE) == 200
        await until(lambda: any(isinstance(e, CatalogueReceived) for e in events), "the whole catalogue")
        catalogue = next(e for e in events if isinstance(e, CatalogueReceived))
        assert len(catalogue.items) == 100 and sim.catalog_queries == 1
        assert {i.device_id for i in catalogue.items} == set(channel_ids("23110200", 100))
        assert sum(i.longitude is None for i in catalogue.items) == 10
        assert catalogue.items[0].name == "通道1"  # GB2312 body decoded
    finally:
        await sim.stop()


async def test_missed_keepalive_window_makes_the_device_and_its_channels_offline(server) -> None:
    sip, events = server
    sim = await device(sip, count=5, with_position=5)
    try:
        assert await sim.register() == 200
        await sip.query_catalog(DEVICE)
        await until(lambda: any(isinstance(e, CatalogueReceived) for e in events), "the catalogue")
        clock = sip.clock
        assert isinstance(clock, VirtualClock)
        clock.now += 170
        sim.keepalive()
        await until(lambda: sip.handled["Keepalive"] == 1, "the keepalive")
        clock.now += 180  # 180 s after the keepalive: still within the 3 × 60 s window
        await asyncio.sleep(0.2)  # several sweeps
        assert not any(isinstance(e, WentOffline) for e in events)
        clock.now += 1
        await until(lambda: any(isinstance(e, WentOffline) for e in events), "offline after the window")
        gone = next(e for e in events if isinstance(e, WentOffline))
        assert gone.reason == "keepalive" and set(gone.channels) == set(channel_ids("23110200", 5))
        sim.keepalive()  # a device the platform dropped must register again
        await until(lambda: sip.refused["unregistered"] == 1, "the keepalive of an offline device refused")
    finally:
        await sim.stop()


async def test_alarms_arrive_only_after_the_guard_command(server) -> None:
    sip, events = server
    sim = await device(sip, count=3, with_position=3)
    try:
        assert await sim.register() == 200
        assert await sip.subscribe_alarms(DEVICE) == 200 and sim.subscribed
        channel = sim.channels[0].channel_id
        assert not sim.alarm(channel)  # not armed: the device says nothing
        assert await sip.guard(DEVICE) == 200
        assert sim.guard_commands == ["SetGuard"]
        await until(lambda: sip.handled["ControlResponse"] == 1, "the guard command's response")
        assert sim.alarm(channel, method=2, alarm_type=1, priority=2)
        await until(lambda: any(isinstance(e, AlarmReceived) for e in events), "the alarm")
        alarm = next(e for e in events if isinstance(e, AlarmReceived))
        assert (alarm.device_id, alarm.alarm.device_id, alarm.alarm.method, alarm.alarm.alarm_type,
                alarm.alarm.priority) == (DEVICE, channel, 2, 1, 2)
    finally:
        await sim.stop()


HEAD = ("Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK1\r\nFrom: <sip:{d}@2311000000>;tag=1\r\n"
        "To: <sip:{d}@2311000000>\r\nCall-ID: x1\r\nCSeq: 1 {m}\r\n")


def request(method: str, extra: str = "", body: bytes = b"", device_id: str = DEVICE) -> bytes:
    return (f"{method} sip:{PLATFORM}@2311000000 SIP/2.0\r\n" + HEAD.format(d=device_id, m=method) + extra
            + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


MALFORMED: list[tuple[bytes, str]] = [
    (b"\x00\xff\xfe garbage", "unparsable"),
    (b"SIP/2.0 abc Bad\r\n\r\n", "unparsable"),
    (b"REGISTER\r\n\r\n", "unparsable"),
    (b"MESSAGE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4\r\n\r\n", "missing_header"),
    (b"X" * 65_000, "too_large"),
    (request("INVITE"), "method"),
    (request("REGISTER", device_id="notadevice"), "device_id"),
    (request("REGISTER", "Authorization: Basic Zm9vOmJhcg==\r\n"), "auth_format"),
    (request("REGISTER", 'Authorization: Digest username="' + DEVICE + '"\r\n'), "auth_format"),
    (request("REGISTER", 'Authorization: Digest username="' + DEVICE + '", realm="r", nonce="n", uri="u", '
                         'response="r", algorithm=SHA-512\r\n'), "auth_format"),
    (request("REGISTER", 'Authorization: Digest username="' + DEVICE + '", realm="r", nonce="forged", uri="u", '
                         'response="0"\r\n'), "stale_nonce"),
    (request("REGISTER", "Expires: soon\r\nAuthorization: Digest x=\r\n"), "auth_format"),
    (request("MESSAGE", body=b"<Notify><CmdType>Keepalive</CmdType></Notify>"), "unregistered"),
    (request("REGISTER", "Header-Without-Colon\r\n" * 300), "unparsable"),
]


async def test_malformed_and_hostile_messages_are_refused_counted_and_survived(server) -> None:
    sip, _ = server
    sim = await device(sip, count=1, with_position=1)
    try:
        for data, reason in MALFORMED:
            before = sip.refused[reason]
            sim.send_raw(data)
            await until(lambda: sip.refused[reason] > before, f"{data[:60]!r} refused as {reason}")
        assert sip.refused["internal"] == 0
        # a registered device's hostile bodies: XML bombs, wrong ids, bad numbers
        sim.drain()
        assert await sim.register() == 200
        bombs = [b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa">]><Notify>&a;</Notify>',
                 b"<Notify><CmdType>Keepalive</CmdType><SN>1</SN><DeviceID>1</DeviceID></Notify>",
                 b"<Notify><CmdType>Alarm</CmdType><SN>x</SN><DeviceID>" + DEVICE.encode() + b"</DeviceID></Notify>",
                 b"<Response><CmdType>Catalog</CmdType><SN>1</SN><DeviceID>" + DEVICE.encode()
                 + b"</DeviceID><SumNum>1</SumNum><DeviceList><Item><DeviceID>" + DEVICE.encode()
                 + b"</DeviceID><Longitude>999</Longitude><Latitude>1</Latitude></Item></DeviceList></Response>",
                 b'<?xml version="1.0" encoding="x-nonsense"?><Notify/>', b"<unclosed"]
        for body in bombs:
            before = sip.refused["body"]
            sim.send_raw(request("MESSAGE", body=body))
            await until(lambda: sip.refused["body"] > before, f"{body[:60]!r} refused")
        assert sip.devices.online() == [DEVICE] and sip.refused["internal"] == 0
    finally:
        await sim.stop()


async def test_tcp_framing_refuses_a_hostile_content_length_and_serves_the_next_connection(server) -> None:
    sip, _ = server
    reader, writer = await asyncio.open_connection("127.0.0.1", sip.port)
    writer.write(request("OPTIONS").replace(b"Content-Length: 0", b"Content-Length: 999999999"))
    await writer.drain()
    assert await asyncio.wait_for(reader.read(), BOUND_S) == b""  # the server hangs up
    writer.close()
    await writer.wait_closed()
    assert sip.refused["too_large"] == 1
    reader, writer = await asyncio.open_connection("127.0.0.1", sip.port)
    writer.write(request("OPTIONS"))
    await writer.drain()
    assert (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), BOUND_S)).startswith(b"SIP/2.0 200")
    writer.close()
    await writer.wait_closed()


def test_the_server_listens_on_loopback_by_default() -> None:
    assert ServerConfig(PLATFORM, PLATFORM[:10]).host == "127.0.0.1"
    assert load_settings().gb28181_host == "127.0.0.1"  # never every interface unless configured


@settings(max_examples=500, deadline=None)
@given(st.sampled_from([d for d, _ in MALFORMED] + [request("REGISTER"), request("MESSAGE", body=b"<Notify/>"),
                                                    request("OPTIONS")]),
       st.lists(st.tuples(st.integers(0, 70_000), st.integers(0, 255)), min_size=1, max_size=8))
def test_mutated_messages_are_handled_or_refused_never_a_failure_of_ours(
        message: bytes, flips: list[tuple[int, int]]) -> None:
    sip = SipServer(ServerConfig(PLATFORM, PLATFORM[:10]), lambda device_id: PASSWORD, lambda event: None)
    data = bytearray(message)
    for at, value in flips:
        if data:
            data[at % len(data)] = value
    sip.receive(bytes(data), ("127.0.0.1", 5999), "udp")
    assert sip.refused["internal"] == 0
