"""The websocket shell: handshake limits, hello/auth, the per-client writer, commands.

Decisions live in :mod:`protocol`, :mod:`tokens`, :mod:`commands`,
:mod:`ratelimit` and :mod:`outbox`; this module only moves bytes.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from command_ui import protocol
from command_ui.commands import authorize_command
from command_ui.errors import AuthError, CommandRefused, ProtocolError
from command_ui.hub import Hub, Session
from command_ui.ratelimit import Bucket, RateLimit
from command_ui.tokens import verify
from stream import schemas
from stream.screens.projection import Channel

log = logging.getLogger(__name__)

HELLO_TIMEOUT_S = 10.0
BATCH = 500
BATCH_BYTES = 256 * 1024
#: Kernel send buffer per client: bounds what a stalled reader can absorb before its outbox fills.
SEND_BUFFER_BYTES = 256 * 1024
CLOSE_TOO_SLOW = 4008
CLOSE_AUTH = 4001
CLOSE_WAIT_S = 1.0
#: Failed logins per client address: a burst, then one more try every 6 s; addresses remembered, oldest out first.
LOGIN_FAILURES = RateLimit(per_second=10 / 60, burst=10)
MAX_LOGIN_ADDRESSES = 10_000

Producer = Callable[[schemas.OperatorCommand], Awaitable[None]]


class WebsocketGateway:
    def __init__(self, hub: Hub, secret: str, limit: RateLimit, produce: Producer,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.hub = hub
        self.secret = secret
        self.limit = limit
        self.produce = produce
        self.clock = clock
        self.buckets: dict[str, Bucket] = {}
        self.login_failures: dict[str, Bucket] = {}

    async def handle(self, connection: ServerConnection) -> None:
        sock = connection.transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
        try:
            first = await asyncio.wait_for(connection.recv(), HELLO_TIMEOUT_S)
            hello = protocol.parse_client_message(first)
            if not isinstance(hello, protocol.Hello):
                raise ProtocolError("the first message must be hello")
            address = str((connection.remote_address or ("unknown",))[0])
            if self._login_blocked(address):
                raise AuthError(f"too many failed logins from {address}; retry in a minute")
            claims = verify(self.secret, hello.token, now=self.clock())
        except (AuthError, ProtocolError) as exc:
            self._login_failed(connection, exc)
            await connection.send(protocol.error_message("auth", str(exc)).decode())
            await connection.close(CLOSE_AUTH, "unauthorized")
            return
        except (TimeoutError, ConnectionClosed):
            return
        session = self.hub.new_session(claims)
        writer = asyncio.create_task(self._write(connection, session))
        guard = asyncio.create_task(self._guard(connection, session))
        try:
            await self.hub.join(session, hello.resume)
            async for raw in connection:
                reply = await self._command(session, raw)
                session.push(reply, None)
        except ConnectionClosed:
            pass
        finally:
            self.hub.leave(session)
            writer.cancel()
            guard.cancel()

    def _login_blocked(self, address: str) -> bool:
        bucket = self.login_failures.get(address)
        return bucket is not None and LOGIN_FAILURES.available(bucket, self.clock().timestamp()) < 1.0

    def _login_failed(self, connection: ServerConnection, exc: Exception) -> None:
        """Count a failed login against its address and log it (the reason, never the token)."""
        address, now = str((connection.remote_address or ("unknown",))[0]), self.clock().timestamp()
        _, bucket = LOGIN_FAILURES.take(self.login_failures.pop(address, None) or LOGIN_FAILURES.full(now), now)
        if len(self.login_failures) >= MAX_LOGIN_ADDRESSES:
            self.login_failures.pop(next(iter(self.login_failures)))
        self.login_failures[address] = bucket
        log.warning("login refused client=%s reason=%s", address, exc)

    async def _write(self, connection: ServerConnection, session: Session) -> None:
        """Drain the outbox in batches (one JSON array per frame)."""
        try:
            while True:
                await session.wake.wait()
                session.wake.clear()
                if session.outbox.notice_due:
                    session.outbox.notice_due = False
                    await connection.send(b"[" + protocol.encode_message("coalesced") + b"]", text=True)
                while len(session.outbox):
                    batch = session.outbox.pop_batch(BATCH, BATCH_BYTES)
                    await connection.send(b"[" + b",".join(batch) + b"]", text=True)
        except ConnectionClosed:
            return

    async def _guard(self, connection: ServerConnection, session: Session) -> None:
        """Cut off a client whose outbox overflowed; abort if it does not even take the close frame."""
        await session.overflow.wait()
        self.hub.metrics.slow_disconnects.inc()
        log.warning("closing slow client subject=%s queued=%s", session.claims.subject, len(session.outbox))
        try:
            await asyncio.wait_for(connection.close(CLOSE_TOO_SLOW, "too slow: outbox overflowed"), CLOSE_WAIT_S)
        except TimeoutError:
            connection.transport.abort()

    async def _command(self, session: Session, raw: str | bytes) -> bytes:
        """Validate and produce one command; the reply says accepted or why refused."""
        try:
            message = protocol.parse_client_message(raw)
        except ProtocolError as exc:
            return protocol.error_message("protocol", str(exc))
        if not isinstance(message, protocol.CommandMessage):
            return protocol.error_message("protocol", "already said hello")
        claims = session.claims
        now = self.clock()
        try:
            allowed, self.buckets[claims.subject] = self.limit.take(
                self.buckets.get(claims.subject) or self.limit.full(now.timestamp()), now.timestamp())
            if not allowed:
                raise CommandRefused("rate_limited", f"more than the allowed command rate for {claims.subject}")
            incident = protocol.incident_of(self.hub.mirror.state[Channel.INCIDENTS].get(message.incident_id))
            command = authorize_command(message, claims, incident, now=now)
            await self.produce(command)  # refuses (unavailable) when the broker does not take it in time
        except CommandRefused as exc:
            self.hub.metrics.commands.labels(outcome=exc.code).inc()
            return protocol.command_result(message.command_id, False, exc.code, str(exc))
        self.hub.metrics.commands.labels(outcome="accepted").inc()
        return protocol.command_result(message.command_id, True)
