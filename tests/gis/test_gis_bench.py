"""`amur bench grid` runs end to end on a small point count (no timing assertions)."""

from gis import bench


def test_bench_grid_prints_its_figures_and_limits(capsys):
    assert bench.main(["--points", "20000", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "points/s" in out and "limit: bounding-box-only" in out
    assert "flood rescoring: whole grid" in out and "one cell" in out
    assert out.count("limit: whole grid under 1.0 s") == 2
