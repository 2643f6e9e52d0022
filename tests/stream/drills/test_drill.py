"""Drills: recordings parse, pacing follows event time, reports list every incident worst first;
the command refuses bad options before it starts a broker."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from stream import schemas
from stream.cli.main import main as amur
from stream.drills.drill import drill_report, parse_recording, report_markdown
from stream.drills.feed import replay_offsets
from stream.drills.settle import CatchUp
from stream.errors import AmurError

T0 = datetime(2021, 7, 12, 8, 0, tzinfo=timezone(timedelta(hours=8)))


def test_recording_lines_keep_key_payload_and_event_time() -> None:
    lines = [b'hlj-heihe\t{"type":"water_level","event_time":"2021-07-12T08:00:00+08:00","x":1}\n', b"\n"]
    (message,) = parse_recording(lines)
    assert message.key == b"hlj-heihe" and message.event_time == T0


@pytest.mark.parametrize("line, why", [(b"no-tab-here", "key<TAB>payload"), (b"k\t{}", "event_time")])
def test_bad_recording_lines_name_the_line(line: bytes, why: str) -> None:
    with pytest.raises(AmurError, match=f"line 2: .*{why}"):
        parse_recording([b'k\t{"event_time":"2021-07-12T08:00:00+08:00"}', line])


def test_replay_pacing_divides_event_time_by_speed() -> None:
    times = [T0, T0 + timedelta(minutes=10), T0 + timedelta(hours=1)]
    assert replay_offsets(times, speed=60) == [0.0, 10.0, 60.0]
    with pytest.raises(ValueError):
        replay_offsets(times, speed=0)


def _incident(i: str, colour: schemas.Colour, minutes: int) -> schemas.IncidentChanged:
    at = T0 + timedelta(minutes=minutes)
    return schemas.IncidentChanged(source="test", event_time=at, incident_id=i, hazard=schemas.Hazard.FLOOD,
                                   colour=colour, state=schemas.IncidentState.RAISED, title=f"incident {i}",
                                   cells=["231102001001001"], raised_at=at, drill=True)


DRAINED = CatchUp(complete=True, timeout_s=1800.0, lag={"ingest.raw": 0, "incidents": 0})


def test_report_lists_worst_first_and_counts_by_colour() -> None:
    report = drill_report("d1", [_incident("a", schemas.Colour.YELLOW, 5), _incident("b", schemas.Colour.RED, 9),
                                 _incident("c", schemas.Colour.YELLOW, 1)], DRAINED)
    assert [row["id"] for row in report["items"]] == ["b", "c", "a"]
    assert report["by_colour"] == {"red": 1, "yellow": 2}
    assert report["all_marked_as_drill"] and report["status"] == "Exercise"
    assert not report["stopped_early"] and "every input processed" in report_markdown(report)
    assert "EXERCISE" in report_markdown(report)


def test_a_report_that_stopped_early_says_so_with_the_lag_per_topic() -> None:
    caught = CatchUp(complete=False, timeout_s=600.0, lag={"ingest.raw": 30_000, "incidents": 0, "water.levels": 12})
    report = drill_report("d1", [_incident("a", schemas.Colour.YELLOW, 5)], caught)
    assert report["stopped_early"] and report["settle_timeout_s"] == 600.0
    assert report["lag"] == {"incidents": 0, "ingest.raw": 30_000, "water.levels": 12}
    text = report_markdown(report)
    assert "**STOPPED EARLY**" in text and "600 s timeout" in text and "30,012 messages" in text
    assert "| ingest.raw | 30,000 |" in text and "| water.levels | 12 |" in text and "| incidents |" not in text
    unmeasured = report_markdown(drill_report("d1", [], CatchUp(complete=False, timeout_s=60.0)))
    assert "STOPPED EARLY" in unmeasured and "could not be measured" in unmeasured


def test_command_help_lists_its_options(capsys: pytest.CaptureFixture) -> None:
    assert amur(["drill", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--scenario", "--replay", "--speed", "--duration", "--start", "--seed", "--feeds", "--run-id",
                   "--workers", "--settle", "--timeout"):
        assert option in out


@pytest.mark.parametrize("args, named", [
    ([], "--scenario or --replay"),
    (["--scenario", "fire", "--replay", __file__], "--scenario or --replay"),
    (["--replay", "/nonexistent/day.tsv"], "--replay"),
    (["--scenario", "fire", "--speed", "-1"], "--speed"),
    (["--scenario", "fire", "--start", "2024-08-01T00:00:00"], "--start"),
    (["--scenario", "fire", "--feeds", "radar"], "--feeds"),
    (["--scenario", "fire", "--workers", "0"], "--workers"),
    (["--scenario", "fire", "--timeout", "0"], "--timeout"),
])
def test_command_refuses_bad_options_before_starting_anything(args: list[str], named: str,
                                                              capsys: pytest.CaptureFixture) -> None:
    assert amur(["drill", *args]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert named in line and line.startswith("amur drill: error:")


@pytest.mark.integration
def test_the_command_reports_a_drill_cut_short_by_its_timeout(make_settings, tmp_path, monkeypatch,
                                                               capsys: pytest.CaptureFixture) -> None:
    """The whole command on the session's broker and Redis, its worker a real subprocess: a timeout far
    shorter than the hold always stops the wait early, and both reports and the exit code say so."""
    from stream import topics
    from tests.conftest import settings_env

    settings = make_settings(partitions=2)
    for name, value in settings_env(settings).items():
        if name.startswith("AMUR_"):
            monkeypatch.setenv(name, value)
    recording = tmp_path / "day.tsv"
    recording.write_text("".join(
        f'hydrology.river-gauges\t{{"type":"water_level","source":"hydrology.river-gauges","gauge_id":"hlj-heihe",'
        f'"event_time":"{(T0 + timedelta(hours=k)).isoformat()}","stage_m":5.0}}\n' for k in range(6)))
    run_id = settings.drill_id  # unique per test, on the session's broker
    assert amur(["drill", "--replay", str(recording), "--speed", "1000000", "--run-id", run_id,
                 "--timeout", "0.001"]) == 1
    assert "stopped early" in capsys.readouterr().err
    run_dir = settings.run_dir / f"drill-{run_id}"
    report = json.loads((run_dir / "report.json").read_text())
    assert report["stopped_early"] and report["settle_timeout_s"] == 0.001
    assert set(report["lag"]) == {spec.name for spec in topics.ALL}
    assert "**STOPPED EARLY**" in (run_dir / "report.md").read_text()


def test_drill_is_a_group_with_run_and_keeps_the_earlier_form(capsys: pytest.CaptureFixture) -> None:
    assert amur(["drill", "--help"]) == 0
    assert "run" in capsys.readouterr().out.split("Commands:")[1]
    assert amur(["drill", "run", "--help"]) == 0
    out = capsys.readouterr().out
    assert all(option in out for option in ("SCENARIO_OR_ARCHIVE", "--speed", "max", "--run-id"))


@pytest.mark.parametrize("args, named", [
    (["nosuch-scenario"], "'nosuch-scenario' is neither an archive, a recording nor a scenario"),
    (["fire", "--speed", "0"], "'0' is not a positive number"),
    (["fire", "--speed", "fast"], "'fast' is neither a number nor 'max'"),
])
def test_run_refuses_bad_input_naming_it(args: list[str], named: str, capsys: pytest.CaptureFixture) -> None:
    assert amur(["drill", "run", *args]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert named in line and line.startswith("amur drill run: error:")


def test_run_refuses_a_directory_that_is_not_an_archive(tmp_path, capsys: pytest.CaptureFixture) -> None:
    assert amur(["drill", "run", str(tmp_path)]) == 2
    assert "not an archive" in capsys.readouterr().err


def test_max_speed_sends_everything_at_once() -> None:
    assert replay_offsets([T0, T0 + timedelta(hours=5)], speed=float("inf")) == [0.0, 0.0]


def test_the_group_includes_a_report_subcommand_only_when_its_module_is_there(monkeypatch,
                                                                               capsys: pytest.CaptureFixture) -> None:
    from stream.drills import drill

    if not drill._subcommands():  # this build without stream.drills.report: not listed, not an error
        assert amur(["drill", "--help"]) == 0
        assert "report" not in capsys.readouterr().out.split("Commands:")[1]
    monkeypatch.setattr(drill, "_subcommands", lambda: {"report": "stream.drills.recorder:verify_command"})
    assert amur(["drill", "report", "--help"]) == 0
    assert "ARCHIVE" in capsys.readouterr().out
