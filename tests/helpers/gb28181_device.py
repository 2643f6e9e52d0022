"""A GB/T 28181 device (an NVR with N camera channels), written from the standard's message examples.

Deliberately independent of Amur's SIP code: it writes SIP as text with f-strings
and reads it with ``str.split``, as the examples of GB/T 28181-2016 Annex J show
them, so a mistake shared by both sides cannot pass the tests. Over UDP on
loopback it:

- REGISTERs (the unauthenticated first try, then the digest answer to the 401),
- sends keepalive MESSAGEs when told (``keepalive()``) or every ``interval`` s,
- answers a Catalog query with its channels, ``per_message`` items a MESSAGE,
- answers an Alarm SUBSCRIBE and a DeviceControl GuardCmd (and sends alarms only
  once armed, like the devices that need 布防),
- answers a Catalog SUBSCRIBE and pushes catalogue changes (``catalog_notify``:
  ADD, DEL, UPDATE, ON, OFF …) as NOTIFYs once subscribed, as MESSAGEs otherwise,
- serves a JPEG snapshot of each channel over HTTP (``/snapshot/{channel}.jpg``).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from dataclasses import dataclass, field

import cv2
import numpy as np
from aiohttp import web


@dataclass(frozen=True)
class SimChannel:
    channel_id: str
    name: str
    civil_code: str
    lon: float | None
    lat: float | None


def channel_ids(centre: str, count: int) -> list[str]:
    """20-digit ids: 8-digit centre code, industry 00, type 132 (IPC), network 0, serial."""
    return [f"{centre}00132{0}{i:06d}" for i in range(1, count + 1)]


@dataclass
class Device:
    device_id: str
    password: str
    server: tuple[str, int]
    realm: str
    platform_id: str
    channels: list[SimChannel]
    per_message: int = 20
    expires: int = 3600
    armed: bool = False
    catalog_queries: int = 0
    guard_commands: list[str] = field(default_factory=list)
    subscribed: bool = False
    catalog_subscribed: bool = False
    responses: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    http_port: int = 0
    _transport: asyncio.DatagramTransport | None = None
    _runner: web.AppRunner | None = None
    _cseq: int = 0
    _sn: int = 0

    # ---------------------------------------------------------------- sockets
    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(lambda: _Protocol(self), local_addr=("127.0.0.1", 0))
        app = web.Application()
        app.router.add_get("/snapshot/{channel}.jpg", self._snapshot)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.http_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._transport is not None:
            self._transport.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def local(self) -> tuple[str, int]:
        assert self._transport is not None
        return self._transport.get_extra_info("sockname")[:2]

    def send_raw(self, data: bytes) -> None:
        assert self._transport is not None
        self._transport.sendto(data, self.server)

    def drain(self) -> None:
        """Forget responses no one waited for (the answers to raw messages sent by a test)."""
        while not self.responses.empty():
            self.responses.get_nowait()

    async def response(self, timeout: float = 10.0) -> str:
        return await asyncio.wait_for(self.responses.get(), timeout)

    # ---------------------------------------------------------------- REGISTER (GB/T 28181-2016 §9.1.2.1)
    async def register(self, password: str | None = None, expires: int | None = None) -> int:
        """The two-step registration; the final status code."""
        call_id, tag = secrets.token_hex(8), secrets.token_hex(4)
        self.send_raw(self._register(call_id, tag, None, expires))
        first = await self.response()
        status = _status(first)
        if status != 401:
            return status
        params = dict(re.findall(r'(\w+)="?([^",]+)"?', first.split("WWW-Authenticate:")[1].split("\r\n")[0]))
        uri = f"sip:{self.platform_id}@{self.realm}"
        ha1 = _md5(f"{self.device_id}:{params['realm']}:{password if password is not None else self.password}")
        ha2 = _md5(f"REGISTER:{uri}")
        answer = _md5(f"{ha1}:{params['nonce']}:{ha2}")
        authorization = (f'Digest username="{self.device_id}", realm="{params["realm"]}", nonce="{params["nonce"]}", '
                         f'uri="{uri}", response="{answer}", algorithm=MD5')
        self.send_raw(self._register(call_id, tag, authorization, expires))
        return _status(await self.response())

    def _register(self, call_id: str, tag: str, authorization: str | None, expires: int | None) -> bytes:
        self._cseq += 1
        host, port = self.local
        lines = [f"REGISTER sip:{self.platform_id}@{self.realm} SIP/2.0",
                 f"Via: SIP/2.0/UDP {host}:{port};rport;branch=z9hG4bK{secrets.token_hex(6)}",
                 f"From: <sip:{self.device_id}@{self.realm}>;tag={tag}",
                 f"To: <sip:{self.device_id}@{self.realm}>",
                 f"Call-ID: {call_id}", f"CSeq: {self._cseq} REGISTER",
                 f"Contact: <sip:{self.device_id}@{host}:{port}>", "Max-Forwards: 70",
                 f"Expires: {self.expires if expires is None else expires}"]
        if authorization:
            lines.append(f"Authorization: {authorization}")
        return ("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode()

    # ---------------------------------------------------------------- MESSAGEs the device sends
    def message(self, body: str, method: str = "MESSAGE") -> None:
        self._cseq += 1
        host, port = self.local
        data = body.encode("gb18030")
        head = "\r\n".join([
            f"{method} sip:{self.platform_id}@{self.realm} SIP/2.0",
            f"Via: SIP/2.0/UDP {host}:{port};rport;branch=z9hG4bK{secrets.token_hex(6)}",
            f"From: <sip:{self.device_id}@{self.realm}>;tag={secrets.token_hex(4)}",
            f"To: <sip:{self.platform_id}@{self.realm}>", f"Call-ID: {secrets.token_hex(8)}",
            f"CSeq: {self._cseq} {method}", "Content-Type: Application/MANSCDP+xml", "Max-Forwards: 70",
            *(["Event: Catalog", "Subscription-State: active"] if method == "NOTIFY" else []),
            f"Content-Length: {len(data)}"])
        self.send_raw(head.encode() + b"\r\n\r\n" + data)

    def keepalive(self) -> None:
        self._sn += 1
        self.message('<?xml version="1.0" encoding="GB2312"?>\r\n<Notify>\r\n<CmdType>Keepalive</CmdType>\r\n'
                     f"<SN>{self._sn}</SN>\r\n<DeviceID>{self.device_id}</DeviceID>\r\n<Status>OK</Status>\r\n"
                     "</Notify>\r\n")

    def alarm(self, channel_id: str, *, method: int = 5, alarm_type: int = 2, priority: int = 1) -> bool:
        """Send an alarm if armed; False (nothing sent) otherwise, as such devices behave."""
        if not self.armed:
            return False
        self._sn += 1
        self.message('<?xml version="1.0" encoding="GB2312"?>\r\n<Notify>\r\n<CmdType>Alarm</CmdType>\r\n'
                     f"<SN>{self._sn}</SN>\r\n<DeviceID>{channel_id}</DeviceID>\r\n"
                     f"<AlarmPriority>{priority}</AlarmPriority>\r\n<AlarmMethod>{method}</AlarmMethod>\r\n"
                     "<AlarmTime>2026-06-21T12:00:00</AlarmTime>\r\n<AlarmDescription>告警</AlarmDescription>\r\n"
                     f"<Info>\r\n<AlarmType>{alarm_type}</AlarmType>\r\n</Info>\r\n</Notify>\r\n")
        return True

    def catalog_notify(self, changes: list[tuple[SimChannel, str]]) -> None:
        """Push catalogue changes (GB/T 28181-2016 §9.7: Notify Catalog, one ``Event`` per item); the
        channels served change with them. A NOTIFY once the platform subscribed, a MESSAGE otherwise."""
        for channel, event in changes:
            self.channels = [c for c in self.channels if c.channel_id != channel.channel_id]
            if event != "DEL":
                self.channels.append(channel)
        self._sn += 1
        items = "".join(self._item(c, event) if event in ("ADD", "UPDATE") else
                        f"<Item>\r\n<DeviceID>{c.channel_id}</DeviceID>\r\n<Event>{event}</Event>\r\n</Item>\r\n"
                        for c, event in changes)
        self.message('<?xml version="1.0" encoding="GB2312"?>\r\n<Notify>\r\n<CmdType>Catalog</CmdType>\r\n'
                     f"<SN>{self._sn}</SN>\r\n<DeviceID>{self.device_id}</DeviceID>\r\n<SumNum>{len(changes)}</SumNum>\r\n"
                     f'<DeviceList Num="{len(changes)}">\r\n{items}</DeviceList>\r\n</Notify>\r\n',
                     method="NOTIFY" if self.catalog_subscribed else "MESSAGE")

    def _item(self, c: SimChannel, event: str = "") -> str:
        return (f"<Item>\r\n<DeviceID>{c.channel_id}</DeviceID>\r\n<Name>{c.name}</Name>\r\n"
                f"<Manufacturer>Sim</Manufacturer>\r\n<Model>IPC</Model>\r\n<Owner>Owner</Owner>\r\n"
                f"<CivilCode>{c.civil_code}</CivilCode>\r\n<Address>Address</Address>\r\n<Parental>0</Parental>\r\n"
                f"<ParentID>{self.device_id}</ParentID>\r\n<SafetyWay>0</SafetyWay>\r\n"
                f"<RegisterWay>1</RegisterWay>\r\n<Secrecy>0</Secrecy>\r\n<Status>ON</Status>\r\n"
                + (f"<Longitude>{c.lon}</Longitude>\r\n<Latitude>{c.lat}</Latitude>\r\n" if c.lon is not None else "")
                + (f"<Event>{event}</Event>\r\n" if event else "") + "</Item>\r\n")

    def _catalog(self, sn: str) -> None:
        total = len(self.channels)
        for start in range(0, total, self.per_message):
            part = self.channels[start:start + self.per_message]
            items = "".join(self._item(c) for c in part)
            self.message('<?xml version="1.0" encoding="GB2312"?>\r\n<Response>\r\n<CmdType>Catalog</CmdType>\r\n'
                         f"<SN>{sn}</SN>\r\n<DeviceID>{self.device_id}</DeviceID>\r\n<SumNum>{total}</SumNum>\r\n"
                         f'<DeviceList Num="{len(part)}">\r\n{items}</DeviceList>\r\n</Response>\r\n')

    # ---------------------------------------------------------------- requests the platform sends
    def on_datagram(self, text: str) -> None:
        if text.startswith("SIP/2.0"):
            self.responses.put_nowait(text)
            return
        method = text.split(" ", 1)[0]
        self.send_raw(_ok(text))
        body = text.split("\r\n\r\n", 1)[1] if "\r\n\r\n" in text else ""
        cmd = re.search(r"<CmdType>(\w+)</CmdType>", body)
        sn = re.search(r"<SN>(\d+)</SN>", body)
        if method == "SUBSCRIBE" and cmd and cmd.group(1) == "Alarm":
            self.subscribed = True
        elif method == "SUBSCRIBE" and cmd and cmd.group(1) == "Catalog":
            self.catalog_subscribed = True
        elif method == "MESSAGE" and cmd and cmd.group(1) == "Catalog" and sn:
            self.catalog_queries += 1
            self._catalog(sn.group(1))
        elif method == "MESSAGE" and cmd and cmd.group(1) == "DeviceControl" and sn:
            guard = re.search(r"<GuardCmd>(\w+)</GuardCmd>", body)
            if guard:
                self.guard_commands.append(guard.group(1))
                self.armed = guard.group(1) == "SetGuard"
            self.message('<?xml version="1.0" encoding="GB2312"?>\r\n<Response>\r\n<CmdType>DeviceControl</CmdType>\r\n'
                         f"<SN>{sn.group(1)}</SN>\r\n<DeviceID>{self.device_id}</DeviceID>\r\n<Result>OK</Result>\r\n"
                         "</Response>\r\n")

    async def _snapshot(self, request: web.Request) -> web.Response:
        channel = request.match_info["channel"]
        if channel not in {c.channel_id for c in self.channels}:
            raise web.HTTPNotFound()
        seed = int(channel[-6:])
        rng = np.random.default_rng(seed + int(asyncio.get_running_loop().time() * 2))
        image = np.zeros((360, 640, 3), np.uint8)
        image[:] = (90 + seed % 60, 120, 80)
        image = cv2.add(image, rng.integers(0, 20, image.shape, dtype=np.uint8))
        cv2.putText(image, channel[-6:], (20, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (255, 255, 255), 2)
        ok, jpeg = cv2.imencode(".jpg", image)
        return web.Response(body=jpeg.tobytes(), content_type="image/jpeg")


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, device: Device) -> None:
        self.device = device

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.device.on_datagram(data.decode("gb18030", errors="replace"))


def _status(text: str) -> int:
    return int(text.split(" ", 2)[1])


def _ok(request: str) -> bytes:
    head = request.split("\r\n\r\n", 1)[0].split("\r\n")
    keep = [line for line in head[1:] if line.split(":", 1)[0].lower() in ("via", "from", "to", "call-id", "cseq")]
    keep = [line + f";tag={secrets.token_hex(4)}" if line.lower().startswith("to:") else line for line in keep]
    return ("SIP/2.0 200 OK\r\n" + "\r\n".join(keep) + "\r\nContent-Length: 0\r\n\r\n").encode()


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()
