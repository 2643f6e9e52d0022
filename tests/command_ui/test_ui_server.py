"""`amur gateway` as an operator starts it: a child process on the session's broker and Redis."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import datetime, timezone
from pathlib import Path

import orjson
import pytest
import redis.asyncio as aioredis
from websockets.asyncio.client import connect

from command_ui import server
from command_ui.server import allowed_origins, ws_port_of
from command_ui.tokens import issue
from stream import schemas
from stream.agents.projection import RedisProjector
from stream.cli.main import main as amur
from stream.embedded.services import free_port, start_broker
from stream.runtime.admin import prepare_topics, prepare_topics_async
from stream.screens.projection import Keys, project
from stream.settings import load_settings
from tests.conftest import settings_env

pytestmark = pytest.mark.integration
AMUR = str(Path(sys.executable).with_name("amur"))


def test_ports_and_origins_follow_the_settings() -> None:
    settings = load_settings(http_port=9000, allowed_origins="https://wall.example, ")
    assert ws_port_of(settings) == 9001 and ws_port_of(load_settings(http_port=9000, ws_port=7000)) == 7000
    assert allowed_origins(settings) == ["http://127.0.0.1:9000", "http://localhost:9000", "https://wall.example",
                                         None]


def test_cli_serves_until_sigterm(make_settings) -> None:
    settings = make_settings(ws_port=free_port())
    prepare_topics(settings, agent_modules=[])
    child = subprocess.Popen([AMUR, "gateway"], env=settings_env(settings), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
    try:
        health = None
        for _ in range(150):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{settings.http_port}/api/health") as response:
                    health = json.load(response)
                break
            except OSError:
                time.sleep(0.1)
        assert health is not None and health["status"] == "ok" and health["clients"] == 0
    finally:
        child.send_signal(signal.SIGTERM)
        assert child.wait(15) == 0
    assert f"command view at http://127.0.0.1:{settings.http_port}/" in child.stdout.read().decode()


def test_port_overrides_the_http_port_and_a_taken_port_is_exit_two(monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    served = []

    async def refuse(settings) -> None:
        served.append(settings.http_port)
        raise OSError(98, f"address already in use: {settings.http_port}")

    monkeypatch.setattr(server, "_serve", refuse)
    assert amur(["gateway", "--port", "9123"]) == 2
    assert served == [9123]
    assert capsys.readouterr().err.strip() == "amur gateway: [Errno 98] address already in use: 9123"


def test_help_lists_the_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert amur(["gateway", "--help"]) == 0
    out = capsys.readouterr().out
    assert "Usage: amur gateway" in out and "--port" in out


@pytest.mark.parametrize("port", ["0", "70000", "eighty"])
def test_a_bad_port_is_a_one_line_usage_error(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert amur(["gateway", "--port", port]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("amur gateway: error:") and "'--port'" in lines[0]



@pytest.mark.integration
@pytest.mark.timeout(300)
async def test_without_its_broker_the_gateway_serves_the_wall_and_refuses_commands_as_unavailable(
        make_settings) -> None:
    """Started before its broker, and with the broker stopped mid-run: the wall works, a command is answered
    `unavailable` (never a hang or a dropped connection), and commands pass once the broker is up."""
    port = free_port()
    settings = make_settings(broker_url=f"kafka://127.0.0.1:{port}", ws_port=free_port())
    keys = Keys(settings.redis_prefix)
    client = aioredis.from_url(settings.redis_url)
    now = datetime.now(timezone.utc)
    await RedisProjector(client, keys, 1000, 100).apply([project(schemas.IncidentChanged(
        source="t", event_time=now, incident_id="231102-flood-1", hazard=schemas.Hazard.FLOOD,
        colour=schemas.Colour.ORANGE, state=schemas.IncidentState.RAISED, title="t", cells=["231102001001001"],
        revision=1), keys)])
    gateway = await server.start_gateway(settings)  # no broker yet
    broker = None
    token = issue(settings.jwt_secret.get_secret_value(), subject="o", role=schemas.Role.DUTY_OFFICER,
                  scope="231100", now=now, ttl_s=3600)
    try:
        ws = await connect(f"ws://127.0.0.1:{gateway.ws_port}/")
        await ws.send(orjson.dumps({"type": "hello", "token": token}).decode())

        async def command() -> dict:
            await ws.send(orjson.dumps({"type": "command", "command_id": uuid.uuid4().hex,
                                        "incident_id": "231102-flood-1", "action": "comment",
                                        "comment": "x"}).decode())
            while True:
                for message in orjson.loads(await asyncio.wait_for(ws.recv(), 60)):
                    if message["type"] == "command_result":
                        return message

        first = await command()
        assert (first["ok"], first["code"]) == (False, "unavailable")
        broker = await asyncio.to_thread(start_broker, port)
        await prepare_topics_async(settings, agent_modules=[])
        while not (await command())["ok"]:  # the gateway retries the broker with back-off, on its own
            await asyncio.sleep(0.5)
        broker.stop()
        stopped = await command()  # bounded by COMMAND_SEND_TIMEOUT_S; the connection stays open
        assert (stopped["ok"], stopped["code"]) == (False, "unavailable")
        await ws.close()
    finally:
        await gateway.stop()
        await client.aclose()
        if broker is not None:
            broker.stop()
