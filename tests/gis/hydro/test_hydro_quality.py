"""Bad gauge records are refused naming their rows, and no crest is invented from them.

The faults are made in real records (tests/data/hydro/README.md): a reading written twice,
a real gap, the stage in centimetres from some row on, a sensor stuck on a rising limb.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gis.hydro.errors import InvalidSeries
from gis.hydro.quality import ProblemKind, check_series, require_clean
from gis.hydro.series import read_series
from stream.cli.main import main as amur
from tests.conftest import TESTS

DATA = TESTS / "data" / "hydro"
RIVER = DATA / "usgs_05587450_2022-05_hourly.csv"


def lines_of(path: Path) -> list[str]:
    return path.read_text().splitlines()


def line_no(lines: list[str], time_prefix: str) -> int:
    """1-based line number of the row whose time starts with ``time_prefix``."""
    return next(i for i, text in enumerate(lines, start=1) if text.startswith(time_prefix))


def write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("path", sorted(DATA.glob("usgs_*.csv")), ids=lambda p: p.name)
def test_real_records_pass_except_the_one_with_a_real_gap(path: Path) -> None:
    problems = check_series(read_series(path))
    if "gap" in path.name:
        assert [p.kind for p in problems] == [ProblemKind.GAP]
    else:
        assert problems == ()


def test_a_reading_written_twice_is_named_by_both_rows(tmp_path: Path) -> None:
    lines = lines_of(RIVER)
    at = line_no(lines, "2022-05-06T12:00")
    time = lines[at - 1].split(",")[0]
    lines.insert(at, f"{time},7900.0")  # the same time again, another value
    problems = check_series(read_series(write(tmp_path, lines)))
    assert [(p.kind, p.first_line, p.last_line) for p in problems] == [(ProblemKind.DUPLICATE_TIME, at, at + 1)]
    assert "7843.76 and 7900" in problems[0].detail


def test_a_real_gap_is_named_with_its_length_and_the_typical_step() -> None:
    path = DATA / "usgs_03431040_2022-02-22_gap.csv"
    lines = lines_of(path)
    problem, = check_series(read_series(path))
    assert (problem.first_line, problem.last_line) == (line_no(lines, "2022-02-22T19:55"),
                                                        line_no(lines, "2022-02-22T20:55"))
    assert "no reading for 1 h 00 min" in str(problem) and "typical step is 5 min" in str(problem)


def test_centimetres_from_some_row_on_are_a_unit_change(tmp_path: Path) -> None:
    lines = lines_of(RIVER)
    at = line_no(lines, "2022-05-10T00:00")
    for i in range(at - 1, len(lines)):
        time, value = lines[i].split(",")
        lines[i] = f"{time},{float(value) * 100:.1f}"
    problem, = check_series(read_series(write(tmp_path, lines)))
    assert (problem.kind, problem.first_line, problem.last_line) == (ProblemKind.UNIT_CHANGE, at - 1, at)
    assert "x100" in problem.detail


def test_a_value_held_for_hours_on_a_rising_limb_is_a_stuck_sensor(tmp_path: Path) -> None:
    lines = lines_of(RIVER)
    first, last = line_no(lines, "2022-05-05T14:00"), line_no(lines, "2022-05-05T22:00")
    held = lines[first - 1].split(",")[1]
    for i in range(first - 1, last):
        lines[i] = f"{lines[i].split(',')[0]},{held}"
    problem, = check_series(read_series(write(tmp_path, lines)))
    assert (problem.kind, problem.first_line, problem.last_line) == (ProblemKind.STUCK, first, last)
    assert "8 h 00 min" in problem.detail


def test_a_flat_top_is_not_a_stuck_sensor() -> None:
    # The Mississippi stood at 6,937.621 m3/s for 13 hours on 1 May 2022: the top of its first hump.
    rows = read_series(RIVER)
    longest = max(sum(1 for _ in g) for _, g in __import__("itertools").groupby(r.value for r in rows))
    assert longest >= 13 and check_series(rows) == ()


def test_require_clean_lists_every_problem(tmp_path: Path) -> None:
    lines = lines_of(RIVER)
    at = line_no(lines, "2022-05-06T12:00")
    lines.insert(at, lines[at - 1])
    del lines[line_no(lines, "2022-05-12T00:00") - 1:line_no(lines, "2022-05-12T07:00")]
    with pytest.raises(InvalidSeries, match=r"2 problem\(s\), no crest is looked for in it") as info:
        require_clean(read_series(write(tmp_path, lines)), "bad.csv")
    assert "duplicate time" in str(info.value) and "gap" in str(info.value)


@pytest.mark.parametrize("fault", ["duplicate", "gap", "cm", "stuck"])
def test_the_crests_command_refuses_a_bad_record_and_prints_no_crest(tmp_path: Path, fault: str,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    lines = lines_of(RIVER)
    if fault == "duplicate":
        at = line_no(lines, "2022-05-08T00:00")
        lines.insert(at, lines[at - 1].split(",")[0] + ",9999.0")
    elif fault == "gap":
        del lines[line_no(lines, "2022-05-07T00:00") - 1:line_no(lines, "2022-05-09T00:00")]
    elif fault == "cm":
        at = line_no(lines, "2022-05-07T00:00")
        lines[at - 1:] = [f"{t},{float(v) * 100}" for t, v in (x.split(",") for x in lines[at - 1:])]
    else:
        first, last = line_no(lines, "2022-05-05T14:00"), line_no(lines, "2022-05-05T22:00")
        lines[first - 1:last] = [f"{x.split(',')[0]},6994.255" for x in lines[first - 1:last]]
    path = write(tmp_path, lines)
    for extra in ([], ["--offline"]):
        assert amur(["hydro", "crests", str(path), "--prominence", "300", *extra]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""  # no crest invented
        assert "no crest is looked for in it" in captured.err and "row" in captured.err
