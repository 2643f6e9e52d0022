"""The gateway's fan-out: one Redis tail per process, one bounded outbox per client.

The hub reads every update stream from its mirror's position, advances the
mirror and pushes each update into the outbox of every session allowed to see
it. Pushing never waits on a client (see :mod:`command_ui.outbox`); a session
whose outbox overflows is closed by its own writer. Several gateway processes
can run side by side, each with its own hub reading Redis independently.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry, Counter, Gauge
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from command_ui import protocol, store
from command_ui.mirror import Applied, Mirror, Update
from command_ui.outbox import Outbox, Pushed
from command_ui.scope import in_scope
from command_ui.tokens import Claims
from command_ui.view import city_health, compute_kpis, snapshot_message
from stream import schemas
from stream.screens.projection import Channel, Keys

log = logging.getLogger(__name__)

TAIL_BLOCK_MS = 1000
TAIL_COUNT = 500
REDIS_RETRY_S = 1.0
#: Transient Redis failures the hub's loops outlive: a timed-out read (the loop was starved longer than the
#: client's socket timeout, 5 s by default) or a dropped connection. The mirror only advances after a read
#: succeeds, so reading again from the same position loses nothing.
TRANSIENT = (RedisConnectionError, RedisTimeoutError)


ScopedEntry = schemas.IncidentChanged | schemas.RequestChanged
#: Channels whose entries a session sees only within its grid scope, with the wire type of an entry.
SCOPED_CHANNELS: dict[Channel, type] = {Channel.INCIDENTS: schemas.IncidentChanged,
                                       Channel.REQUESTS: schemas.RequestChanged}


def scoped_entry(update: Update) -> ScopedEntry | None:
    """The decoded entry of a scoped channel's update (None: not scoped, or a deletion everyone may see)."""
    kind = SCOPED_CHANNELS.get(update.channel)
    return None if kind is None or update.data is None else schemas.decode(kind, update.data)


@dataclass(frozen=True, slots=True)
class Catalogue:
    """Static facts the KPIs need: known cameras and the source registry's dimensions."""

    camera_ids: frozenset[str]
    source_dimension: dict[str, str]
    domain_dimension: dict[str, str]


class HubMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.clients = Gauge("amur_gateway_clients", "Connected websocket clients", registry=registry)
        self.coalesced = Counter("amur_gateway_coalesced_total", "Updates merged for slow clients",
                                 registry=registry)
        self.slow_disconnects = Counter("amur_gateway_slow_disconnects_total",
                                        "Clients closed because their outbox overflowed", registry=registry)
        self.resyncs = Counter("amur_gateway_resyncs_total", "Mirror re-reads after a gap", registry=registry)
        self.redis_errors = Counter("amur_gateway_redis_errors_total",
                                    "Redis reads that failed (timed out, disconnected) and were retried",
                                    registry=registry)
        self.commands = Counter("amur_gateway_commands_total", "Operator commands by outcome",
                                ["outcome"], registry=registry)


