"""JSON log lines (stream.runtime.logs), and a log file on a full disk: the process goes on."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from stream.runtime.logs import JsonFormatter
from tests.conftest import REPO_ROOT
from tests.helpers.diskfull import full_disk  # noqa: F401 - the fixture

# the process under test: JSON logging to stderr, 2,000 lines, then its work goes on and it says so
SCRIPT = """
import logging, sys
from stream.runtime.logs import configure
configure("INFO")
log = logging.getLogger("amur.test")
for i in range(2000):
    log.warning("line i=%s %s", i, "x" * 200)
print("still working", flush=True)
"""


def test_a_record_is_one_json_object_with_time_level_logger_and_message() -> None:
    record = logging.LogRecord("amur.x", logging.WARNING, __file__, 1, "camera_id=%s down", ("cam-1",), None)
    line = json.loads(JsonFormatter().format(record))
    assert (line["level"], line["logger"], line["message"]) == ("warning", "amur.x", "camera_id=cam-1 down")
    assert line["time"].endswith("+00:00")


def test_logs_on_a_full_disk_do_not_stop_the_process(full_disk: Path) -> None:
    with open(full_disk / "amur.log", "wb") as stderr:  # every log line goes to the full disk
        done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=stderr,
                              timeout=120)
    assert done.stdout.decode().strip() == "still working"
    assert done.returncode == 0
    assert (full_disk / "amur.log").stat().st_size == 0  # nothing could be written, and nothing crashed


