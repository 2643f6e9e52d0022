"""`amur hydro crests|route|calibrate` on CSV files (and the CSV reader behind them)."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest

from gis.hydro.errors import InvalidSeries
from gis.hydro.muskingum import route
from gis.hydro.series import read_series
from stream.cli.main import main as amur
from tests.conftest import TESTS

DATA = TESTS / "data" / "hydro"


def test_route_reproduces_the_chow_table_through_the_amur_command(capsys: pytest.CaptureFixture[str]) -> None:
    src = DATA / "chow_1988_example_8_4.csv"
    assert amur(["hydro", "route", str(src), "--k", "2.3", "--x", "0.15", "--dt", "1", "--o0", "85"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    with src.open() as fh:
        book = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    assert [r["time"] for r in rows] == [b["time"] for b in book]
    assert [r["inflow"] for r in rows] == [b["inflow"] for b in book]
    # Chow, Maidment & Mays (1988) Example 8.4 prints whole cfs; exact coefficients stay within 0.51.
    assert all(abs(float(r["outflow"]) - float(b["outflow"])) <= 0.51 for r, b in zip(rows, book))


def test_route_refuses_unstable_parameters_naming_the_bound(capsys: pytest.CaptureFixture[str]) -> None:
    src = str(DATA / "subramanya_muskingum_example.csv")
    assert amur(["hydro", "route", src, "--k", "12", "--x", "0.2", "--dt", "6"]) == 0
    capsys.readouterr()
    assert amur(["hydro", "route", src, "--k", "12", "--x", "0.4", "--dt", "6"]) == 2
    assert "2KX=9.6" in capsys.readouterr().err
    assert amur(["hydro", "route", src, "--k", "12", "--x", "0.2", "--dt", "3"]) == 2
    assert "does not match the input's time step of 6 h" in capsys.readouterr().err


def test_crests_prints_one_json_object_per_crest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "stage.csv"
    lines = ["time,stage"]
    for i in range(0, 96 * 4):
        hours = i / 4
        stage = 120.0 + 3.0 * math.exp(-(((hours - 30) / 8) ** 2)) + 1.0 * math.exp(-(((hours - 70) / 6) ** 2))
        when = f"2024-08-{1 + int(hours // 24):02d}T{int(hours % 24):02d}:{int(hours * 60 % 60):02d}:00+08:00"
        lines.append(f"{when},{stage:.3f}")
    src.write_text("\n".join(lines) + "\n")
    assert amur(["hydro", "crests", str(src), "--prominence", "0.5"]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [o["time"] for o in out] == ["2024-08-02T06:00:00+08:00", "2024-08-03T22:00:00+08:00"]
    assert [o["stage"] for o in out] == [pytest.approx(123.0, abs=0.005), pytest.approx(121.0, abs=0.005)]
    assert set(out[0]) == {"time", "stage", "prominence", "rise_start", "revisions", "final"}
    assert [(o["revisions"], o["final"]) for o in out] == [(0, True), (0, True)]
    # The first smoothed point is the centre of the first three readings.
    assert out[0]["rise_start"] == "2024-08-01T00:15:00+08:00"
    assert amur(["hydro", "crests", str(src), "--prominence", "5"]) == 0
    assert capsys.readouterr().out == ""


def test_calibrate_recovers_k_and_x_from_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inflow = [200 + 1800 * math.exp(-(((j * 2) - 40) / 14) ** 2) for j in range(80)]
    outflow = route(inflow, 6.0, 0.1, 2.0)
    up, down = tmp_path / "a.csv", tmp_path / "b.csv"
    up.write_text("time,inflow\n" + "".join(f"{2 * j},{q}\n" for j, q in enumerate(inflow)))
    down.write_text("time,outflow\n" + "".join(f"{2 * j},{q}\n" for j, q in enumerate(outflow)))
    assert amur(["hydro", "calibrate", "--upstream", str(up), "--downstream", str(down)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["k_h"] == pytest.approx(6.0, rel=1e-3) and result["x"] == pytest.approx(0.1, abs=1e-3)
    assert result["nse"] > 0.99999 and result["dt_h"] == 2.0
    down.write_text("time,outflow\n" + "".join(f"{2 * j + 1},{q}\n" for j, q in enumerate(outflow)))
    assert amur(["hydro", "calibrate", "--upstream", str(up), "--downstream", str(down)]) == 2
    assert "same times" in capsys.readouterr().err


def test_crests_offline_prints_the_offline_answer_and_online_agrees(capsys: pytest.CaptureFixture[str]) -> None:
    # A real flashy record (tests/data/hydro/README.md): two crests, the first announced early and revised.
    src = str(DATA / "usgs_03431040_2022-02-24.csv")
    assert amur(["hydro", "crests", src, "--prominence", "2", "--offline"]) == 0
    offline = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert amur(["hydro", "crests", src, "--prominence", "2"]) == 0
    online = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(o["time"], o["stage"]) for o in offline] == [(o["time"], o["stage"]) for o in online]
    assert len(online) == 2 and online[0]["revisions"] == 1 and all(o["final"] for o in online)
    assert set(offline[0]) == {"time", "stage", "prominence", "peak_time"}
    assert amur(["hydro", "crests", src, "--prominence", "2", "--events"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["event"] for e in events] == ["detected", "revised", "confirmed", "detected", "confirmed"]
    assert events[1]["time"] == online[0]["time"] and events[0]["stage"] < events[1]["stage"]


def test_calibrate_sums_several_upstream_gauges_and_takes_lateral_inflow(capsys: pytest.CaptureFixture[str]) -> None:
    flood = "flood_2023-12-18"
    args = ["hydro", "calibrate", "--upstream", str(DATA / f"usgs_01203600_{flood}.csv"),
            "--upstream", str(DATA / f"usgs_01203805_{flood}.csv"), "--downstream", str(DATA / f"usgs_01204000_{flood}.csv")]
    assert amur(args) == 0
    plain = json.loads(capsys.readouterr().out)
    assert amur([*args, "--lateral"]) == 0
    lateral = json.loads(capsys.readouterr().out)
    assert plain["inflow_scale"] == 1.0 and lateral["inflow_scale"] > 1.3
    assert lateral["nse"] > plain["nse"] and lateral["dt_h"] == 1.0 and lateral["steps"] == 73


@pytest.mark.parametrize("command,options", [
    ("crests", ["--prominence", "--hysteresis", "--spike", "--lateness-h", "--offline", "--events"]),
    ("route", ["--k", "--x", "--dt", "--o0", "--decimals"]),
    ("calibrate", ["--upstream", "--downstream", "--lateral"]),
])
def test_help_lists_the_options(capsys: pytest.CaptureFixture[str], command: str, options: list[str]) -> None:
    assert amur(["hydro", command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Usage: amur hydro {command}") and all(option in out for option in options)


@pytest.mark.parametrize("args,named", [
    (["crests", "{src}", "--prominence", "0"], "'--prominence'"),
    (["crests", "{src}", "--lateness-h", "-1"], "'--lateness-h'"),
    (["route", "{src}", "--k", "12", "--x", "0.6", "--dt", "6"], "'--x'"),
    (["route", "{src}", "--k", "12", "--x", "0.2"], "'--dt'"),
    (["route", "{src}", "--k", "12", "--x", "0.2", "--dt", "6", "--decimals", "two"], "'--decimals'"),
    (["route", "missing.csv", "--k", "12", "--x", "0.2", "--dt", "6"], "'INPUT'"),
    (["calibrate", "--upstream", "{src}"], "'--downstream'"),
])
def test_usage_error_is_one_line_naming_the_option(capsys: pytest.CaptureFixture[str], args: list[str],
                                                   named: str) -> None:
    src = str(DATA / "subramanya_muskingum_example.csv")
    assert amur(["hydro", *(a.format(src=src) for a in args)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.splitlines()) == 1 and named in captured.err


def test_reader_names_the_bad_row(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("time,stage\n2024-01-01T00:00:00+08:00,1.0\nyesterday,2.0\n")
    with pytest.raises(InvalidSeries, match=r"bad.csv:3: time is neither ISO 8601 nor hours: 'yesterday'"):
        read_series(bad, "stage")
    bad.write_text("time,stage\n1,abc\n")
    with pytest.raises(InvalidSeries, match=r"bad.csv:2: 'stage' is not a number"):
        read_series(bad, "stage")
    bad.write_text("when,stage\n1,2\n")
    with pytest.raises(InvalidSeries, match="expected columns"):
        read_series(bad, "stage")
    with pytest.raises(InvalidSeries, match="cannot read"):
        read_series(tmp_path / "missing.csv")
