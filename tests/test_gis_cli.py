"""`amur gis check` on the bundled sample and on a broken layer set."""

from stream.cli import main as amur


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
