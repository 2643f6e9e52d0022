"""Redis restarted mid-run (empty: the embedded Redis keeps nothing on disk), on the embedded broker and a Redis of
the test's own: the projection worker and the gateway reconnect on their own, the projection is rebuilt from the
topics, and a connected wall converges to every incident at its latest revision, as without the fault."""

from __future__ import annotations

import asyncio
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


def incident(number: int, revision: int) -> schemas.IncidentChanged:
    return schemas.IncidentChanged(
        source="t", event_time=T0 + timedelta(minutes=revision), incident_id=f"231102-flood-{number}",
        hazard=schemas.Hazard.FLOOD, colour=schemas.Colour.ORANGE, state=schemas.IncidentState.RAISED,
        title=f"flood {number} r{revision}", cells=["231102001001001"], grid_path=["231100", "231102"],
        revision=revision)


async def test_redis_restarted_mid_run_loses_nothing_on_the_wall(make_settings, tmp_path: Path) -> None:
    port = free_port()
    redis = start_redis(port, tmp_path / "redis")
    settings = make_settings(partitions=2, redis_url=f"redis://127.0.0.1:{port}/0", ws_port=free_port())
    await prepare_topics_async(settings, agent_modules=["stream.agents.projection"])
    rt = build_app(settings, agent_modules=["stream.agents.projection"])
    await rt.app.start()
    gateway = await start_gateway(settings)
    seen: dict[str, str] = {}  # incident id -> title, as the wall shows it
    backend: list[bool] = []  # the gateway's word on Redis, as the wall shows it (link up or down)

    async def send(event: schemas.IncidentChanged) -> None:
        await rt.topic(topics.INCIDENTS).send(key=event.incident_id.encode(), value=schemas.encode(event))

    async def watch() -> None:
        token = issue(settings.jwt_secret.get_secret_value(), subject="wall", role=schemas.Role.VIEWER,
                      scope="231100", now=datetime.now(timezone.utc), ttl_s=3600)
        ws = await connect(f"ws://127.0.0.1:{gateway.ws_port}/")
        await ws.send(orjson.dumps({"type": "hello", "token": token}).decode())
        async for frame in ws:
            got = orjson.loads(frame)
            for message in got if isinstance(got, list) else [got]:
                if message.get("type") == "backend":
                    backend.append(message["ok"])
                elif message.get("type") == "snapshot":
                    seen.clear()
                    seen.update({k: v["title"] for k, v in message["channels"]["incidents"].items()})
                elif message.get("type") == "update" and message.get("ch") == "incidents":
                    if message.get("data") is None:
                        seen.pop(message["key"], None)
                    else:
                        seen[message["key"]] = message["data"]["title"]

    async def until(condition, what: str, timeout: float = 120.0) -> None:  # type: ignore[no-untyped-def]
        async def poll() -> None:
            while not condition():
                await asyncio.sleep(0.1)
        try:
            await asyncio.wait_for(poll(), timeout)
        except TimeoutError:
            raise AssertionError(f"timed out waiting for {what}; the wall shows {seen}") from None

    watcher = asyncio.create_task(watch())
    try:
        for n in range(7):
            await send(incident(n, 1))
        await until(lambda: len(seen) == 7, "seven incidents before the fault")
        redis.stop()  # SIGTERM: Redis saves and exits, as a restart by an operator or a supervisor does
        for n in range(5):
            await send(incident(n, 2))  # published while Redis is down
        await send(incident(5, 1))
        await until(lambda: backend == [False], "the wall to be told Redis is down")  # a fault, not an empty city
        redis = start_redis(port, tmp_path / "redis")  # empty: the embedded Redis keeps nothing on disk
        # 0-4 changed during the outage, 5 was unchanged (published again), 6 was not touched at all:
        # the projection is rebuilt from the topics, so the wall is not left with only what changed
        await until(lambda: seen == {f"231102-flood-{n}": f"flood {n} r{2 if n < 5 else 1}" for n in range(7)},
                    "every incident at its latest revision after the restart")
        assert backend == [False, True]
    finally:
        watcher.cancel()
        await gateway.stop()
        await rt.app.stop()
        redis.stop()
