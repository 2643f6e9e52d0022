"""A broken responsibility list stops `amur ingest` and `amur worker` at start-up, naming the line and field,
before either connects to anything (nothing listens on the broker port given)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stream.embedded.services import free_port
from tests.conftest import REPO_ROOT
from tests.stream.dispatch.test_dispatch_responsibility import _set, edited


@pytest.mark.parametrize("name", ["ingest", "worker"])
def test_a_broken_list_stops_the_process_naming_line_and_field(tmp_path: Path, name: str) -> None:
    broken = edited(tmp_path, _set("HEA-003", "accept_within", "15 minutes"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMUR_")}
    env.update(AMUR_DISPATCH_LIST=str(broken), AMUR_BROKER_URL=f"kafka://127.0.0.1:{free_port()}",
               AMUR_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", AMUR_RUN_DIR=str(tmp_path / "run"))
    command = ["ingest", "--port", str(free_port())] if name == "ingest" else ["worker"]
    done = subprocess.run([sys.executable, "-m", "stream.cli.main", *command], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    assert (f"amur {name}: responsibilities.csv line 136 (item HEA-003), field accept_within: "
            "'15 minutes' is not an ISO 8601 duration") in done.stderr
