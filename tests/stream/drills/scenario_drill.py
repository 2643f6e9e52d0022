"""Run a scripted scenario as a whole drill (`amur drill --scenario`) on the session's broker and Redis, then its
report (`amur drill report`): shared by the scenario drill tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import pytest

from stream.cli.main import main as amur
from stream.drills import report
from stream.settings import Settings
from tests.conftest import settings_env


def drill_and_report(make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch, scenario: str,
                     start: datetime, duration_s: float, speed: float, *extra: str) -> dict:
    """The drill's report dict (drill-report.json), after checking the drill ran to its end."""
    settings = make_settings(partitions=2)
    for name, value in settings_env(settings).items():
        if name.startswith("AMUR_"):
            monkeypatch.setenv(name, value)
    run_id = settings.drill_id  # unique per test, on the session's broker (which outlives the drill)
    assert amur(["drill", "--scenario", scenario, "--start", start.isoformat(), "--duration", str(duration_s),
                 "--speed", str(speed), "--run-id", run_id, "--timeout", "780", *extra]) == 0
    assert report.command.main([run_id, "--scenario", scenario, "--start", start.isoformat(), "--seed", "7"],
                               standalone_mode=False) == 0
    run_dir = settings.run_dir / f"drill-{run_id}"
    assert (run_dir / "drill-report.html").stat().st_size > 500_000  # ECharts inlined
    return json.loads((run_dir / "drill-report.json").read_text())
