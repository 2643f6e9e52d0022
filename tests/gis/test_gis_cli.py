"""`amur gis check` on the bundled sample and on a broken layer set."""

import shutil

from gis.registry import DEFAULT_DATA_DIR
from stream.cli.main import main as amur


def test_check_bundled_sample(capsys):
    assert amur(["gis", "check"]) == 0
    out = capsys.readouterr().out
    assert "layer set 'heihe-sample'" in out and "EPSG:4326" in out
    assert "cell" in out and "grid model:" in out and out.rstrip().splitlines()[-1].startswith("ok")


def test_check_reports_a_broken_manifest(tmp_path, capsys):
    bad = tmp_path / "manifest.yaml"
    bad.write_text("layers:\n  - {role: city, file: missing.gpkg, id_field: code}\n")
    assert amur(["gis", "check", str(bad)]) == 1
    assert "layer 'city' (missing.gpkg): file" in capsys.readouterr().err


def test_check_flags_a_camera_in_an_unknown_cell(tmp_path, capsys):
    for p in DEFAULT_DATA_DIR.iterdir():
        if p.is_file():
            shutil.copy(p, tmp_path / p.name)
    cams = tmp_path / "cameras_sample.csv"
    lines = cams.read_text().splitlines()
    fields = lines[1].split(",")
    fields[-2] = "231102999999999"
    lines[1] = ",".join(fields)
    cams.write_text("\n".join(lines) + "\n")
    assert amur(["gis", "check", str(tmp_path / "manifest.yaml")]) == 1
    assert f"cameras: {fields[0]} is in unknown cell '231102999999999'" in capsys.readouterr().err


def test_help_names_the_manifest(capsys):
    assert amur(["gis", "check", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Usage: amur gis check [OPTIONS] [MANIFEST]") and "bundled Heihe sample" in out


def test_missing_manifest_is_a_usage_error(tmp_path, capsys):
    assert amur(["gis", "check", str(tmp_path / "none.yaml")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.splitlines()) == 1
    assert "'[MANIFEST]'" in captured.err and "none.yaml" in captured.err
