"""`amur gateway` as an operator starts it: a child process on the session's broker and Redis."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from command_ui.server import allowed_origins, ws_port_of
from stream.embedded.services import free_port
from stream.runtime.admin import prepare_topics
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
