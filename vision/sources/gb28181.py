"""The GB/T 28181 upper platform's SIP server: UDP and TCP on asyncio, one object built by its owner.

Devices and lower platforms REGISTER here (digest, :mod:`vision.gb28181.digest`),
send keepalive and alarm MESSAGEs, and answer the Catalog queries, alarm
SUBSCRIBEs and guard commands this server sends them. SIP text is parsed and
written by aiosipua's message model (``SipMessage.parse``, ``bytes(message)``);
the transports, limits and dispatch are here, so every refusal is counted.

Contract: every datagram or TCP message is either handled or *refused* — counted
in :attr:`SipServer.refused` by reason (``too_large``, ``unparsable``,
``missing_header``, ``bad_header``, ``method``, ``device_id``, ``auth_format``,
``auth_failed``, ``stale_nonce``, ``unregistered``, ``body``) and answered with
a 4xx where there is a Via to answer to. Nothing a peer sends ends the server.
What happened is reported to ``on_event`` (a plain callable) as
:class:`Registered`, :class:`CatalogueReceived`, :class:`CatalogueChanged`,
:class:`AlarmReceived` and :class:`WentOffline`; the owner turns them into inventory and findings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace

from aiosipua.message import SipMessage, SipRequest, SipResponse

from vision.gb28181 import digest, manscdp
from vision.gb28181.devices import Devices, KeepalivePolicy, WentOffline
from vision.gb28181.errors import DigestError, Gb28181Error, ManscdpError, SipRefused
from vision.gb28181.manscdp import (
    AlarmNotify,
    CatalogItem,
    CatalogNotify,
    CatalogResponse,
    ControlResponse,
    Keepalive,
)

log = logging.getLogger(__name__)

MAX_MESSAGE = 60 * 1024
"""Largest SIP message taken (a UDP datagram can carry at most 65,507 bytes; catalogues come in parts)."""
MAX_HEADER_BYTES = 16 * 1024
NONCES_KEPT = 4096
NONCE_TTL_S = 300.0
METHODS = frozenset({"REGISTER", "MESSAGE", "NOTIFY", "OPTIONS", "BYE", "ACK"})
REQUIRED = ("via", "from", "to", "call-id", "cseq")
REPLY_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class Registered:
    device_id: str
    address: tuple[str, int]
    transport: str


@dataclass(frozen=True, slots=True)
class CatalogueReceived:
    device_id: str
    items: tuple[CatalogItem, ...]


@dataclass(frozen=True, slots=True)
class CatalogueChanged:
    """A catalogue notification: channels added, updated, deleted, or switched on or off (``item.event``)."""

    device_id: str
    items: tuple[CatalogItem, ...]


@dataclass(frozen=True, slots=True)
class AlarmReceived:
    alarm: AlarmNotify
    device_id: str
    """The registered device that sent it (the alarm may name one of its channels)."""


ServerEvent = Registered | CatalogueReceived | CatalogueChanged | AlarmReceived | WentOffline


@dataclass(frozen=True, slots=True)
class ServerConfig:
    platform_id: str
    """Amur's own 20-digit SIP id."""
    realm: str
    """The SIP domain: the platform id's first 10 digits by convention."""
    host: str = "127.0.0.1"
    port: int = 5060
    keepalive: KeepalivePolicy = KeepalivePolicy()
    max_expires_s: int = 7200
    sweep_every_s: float = 1.0


