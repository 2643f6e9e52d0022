"""`amur run`: the plan, the back-off, the one-line errors, and a real start/stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stream.embedded import free_port
from stream.settings import load_settings
from stream.supervisor import plan_parts, restart_delay

REPO = Path(__file__).resolve().parent.parent


def test_backoff_doubles_up_to_the_cap_and_resets_after_a_stable_run() -> None:
    assert [restart_delay(n, ran_for_s=1.0) for n in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    assert restart_delay(6, ran_for_s=120.0) == 1


def test_plan_starts_each_worker_on_its_own_web_port() -> None:
    settings = load_settings(workers=3, worker_web_port=7000)
    parts = plan_parts(settings, simulators=False)
    workers = [p for p in parts if p.name.startswith("worker-")]
    assert [p.port for p in workers] == [7000, 7001, 7002]
    assert [dict(p.env)["AMUR_WORKER_WEB_PORT"] for p in workers] == ["7000", "7001", "7002"]
    assert [p.name for p in parts][-1] == "gateway"
    with_sims = [p.name for p in plan_parts(settings, simulators=True)]
    assert {"sim-feeds", "sim-cameras"} <= set(with_sims)


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMUR_")}
    env.update(values)
    return env


def test_a_taken_port_is_a_one_line_error_that_says_what_to_do(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "stream.cli", "run", "--no-simulators"],
            env=_env(AMUR_EMBEDDED_BROKER_PORT=str(port), AMUR_RUN_DIR=str(tmp_path)),
            capture_output=True, text=True, timeout=60,
        )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"port {port}" in lines[0] and "AMUR_EMBEDDED_BROKER_PORT" in lines[0]
