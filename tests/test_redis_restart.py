"""Redis restarted mid-run, and Redis unreachable for 30 s under a steady flow of events (each time it comes back
empty: the embedded Redis keeps nothing on disk), on the embedded broker and a Redis of the test's own: the
projection worker and the gateway reconnect on their own, the wall shows the outage as a fault, the projection is
rebuilt from the topics, and a connected wall converges to every incident at its latest revision, as without the
fault."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest
from websockets.asyncio.client import connect

from command_ui.server import start_gateway
from command_ui.tokens import issue
from stream import schemas, topics
from stream.embedded.services import free_port, start_redis
from stream.runtime.admin import prepare_topics_async
from stream.runtime.app import build_app

pytestmark = pytest.mark.integration
T0 = datetime(2026, 7, 20, 8, 0, tzinfo=timezone.utc)
OUTAGE_S = 30.0
"""How long Redis is unreachable in the outage test, while events keep flowing (a stimulus, asserted nowhere)."""


def incident(number: int, revision: int) -> schemas.IncidentChanged:
    return schemas.IncidentChanged(
        source="t", event_time=T0 + timedelta(minutes=revision), incident_id=f"231102-flood-{number}",
        hazard=schemas.Hazard.FLOOD, colour=schemas.Colour.ORANGE, state=schemas.IncidentState.RAISED,
        title=f"flood {number} r{revision}", cells=["231102001001001"], grid_path=["231100", "231102"],
        revision=revision)


@dataclass
class Wall:
    """What a connected wall shows: incident id -> title, and the gateway's word on Redis (link up or down)."""

    seen: dict[str, str] = field(default_factory=dict)
    backend: list[bool] = field(default_factory=list)
    snapshots: int = 0

    async def watch(self, ws_port: int, secret: str) -> None:
        token = issue(secret, subject="wall", role=schemas.Role.VIEWER, scope="231100",
                      now=datetime.now(timezone.utc), ttl_s=3600)
        ws = await connect(f"ws://127.0.0.1:{ws_port}/")
        await ws.send(orjson.dumps({"type": "hello", "token": token}).decode())
        async for frame in ws:
            got = orjson.loads(frame)
            for message in got if isinstance(got, list) else [got]:
                self.show(message)

    def show(self, message: dict) -> None:  # type: ignore[type-arg]
        if message.get("type") == "backend":
            self.backend.append(message["ok"])
        elif message.get("type") == "snapshot":
            self.snapshots += 1
            self.seen.clear()
            self.seen.update({k: v["title"] for k, v in message["channels"]["incidents"].items()})
        elif message.get("type") == "update" and message.get("ch") == "incidents":
            if message.get("data") is None:
                self.seen.pop(message["key"], None)
            else:
                self.seen[message["key"]] = message["data"]["title"]

    async def until(self, condition: Callable[[], bool], what: str, timeout: float = 180.0) -> None:
        async def poll() -> None:
            while not condition():
                await asyncio.sleep(0.1)
        try:
            await asyncio.wait_for(poll(), timeout)  # a bound for a busy machine, ends when the condition holds
        except TimeoutError:
            raise AssertionError(f"timed out waiting for {what}; the wall shows {self.seen}, "
                                 f"backend {self.backend}") from None


class Stack:
    """A projection worker and a gateway on a Redis of the test's own, and a wall connected to them."""

    def __init__(self, make_settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        self.port, self.data = free_port(), tmp_path / "redis"
        self.settings = make_settings(partitions=2, redis_url=f"redis://127.0.0.1:{self.port}/0", ws_port=free_port())
        self.wall = Wall()

    async def __aenter__(self) -> "Stack":
        self.redis = start_redis(self.port, self.data)
        await prepare_topics_async(self.settings, agent_modules=["stream.agents.projection"])
        self.rt = build_app(self.settings, agent_modules=["stream.agents.projection"])
        await self.rt.app.start()
        self.gateway = await start_gateway(self.settings)
        self.watcher = asyncio.create_task(
            self.wall.watch(self.gateway.ws_port, self.settings.jwt_secret.get_secret_value()))
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.watcher.cancel()
        await self.gateway.stop()
        await self.rt.app.stop()
        self.redis.stop()

    async def send(self, event: schemas.IncidentChanged) -> None:
        await self.rt.topic(topics.INCIDENTS).send(key=event.incident_id.encode(), value=schemas.encode(event))

    async def seven_on_the_wall(self) -> None:
        for n in range(7):
            await self.send(incident(n, 1))
        await self.wall.until(lambda: len(self.wall.seen) == 7, "seven incidents before the fault")

    def restart_redis(self) -> None:
        self.redis = start_redis(self.port, self.data)  # empty: the embedded Redis keeps nothing on disk


async def test_redis_restarted_mid_run_loses_nothing_on_the_wall(make_settings, tmp_path: Path) -> None:
    async with Stack(make_settings, tmp_path) as stack:
        wall = stack.wall
        await stack.seven_on_the_wall()
        stack.redis.stop()  # SIGTERM: Redis saves and exits, as a restart by an operator or a supervisor does
        for n in range(5):
            await stack.send(incident(n, 2))  # published while Redis is down
        await stack.send(incident(5, 1))
        await wall.until(lambda: wall.backend == [False], "the wall to be told Redis is down")  # a fault, not empty
        stack.restart_redis()
        # 0-4 changed during the outage, 5 was unchanged (published again), 6 was not touched at all:
        # the projection is rebuilt from the topics, so the wall is not left with only what changed
        await wall.until(lambda: wall.seen == {f"231102-flood-{n}": f"flood {n} r{2 if n < 5 else 1}"
                                               for n in range(7)},
                         "every incident at its latest revision after the restart")
        assert wall.backend == [False, True]


@pytest.mark.timeout(600)
async def test_redis_unreachable_for_30_s_under_a_steady_flow_loses_nothing(make_settings, tmp_path: Path) -> None:
    async with Stack(make_settings, tmp_path) as stack:
        wall = stack.wall
        await stack.seven_on_the_wall()
        snapshots_before = wall.snapshots
        stack.redis.stop()
        # a steady flow for the whole outage: one revision a second, round the seven incidents
        loop = asyncio.get_running_loop()
        end, revision, sent = loop.time() + OUTAGE_S, {n: 1 for n in range(7)}, 0
        while loop.time() < end:
            n = sent % 7
            revision[n] += 1
            await stack.send(incident(n, revision[n]))
            sent += 1
            await asyncio.sleep(1.0)
        # the wall was told once, and kept what it had: a fault, not an empty city
        await wall.until(lambda: wall.backend == [False], "the wall to be told Redis is down")
        assert len(wall.seen) == 7
        stack.restart_redis()
        latest = {f"231102-flood-{n}": f"flood {n} r{revision[n]}" for n in range(7)}
        await wall.until(lambda: wall.seen == latest, f"every incident at its latest revision ({sent} sent meanwhile)")
        assert wall.backend == [False, True]
        assert wall.snapshots > snapshots_before  # resynchronised from a fresh snapshot, not patched up
