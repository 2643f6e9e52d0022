"""The light registry API over the bundled sample, and its refusal of bad rows."""

import shutil

import pytest

from gis import registry as R
from gis.errors import RegistryError
from stream.schemas import SensorKind


def test_gauges_contract():
    gauges = R.load_gauges()
    assert 20 <= len(gauges) <= 60
    ids = {g.gauge_id for g in gauges}
    assert {"hlj-huma", "hlj-heihe", "hlj-xunke"} <= ids
    main = sorted((g for g in gauges if g.gauge_id.startswith("hlj-")), key=lambda g: g.order)
    assert [g.order for g in main] == list(range(1, len(main) + 1))
    chain = [g.chainage_km for g in main]
    assert chain == sorted(chain), "chainage must grow downstream"
    by_id = {g.gauge_id: g for g in gauges}
    assert by_id["hlj-huma"].order < by_id["hlj-heihe"].order < by_id["hlj-xunke"].order
    for g in gauges:
        assert g.warning_m < g.guaranteed_m < g.record_m
        if g.downstream_gauge_id:
            assert g.downstream_gauge_id in ids
    assert any(g.river == "gongbiela" for g in gauges) and any(g.river == "xunhe" for g in gauges)


def test_counts_and_kinds():
    assert 50 <= len(R.load_stations()) <= 200
    sensors = R.load_sensors()
    assert len(sensors) == 10_000
    assert {s.kind for s in sensors} == {"smoke", "temperature", "rain", "water_level"}
    assert all(SensorKind(s.kind) for s in sensors)
    assert all(s.gauge_id for s in sensors if s.kind == "water_level")
    cameras = R.load_cameras()
    assert len(cameras) == 5_000
    assert {c.department for c in cameras} == set(R.DEPARTMENTS)
    assert sum(c.protocol == "http" for c in cameras) > 0.8 * len(cameras)
    assert {f.kind for f in R.load_facilities()} == set(R.FACILITY_KINDS)


def test_camera_ids_are_gbt28181_shaped():
    for cam in R.load_cameras():
        assert len(cam.camera_id) == 20 and cam.camera_id.isdigit()
        assert cam.camera_id[:6] == cam.county_code  # centre code from GB/T 2260
        assert cam.camera_id[10:13] == "132"  # device type: camera
        assert cam.cell_code.startswith(cam.county_code)


def test_codes_extend_their_parents():
    cells = R.load_cells()
    assert len(cells) >= 20_000
    for c in cells:
        assert len(c.cell_code) == 15 and c.cell_code.startswith(c.village_code)
        assert c.village_code.startswith(c.township_code) and c.township_code.startswith(c.county_code)
        assert c.county_code[:4] == "2311"
    urban = [c for c in cells if c.urban]
    rural = [c for c in cells if not c.urban]
    assert urban and all(c.county_code == "231102" for c in urban)
    assert max(c.area_m2 for c in urban) < min(4e6, max(c.area_m2 for c in rural))


def test_coverage_lookup_both_ways():
    cov = R.CameraCoverage.load()
    cam = R.load_cameras()[0]
    seen = cov.cells_seen_by(cam.camera_id)
    assert seen and seen[0].camera_id == cam.camera_id
    assert [v.fraction_seen for v in seen] == sorted((v.fraction_seen for v in seen), reverse=True)
    cell = seen[0].cell_code
    assert any(v.camera_id == cam.camera_id for v in cov.cameras_seeing(cell))
    assert cov.cells_seen_by("no-such-camera") == ()


def _copy(tmp_path, name):
    shutil.copy(R.DEFAULT_DATA_DIR / name, tmp_path / name)
    return tmp_path / name


def test_bad_row_names_file_line_field_and_value(tmp_path):
    path = _copy(tmp_path, "gauges.csv")
    lines = path.read_text().splitlines()
    lines[3] = lines[3].replace(lines[3].split(",")[5], "east", 1)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(RegistryError, match=r"gauges.csv line 4: field 'lon' = 'east'"):
        R.load_gauges(tmp_path)


def test_unknown_kind_refused(tmp_path):
    path = _copy(tmp_path, "sensors_sample.csv")
    path.write_text(path.read_text().replace(",smoke,", ",sniffer,", 1))
    with pytest.raises(RegistryError, match="'kind' = 'sniffer'"):
        R.load_sensors(tmp_path)


def test_missing_file_and_columns(tmp_path):
    with pytest.raises(RegistryError, match="not found"):
        R.load_stations(tmp_path)
    (tmp_path / "stations_sample.csv").write_text("station_id,lon\nws-1,127\n")
    with pytest.raises(RegistryError, match="missing columns"):
        R.load_stations(tmp_path)