@dataclass(eq=False)
class Session:
    """One connected client."""

    claims: Claims
    outbox: Outbox
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    overflow: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once the outbox overflowed: the shell then closes the connection."""
    holding: list[Update] | None = None
    """While a resume backfill is read, live updates wait here (in order)."""

    @property
    def overflowed(self) -> bool:
        return self.overflow.is_set()

    def push(self, message: bytes, key: tuple[str, str] | None) -> None:
        if self.overflowed:
            return
        if self.outbox.push(message, key) is Pushed.OVERFLOW:
            self.overflow.set()
        self.wake.set()


class Hub:
    def __init__(self, client: aioredis.Redis, keys: Keys, catalogue: Catalogue, metrics: HubMetrics, *,
                 outbox_capacity: int, fault_hold_s: float, drill: bool, demo: bool = False,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.client = client
        self.keys = keys
        self.catalogue = catalogue
        self.metrics = metrics
        self.outbox_capacity = outbox_capacity
        self.fault_hold_s = fault_hold_s
        self.drill = drill
        self.demo = demo
        """A demonstration (``AMUR_DEMONSTRATION``): the page says the city is simulated."""
        self.clock = clock
        self.mirror = Mirror({}, {})
        self.sessions: set[Session] = set()
        self.events_per_s = 0.0
        self.redis_fault: str | None = None
        """Why Redis cannot be read now (None = it can): the wall shows it as a fault, not as an empty city."""

    async def start(self) -> None:
        self.mirror = await store.read_mirror(self.client, self.keys)

    # ------------------------------------------------------------------ sessions

    def new_session(self, claims: Claims) -> Session:
        return Session(claims, Outbox(self.outbox_capacity))

    async def join(self, session: Session, resume: dict[Channel, int] | None) -> None:
        """Queue exactly what the client needs: its missed updates, or a snapshot."""
        oldest = await store.oldest_seqs(self.client, self.keys) if resume else {}
        head = dict(self.mirror.head)
        plan = protocol.plan_resume(resume, head, oldest, max_updates=self.outbox_capacity // 2)
        self.sessions.add(session)
        self.metrics.clients.set(len(self.sessions))
        if plan.snapshot:
            self._push_snapshot(session)
            self.push_kpis(only=session)
            return
        session.holding = []
        backfill: list[Update] = []
        for step in plan.backfills:
            got = await store.read_range(self.client, self.keys, step.channel, step.after, step.upto)
            if [u.seq for u in got] != list(range(step.after + 1, step.upto + 1)):
                held, session.holding = session.holding, None
                self._push_snapshot(session)
                for update in held:
                    if update.seq > self.mirror.head[update.channel]:
                        self._push_update(session, update)
                return
            backfill.extend(got)
        held, session.holding = session.holding, None
        for update in (*backfill, *held):
            self._push_update(session, update)
        session.push(protocol.position_message(head), ("position", ""))

    def leave(self, session: Session) -> None:
        self.sessions.discard(session)
        self.metrics.clients.set(len(self.sessions))

    def _push_snapshot(self, session: Session) -> None:
        me = {"subject": session.claims.subject, "role": session.claims.role.value,
              "scope": session.claims.scope, "fault_hold_s": self.fault_hold_s, "drill": self.drill,
              "demo": self.demo}
        session.push(snapshot_message(self.mirror.state, self.mirror.head, session.claims.scope, me), None)
        if self.redis_fault is not None:  # the snapshot is the last known state, not the current one
            session.push(self._backend_message(), ("backend", ""))

    def _push_update(self, session: Session, update: Update, scoped: ScopedEntry | None = None) -> None:
        """Queue ``update`` for ``session`` unless its scope hides it (``scoped``: the entry, already decoded)."""
        if session.holding is not None:
            session.holding.append(update)
            return
        scoped = scoped or scoped_entry(update)
        if scoped is not None and not in_scope(session.claims.scope, scoped):
            return
        before = session.outbox.coalesced
        session.push(protocol.update_message(update.channel, update.seq, update.key, update.data),
                     (update.channel.value, update.key))
        if session.outbox.coalesced != before:
            self.metrics.coalesced.inc(session.outbox.coalesced - before)

    # ------------------------------------------------------------------ tail

    def fan_out(self, updates: list[Update]) -> bool:
        """Advance the mirror and push to every session; False on a gap (resync needed)."""
        for update in updates:
            outcome = self.mirror.apply(update)
            if outcome is Applied.GAP:
                return False
            if outcome is Applied.APPLIED:
                scoped = scoped_entry(update)
                for session in tuple(self.sessions):
                    self._push_update(session, update, scoped)
        return True

    async def resync(self) -> None:
        """Re-read the mirror and give every session a fresh snapshot."""
        self.metrics.resyncs.inc()
        self.mirror = await store.read_mirror(self.client, self.keys)
        for session in tuple(self.sessions):
            session.holding = None
            self._push_snapshot(session)

    async def run_tail(self) -> None:
        while True:
            # read at most a quarter of an outbox over all streams, then yield, so writers drain between reads
            count = max(1, min(TAIL_COUNT, self.outbox_capacity // (4 * len(Channel))))
            try:
                updates = await store.read_tail(self.client, self.keys, self.mirror.head, TAIL_BLOCK_MS, count)
                self._redis_ok()  # before a resync: its snapshot is current, not the last known state
                if not self.fan_out(updates):
                    log.warning("update stream gap; re-reading the projection")
                    await self.resync()
            except TRANSIENT as exc:
                await self._redis_failed("reading the update streams", exc)
                continue
            await asyncio.sleep(0)

    def _backend_message(self) -> bytes:
        return protocol.encode_message("backend", ok=self.redis_fault is None, reason=self.redis_fault or "")

    def _redis_ok(self) -> None:
        if self.redis_fault is not None:
            log.info("redis readable again after: %s", self.redis_fault)
            self.redis_fault = None
            for session in tuple(self.sessions):
                session.push(self._backend_message(), ("backend", ""))

    async def _redis_failed(self, doing: str, exc: Exception) -> None:
        self.metrics.redis_errors.inc()
        if self.redis_fault is None:  # every wall is told once, at the start of the outage
            self.redis_fault = f"{doing} failed: Redis unreachable ({type(exc).__name__})"
            for session in tuple(self.sessions):
                session.push(self._backend_message(), ("backend", ""))
        log.warning("%s failed (%s: %s); retrying in %.1f s", doing, type(exc).__name__, exc, REDIS_RETRY_S)
        await asyncio.sleep(REDIS_RETRY_S)

    # ------------------------------------------------------------------ KPIs

    async def run_kpis(self, interval_s: float = 1.0) -> None:
        previous: tuple[float, int] | None = None
        loop = asyncio.get_running_loop()
        while True:
            try:
                counters, heads = await store.read_counters(self.client, self.keys)
                self._redis_ok()  # before a resync, as in run_tail
                if any(heads[c] < self.mirror.head[c] for c in Channel):
                    log.warning("projection sequence went back (Redis reset?); re-reading it")
                    await self.resync()
            except TRANSIENT as exc:
                await self._redis_failed("reading the counters", exc)
                continue
            at, events = loop.time(), counters.get("events", 0)
            if previous is not None and at > previous[0]:
                self.events_per_s = max(0.0, (events - previous[1]) / (at - previous[0]))
            previous = (at, events)
            self.push_kpis()
            await asyncio.sleep(interval_s)

    def push_kpis(self, only: Session | None = None) -> None:
        """KPIs and positions to every settled session (or just ``only``)."""
        now = self.clock()
        health = city_health(self.mirror.state, now=now, camera_ids=self.catalogue.camera_ids,
                             source_dimension=self.catalogue.source_dimension, hold_s=self.fault_hold_s)
        by_scope: dict[str, bytes] = {}
        position = protocol.position_message(self.mirror.head)
        for session in (only,) if only else tuple(self.sessions):
            if session.holding is not None:
                continue
            scope = session.claims.scope
            if scope not in by_scope:
                by_scope[scope] = compute_kpis(
                    self.mirror.state, health, scope=scope, events_per_s=self.events_per_s,
                    source_dimension=self.catalogue.source_dimension,
                    domain_dimension=self.catalogue.domain_dimension, drill=self.drill).message(now)
            session.push(by_scope[scope], ("kpi", ""))
            session.push(position, ("position", ""))
