"""Drills: recordings parse, pacing follows event time, reports list every incident worst first;
the command refuses bad options before it starts a broker."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from stream import schemas
from stream.cli.main import main as amur
from stream.drills.drill import (
    drill_report,
    parse_recording,
    replay_offsets,
    report_markdown,
)
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


def test_report_lists_worst_first_and_counts_by_colour() -> None:
    report = drill_report("d1", [_incident("a", schemas.Colour.YELLOW, 5), _incident("b", schemas.Colour.RED, 9),
                                 _incident("c", schemas.Colour.YELLOW, 1)])
    assert [row["id"] for row in report["items"]] == ["b", "c", "a"]
    assert report["by_colour"] == {"red": 1, "yellow": 2}
    assert report["all_marked_as_drill"] and report["status"] == "Exercise"
    assert "EXERCISE" in report_markdown(report)


def test_command_help_lists_its_options(capsys: pytest.CaptureFixture) -> None:
    assert amur(["drill", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--scenario", "--replay", "--speed", "--duration", "--start", "--seed", "--feeds", "--run-id",
                   "--workers", "--settle"):
        assert option in out


@pytest.mark.parametrize("args, named", [
    ([], "--scenario or --replay"),
    (["--scenario", "fire", "--replay", __file__], "--scenario or --replay"),
    (["--replay", "/nonexistent/day.tsv"], "--replay"),
    (["--scenario", "fire", "--speed", "-1"], "--speed"),
    (["--scenario", "fire", "--start", "2024-08-01T00:00:00"], "--start"),
    (["--scenario", "fire", "--feeds", "radar"], "--feeds"),
    (["--scenario", "fire", "--workers", "0"], "--workers"),
])
def test_command_refuses_bad_options_before_starting_anything(args: list[str], named: str,
                                                              capsys: pytest.CaptureFixture) -> None:
    assert amur(["drill", *args]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert named in line and line.startswith("amur drill: error:")
