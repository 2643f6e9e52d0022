"""`amur fwi` end to end: output columns, published values, bad rows."""

import csv
import io

import pytest

from stream.cli.main import main as amur

HEADER = "date,temp,rh,wind,rain\n"
# Van Wagner & Pickett (1985) test data, first two days; published FFMC..FWI
# 87.7 8.5 19.0 10.9 8.5 10.1 / 86.2 10.4 23.6 8.8 10.4 9.3
GOOD = HEADER + "1985-04-13,17,42,25,0\n1985-04-14,20,21,25,2.4\n"


def _write(tmp_path, text):
    path = tmp_path / "wx.csv"
    path.write_text(text)
    return str(path)


def test_outputs_rows_with_published_values(tmp_path, capsys):
    assert amur(["fwi", _write(tmp_path, GOOD)]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(rows[0]) == ["date", "temp", "rh", "wind", "rain", "ffmc", "dmc", "dc", "isi", "bui", "fwi", "danger"]
    codes = ("ffmc", "dmc", "dc", "isi", "bui", "fwi")
    assert [rows[0][k] for k in codes] == ["87.7", "8.5", "19.0", "10.9", "8.5", "10.1"]
    assert [rows[1][k] for k in codes] == ["86.2", "10.4", "23.6", "8.8", "10.4", "9.3"]
    assert rows[0]["danger"] == "low"  # EFFIS: 5.2 <= 10.1 < 11.2


def test_start_values_change_the_result(tmp_path, capsys):
    assert amur(["fwi", _write(tmp_path, GOOD), "--ffmc0", "60", "--dmc0", "30", "--dc0", "200"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert float(rows[0]["dc"]) > 200 and float(rows[0]["ffmc"]) < 87.7


@pytest.mark.parametrize("bad,field", [
    ("1985-04-15,8.5,140,17,0", "rh"),
    ("1985-04-15,8.5,40,17,-1", "rain"),
    ("1985-04-16,8.5,40,17,0", "date"),
    ("1985-04-15,warm,40,17,0", "temp"),
])
def test_bad_row_is_an_error_naming_line_and_field(tmp_path, capsys, bad, field):
    assert amur(["fwi", _write(tmp_path, GOOD + bad + "\n")]) == 1
    err = capsys.readouterr().err
    assert "line 4" in err and f"'{field}'" in err


def test_skip_bad_reports_and_carries_on(tmp_path, capsys):
    text = GOOD + "1985-04-15,8.5,140,17,0\n1985-04-15,8.5,40,17,0\n"
    assert amur(["fwi", _write(tmp_path, text), "--skip-bad"]) == 0
    captured = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(captured.out)))
    assert [r["date"] for r in rows] == ["1985-04-13", "1985-04-14", "1985-04-15"]
    assert rows[2]["ffmc"] == "87.0"  # the published third day: codes carried over the skipped row
    assert "line 4" in captured.err


def test_missing_column_is_reported(tmp_path, capsys):
    assert amur(["fwi", _write(tmp_path, "date,temp,rh,wind\n1985-04-13,17,42,25\n")]) == 2
    assert "rain" in capsys.readouterr().err


def test_skip_bad_keeps_the_day_after_a_gap(tmp_path, capsys):
    text = GOOD + "1985-04-16,6.5,25,6,0\n1985-04-16,6.5,25,6,0\n"
    assert amur(["fwi", _write(tmp_path, text), "--skip-bad"]) == 0
    captured = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(captured.out)))
    assert [r["date"] for r in rows] == ["1985-04-13", "1985-04-14", "1985-04-16"]  # the repeat is dropped
    assert "leaves days missing" in captured.err and "repeats" in captured.err


def test_reads_stdin_for_a_dash(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(GOOD))
    assert amur(["fwi", "-"]) == 0
    assert [r["fwi"] for r in csv.DictReader(io.StringIO(capsys.readouterr().out))] == ["10.1", "9.3"]


def test_help_lists_the_options(capsys):
    assert amur(["fwi", "--help"]) == 0
    out = capsys.readouterr().out
    assert all(option in out for option in ("--ffmc0", "--dmc0", "--dc0", "--skip-bad"))


@pytest.mark.parametrize("args,named", [
    (["--ffmc0", "warm"], "'--ffmc0'"),
    (["--ffmc"], "--ffmc"),
])
def test_usage_error_is_one_line_naming_the_option(tmp_path, capsys, args, named):
    assert amur(["fwi", _write(tmp_path, GOOD), *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.splitlines()) == 1 and named in captured.err


def test_missing_input_file_is_a_usage_error(tmp_path, capsys):
    assert amur(["fwi", str(tmp_path / "none.csv")]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "'INPUT'" in err and "none.csv" in err
