"""`amur drill report`: refuses what it cannot report on with a message naming it, before touching the broker;
writes the page and its JSON where asked (the whole command on a drill: tests/stream/sim/test_sim_*.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from stream.drills.report import command, write
from stream.drills.report_data import build
from tests.stream.drills.report_sample import COUNTIES, STAGES, TRUTH, record


@pytest.mark.parametrize("args, says", [
    (["r1", "--scenario", "no-such", "--start", "2025-07-20T14:00:00+08:00"], "scenario 'no-such' is not"),
    (["r1", "--scenario", "demonstration", "--start", "2025-07-20T14:00:00+08:00"], "has no ground truth"),
    (["r1", "--scenario", "event-surge"], "needs --start"),
    (["r1", "--start", "2025-07-20T14:00:00"], "--start"),
])
def test_the_command_refuses_what_it_cannot_report_on(args: list[str], says: str, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMUR_RUN_DIR", str(tmp_path))
    result = CliRunner().invoke(command, args)
    assert result.exit_code in (1, 2) and says in result.output


def test_a_run_json_that_is_not_json_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMUR_RUN_DIR", str(tmp_path))
    (tmp_path / "drill-r1").mkdir()
    (tmp_path / "drill-r1" / "run.json").write_text("{not json")
    result = CliRunner().invoke(command, ["r1"])
    assert result.exit_code == 1 and "run.json is not JSON" in result.output


def test_write_gives_one_page_with_the_library_and_the_same_figures_as_the_json(tmp_path: Path) -> None:
    report = build(record(), TRUTH, STAGES, COUNTIES)
    page, data = write(report, tmp_path / "out")
    html = page.read_text(encoding="utf-8")
    assert json.loads(data.read_text(encoding="utf-8")) == report
    assert "echarts" in html and "<script src" not in html and "http://" not in html.split("<script>")[0]
    assert "爱辉区" in html and "67%" in html
    with pytest.raises(Exception, match="make web"):
        write(report, tmp_path / "out", echarts=tmp_path / "missing.js")


def test_a_broker_that_is_gone_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from stream.embedded.services import free_port

    monkeypatch.setenv("AMUR_RUN_DIR", str(tmp_path))
    monkeypatch.setenv("AMUR_BROKER_URL", f"kafka://127.0.0.1:{free_port()}")  # nothing listens there
    result = CliRunner().invoke(command, ["r1"])
    assert result.exit_code == 1 and "cannot read drill r1's topics" in result.output