class SipServer:
    """Build, ``await start()``, ``await stop()``. ``password_for(device_id)`` -> its password, None = unknown."""

    def __init__(self, config: ServerConfig, password_for: Callable[[str], str | None],
                 on_event: Callable[[ServerEvent], None], clock: Callable[[], float] = time.time,
                 on_refused: Callable[[str], None] = lambda reason: None) -> None:
        self.config = config
        self.password_for = password_for
        self.on_event = on_event
        self.clock = clock
        self.devices = Devices(config.keepalive)
        self.refused: Counter[str] = Counter()
        self.on_refused = on_refused
        """Told the reason of every refusal (the service counts them in Prometheus)."""
        self.handled: Counter[str] = Counter()
        self._nonces: OrderedDict[str, float] = OrderedDict()
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._writers: dict[tuple[str, int], asyncio.StreamWriter] = {}
        self._pending: dict[str, asyncio.Future[SipResponse]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._sn = 0
        self._cseq = 0

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._udp, _ = await loop.create_datagram_endpoint(
            lambda: _Datagrams(self), local_addr=(self.config.host, self.config.port))
        port = self._udp.get_extra_info("sockname")[1]
        self.config = _with_port(self.config, port)  # port 0 = a free one (tests)
        self._tcp = await asyncio.start_server(self._serve_tcp, self.config.host, port)
        self._spawn(self._sweep())
        log.info("gb28181 server listening host=%s port=%s udp+tcp", self.config.host, port)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._udp is not None:
            self._udp.close()
        for writer in list(self._writers.values()):
            writer.close()
        if self._tcp is not None:
            self._tcp.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._tcp.wait_closed(), 2.0)

    @property
    def port(self) -> int:
        return self.config.port

    # ------------------------------------------------------------------ commands to devices
    async def query_catalog(self, device_id: str) -> int:
        """Send a Catalog query; the status of the device's answer (the catalogue itself comes in MESSAGEs)."""
        return await self._request(device_id, "MESSAGE", manscdp.catalog_query(self._next_sn(), device_id))

    async def subscribe_alarms(self, device_id: str, expires_s: int = 3600) -> int:
        return await self._request(device_id, "SUBSCRIBE", manscdp.alarm_query(self._next_sn(), device_id),
                                   extra={"Event": "presence", "Expires": str(expires_s)})

    async def subscribe_catalog(self, device_id: str, expires_s: int = 3600) -> int:
        """Ask for catalogue notifications (channels added, deleted, updated, on, off): many devices push none
        without this subscription; others push them as MESSAGEs anyway. Both are taken."""
        return await self._request(device_id, "SUBSCRIBE", manscdp.catalog_query(self._next_sn(), device_id),
                                   extra={"Event": "Catalog", "Expires": str(expires_s)})

    async def guard(self, device_id: str, *, arm: bool = True) -> int:
        """布防 (arm) or 撤防: some devices send alarms only once armed."""
        return await self._request(device_id, "MESSAGE", manscdp.guard_command(self._next_sn(), device_id, arm=arm))

    def _count(self, reason: str) -> None:
        self.refused[reason] += 1
        self.on_refused(reason)

    # ------------------------------------------------------------------ receiving
    def receive(self, data: bytes, address: tuple[str, int], transport: str) -> bytes | None:
        """Handle one message; the reply to send back (None for none). Never raises on what a peer sent."""
        try:
            return self._receive(data, address, transport)
        except SipRefused as exc:
            self._count(exc.reason)
            log.info("gb28181 refused peer=%s:%s reason=%s", address[0], address[1], exc)
            return None
        except Exception:  # a bug of ours must not end the server either; counted and logged
            self._count("internal")
            log.exception("gb28181 message failed peer=%s:%s", address[0], address[1])
            return None

    def _receive(self, data: bytes, address: tuple[str, int], transport: str) -> bytes | None:
        if len(data) > MAX_MESSAGE:
            raise SipRefused("too_large", f"{len(data)} bytes, more than {MAX_MESSAGE}")
        if not data.strip():
            return None  # CRLF keep-alive pings of RFC 5626
        try:
            message = SipMessage.parse(data)
        except Exception as exc:  # aiosipua raises ValueError and, on some inputs, IndexError
            raise SipRefused("unparsable", f"{type(exc).__name__}: {str(exc)[:80]}") from exc
        if isinstance(message, SipResponse):
            self._answered(message)
            return None
        missing = [h for h in REQUIRED if not message.headers.get(h)]
        if missing:
            raise SipRefused("missing_header", f"{', '.join(missing)} missing from {message.method[:16]}")
        try:
            cseq = message.cseq
            sender = message.from_addr
        except Exception as exc:
            raise SipRefused("bad_header", f"CSeq/From: {type(exc).__name__}") from exc
        if cseq is None or sender is None:
            raise SipRefused("bad_header", "CSeq/From: empty")
        if message.method not in METHODS:
            return self._refuse(message, 405, "Method Not Allowed", "method", f"method {message.method[:16]!r}")
        if message.method == "ACK":
            return None
        if message.method in ("OPTIONS", "BYE"):
            return self._reply(message, 200, "OK")
        device_id = sender.uri.user or ""
        if not manscdp.DEVICE_ID.match(device_id):
            return self._refuse(message, 400, "Bad Request", "device_id", f"From user {device_id[:40]!r}")
        if message.method == "REGISTER":
            return self._register(message, device_id, address, transport)
        return self._message(message, device_id, address)

    def _register(self, request: SipRequest, device_id: str, address: tuple[str, int], transport: str) -> bytes:
        header = request.get_header("Authorization")
        if not header:
            return self._challenge(request)
        try:
            credentials = digest.parse_credentials(header)
        except DigestError as exc:
            return self._refuse(request, 400, "Bad Request", "auth_format", str(exc))
        now = self.clock()
        issued = self._nonces.get(credentials.nonce)
        if issued is None or now - issued > NONCE_TTL_S:
            self._count("stale_nonce")
            return self._challenge(request)
        password = self.password_for(device_id)
        if credentials.username != device_id or password is None \
                or not digest.verify(credentials, "REGISTER", password):
            return self._refuse(request, 403, "Forbidden", "auth_failed", f"device {device_id}")
        del self._nonces[credentials.nonce]
        expires = _expires(request, self.config.max_expires_s)
        self.handled["REGISTER"] += 1
        if expires == 0:
            gone = self.devices.unregister(device_id)
            if gone is not None:
                self.on_event(gone)
        elif self.devices.register(device_id, address, transport, expires, now):
            self.on_event(Registered(device_id, address, transport))
        log.info("gb28181 register device=%s peer=%s:%s expires=%s", device_id, address[0], address[1], expires)
        return self._reply(request, 200, "OK", {"Expires": str(expires),
                                                 "Date": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(now))})

    def _message(self, request: SipRequest, device_id: str, address: tuple[str, int]) -> bytes:
        if not self.devices.seen(device_id, address, self.clock()):
            return self._refuse(request, 403, "Forbidden", "unregistered", f"device {device_id} is not registered")
        try:
            body = manscdp.parse(request.body)
        except ManscdpError as exc:
            return self._refuse(request, 400, "Bad Request", "body", f"device {device_id}: {exc}")
        self.handled[type(body).__name__] += 1
        if isinstance(body, CatalogResponse):
            complete = self.devices.catalogue(body) if body.device_id == device_id else None
            if complete is not None:
                self.on_event(CatalogueReceived(device_id, complete))
        elif isinstance(body, CatalogNotify):
            if body.device_id == device_id and self.devices.changes(device_id, body.items):
                self.on_event(CatalogueChanged(device_id, body.items))
        elif isinstance(body, AlarmNotify):
            self.on_event(AlarmReceived(body, device_id))
        elif isinstance(body, (Keepalive, ControlResponse)):
            pass
        return self._reply(request, 200, "OK")

    def _challenge(self, request: SipRequest) -> bytes:
        nonce = secrets.token_hex(16)
        self._nonces[nonce] = self.clock()
        while len(self._nonces) > NONCES_KEPT:
            self._nonces.popitem(last=False)
        return self._reply(request, 401, "Unauthorized",
                           {"WWW-Authenticate": digest.challenge(self.config.realm, nonce)})

    def _refuse(self, request: SipRequest, status: int, reason_phrase: str, reason: str, detail: str) -> bytes:
        self._count(reason)
        log.info("gb28181 refused reason=%s status=%s %s", reason, status, detail)
        return self._reply(request, status, reason_phrase)

    def _reply(self, request: SipRequest, status: int, phrase: str, extra: dict[str, str] | None = None) -> bytes:
        response = SipResponse(status_code=status, reason_phrase=phrase)
        for name in ("Via", "From", "To", "Call-ID", "CSeq"):
            for value in request.get_header_values(name):
                response.add_header(name, value)
        to = response.get_header("To") or ""
        if status != 100 and ";tag=" not in to:
            response.set_header("To", f"{to};tag={secrets.token_hex(4)}")
        for name, value in (extra or {}).items():
            response.set_header(name, value)
        response.set_header("User-Agent", "Amur")
        return bytes(response)

    def _answered(self, response: SipResponse) -> None:
        future = self._pending.pop(response.call_id or "", None)
        if future is not None and not future.done():
            future.set_result(response)

    # ------------------------------------------------------------------ sending
    async def _request(self, device_id: str, method: str, body: bytes, extra: dict[str, str] | None = None) -> int:
        device = self.devices.devices.get(device_id)
        if device is None or not device.online:
            raise Gb28181Error(f"device_id: {device_id!r} is not registered")
        self._cseq += 1
        call_id = secrets.token_hex(12)
        host, port = self.config.host, self.config.port
        request = SipRequest(method=method, uri=f"sip:{device_id}@{device.address[0]}:{device.address[1]}")
        request.add_header("Via", f"SIP/2.0/{device.transport.upper()} {host}:{port};rport;branch=z9hG4bK"
                                  f"{secrets.token_hex(8)}")
        request.add_header("From", f"<sip:{self.config.platform_id}@{self.config.realm}>;tag={secrets.token_hex(4)}")
        request.add_header("To", f"<sip:{device_id}@{self.config.realm}>")
        request.add_header("Call-ID", call_id)
        request.add_header("CSeq", f"{self._cseq} {method}")
        request.add_header("Max-Forwards", "70")
        request.add_header("Content-Type", "Application/MANSCDP+xml")
        for name, value in (extra or {}).items():
            request.add_header(name, value)
        request.body = body
        future: asyncio.Future[SipResponse] = asyncio.get_running_loop().create_future()
        self._pending[call_id] = future
        self._send(bytes(request), device.address, device.transport)
        try:
            return (await asyncio.wait_for(future, REPLY_TIMEOUT_S)).status_code
        except asyncio.TimeoutError:
            return 408
        finally:
            self._pending.pop(call_id, None)

    def _send(self, data: bytes, address: tuple[str, int], transport: str) -> None:
        if transport == "tcp":
            writer = self._writers.get(address)
            if writer is not None and not writer.is_closing():
                writer.write(data)
        elif self._udp is not None:
            self._udp.sendto(data, address)

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        address = (str(peer[0]), int(peer[1]))
        self._writers[address] = writer
        try:
            while True:
                data = await _read_framed(reader)
                if data is None:
                    break
                if isinstance(data, SipRefused):
                    self._count(data.reason)
                    break  # a stream whose framing is broken cannot be resynchronised
                reply = self.receive(data, address, "tcp")
                if reply:
                    writer.write(reply)
                    await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.pop(address, None)
            writer.close()

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(self.config.sweep_every_s)
            for gone in self.devices.sweep(self.clock()):
                log.warning("gb28181 device offline device=%s reason=%s channels=%s",
                            gone.device_id, gone.reason, len(gone.channels))
                self.on_event(gone)

    def _spawn(self, coroutine: object) -> None:
        task = asyncio.ensure_future(coroutine)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _next_sn(self) -> int:
        self._sn += 1
        return self._sn


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, server: SipServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        address = (str(addr[0]), int(addr[1]))
        reply = self.server.receive(data, address, "udp")
        if reply and self.transport is not None:
            self.transport.sendto(reply, address)

    def error_received(self, exc: Exception) -> None:
        log.debug("gb28181 udp error %s", exc)


async def _read_framed(reader: asyncio.StreamReader) -> bytes | SipRefused | None:
    """One Content-Length-framed message from a TCP stream; None at EOF; a refusal when framing is hostile."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    except asyncio.LimitOverrunError:
        return SipRefused("too_large", "header section without an end")
    if len(head) > MAX_HEADER_BYTES:
        return SipRefused("too_large", f"header section of {len(head)} bytes")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() in (b"content-length", b"l"):
            try:
                length = int(value.strip())
            except ValueError:
                return SipRefused("bad_header", f"Content-Length {value[:20]!r}")
    if not 0 <= length <= MAX_MESSAGE:
        return SipRefused("too_large", f"Content-Length {length}")
    body = await reader.readexactly(length) if length else b""
    return head + body


def _expires(request: SipRequest, ceiling: int) -> int:
    raw = request.get_header("Expires") or "3600"
    try:
        value = int(raw.strip())
    except ValueError as exc:
        raise SipRefused("bad_header", f"Expires {raw[:20]!r}") from exc
    if value < 0:
        raise SipRefused("bad_header", f"Expires {value}")
    return min(value, ceiling)


def _with_port(config: ServerConfig, port: int) -> ServerConfig:
    return replace(config, port=port)
