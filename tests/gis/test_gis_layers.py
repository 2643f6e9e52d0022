"""Layer sets: the bundled manifest loads; missing CRS, CRS mismatch and missing attributes are refused."""

import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gis.errors import LayerError, ManifestError
from gis.layers import grid_model, hierarchy_problems, load_layer_set, read_manifest


@pytest.fixture(scope="module")
def sample():
    return load_layer_set()


def test_bundled_sample_loads_and_reprojects(sample):
    assert set(sample.layers) == {"city", "county", "township", "village", "cell", "river", "camera_view"}
    cells = sample["cell"]
    assert cells.metric.crs.to_epsg() == 32652 and cells.screen.crs.to_epsg() == 4326
    areas = cells.metric.geometry.area.to_numpy()
    recorded = cells.metric["area_m2"].astype(float).to_numpy()
    # the attribute table joined on the right rows (slivers of a few m2 feel the 6-decimal rounding)
    assert (abs(areas - recorded) <= np.maximum(0.01 * recorded, 50.0)).all()
    assert hierarchy_problems(sample) == []
    assert grid_model(sample).size == len(cells.screen)


def _write_set(tmp_path, layers, crs_b="EPSG:4326", extra=""):
    a = gpd.GeoDataFrame({"code": ["231100"], "name": ["Heihe"], "name_zh": ["黑河市"]},
                         geometry=[shapely.box(124, 47, 130, 51)], crs="EPSG:4326")
    b = gpd.GeoDataFrame({"code": ["231102"], "name": ["Aihui"], "name_zh": ["爱辉区"], "parent_code": ["231100"]},
                         geometry=[shapely.box(126, 49, 127, 50)], crs="EPSG:4326")
    if crs_b is None:
        b = b.set_crs(None, allow_override=True).drop(columns="parent_code")  # shapefile names: 10 chars
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pyogrio warns that the file will lack a CRS: that is the point
            b.to_file(tmp_path / "counties.shp")
        (tmp_path / "counties.prj").unlink(missing_ok=True)
        county_entry = "file: counties.shp"
    else:
        b.to_crs(crs_b).to_file(tmp_path / "set.gpkg", layer="counties", driver="GPKG")
        county_entry = "file: set.gpkg\n    layer: counties"
    a.to_file(tmp_path / "set.gpkg", layer="city", driver="GPKG")
    (tmp_path / "manifest.yaml").write_text(f"""name: test
layers:
  - role: city
    file: set.gpkg
    layer: city
    id_field: code
    required: [code, name]
  - role: county
    {county_entry}
    id_field: code
    required: [code, parent_code{extra}]
""")
    return tmp_path / "manifest.yaml"


def test_city_geopackage_swaps_in(tmp_path):
    layers = load_layer_set(_write_set(tmp_path, None, crs_b="EPSG:4326"))
    assert len(layers["county"].screen) == 1 and hierarchy_problems(layers) == []


def test_layer_without_crs_is_refused(tmp_path):
    with pytest.raises(LayerError, match=r"layer 'county' \(counties.shp\) has no CRS"):
        load_layer_set(_write_set(tmp_path, None, crs_b=None))


def test_crs_mismatch_names_both(tmp_path):
    with pytest.raises(LayerError) as err:
        load_layer_set(_write_set(tmp_path, None, crs_b="EPSG:32652"))
    msg = str(err.value)
    assert "layer 'county' (set.gpkg:counties)" in msg and "EPSG:32652" in msg
    assert "layer 'city' (set.gpkg:city)" in msg and "EPSG:4326" in msg


def test_missing_attributes_named(tmp_path):
    with pytest.raises(LayerError, match=r"layer 'county'.*missing required attributes \['population'\]"):
        load_layer_set(_write_set(tmp_path, None, extra=", population"))


def test_bad_manifests(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("layers: []\n")
    with pytest.raises(ManifestError, match="non-empty"):
        read_manifest(path)
    path.write_text("layers:\n  - {role: lake, file: a.gpkg, id_field: id}\n")
    with pytest.raises(ManifestError, match="role 'lake'"):
        read_manifest(path)
    path.write_text("layers:\n  - {role: city, file: nowhere.gpkg, id_field: code}\n")
    with pytest.raises(LayerError, match="not found"):
        load_layer_set(path)
    with pytest.raises(ManifestError, match="not found"):
        read_manifest(tmp_path / "absent.yaml")


def test_hierarchy_problem_reported(tmp_path):
    manifest = _write_set(tmp_path, None)
    gdf = gpd.read_file(tmp_path / "set.gpkg", layer="counties")
    gdf["parent_code"] = ["239900"]
    gdf.to_file(tmp_path / "set.gpkg", layer="counties", driver="GPKG")
    assert "unknown parent '239900'" in hierarchy_problems(load_layer_set(manifest))[0]
