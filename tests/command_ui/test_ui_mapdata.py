"""Map layers for the browser from the bundled Heihe layer set."""

from __future__ import annotations

import json

import orjson
import pytest
from shapely.geometry import shape

from command_ui.errors import GatewayError
from command_ui.mapdata import build_page_data, simplify_layer
from gis.registry import DEFAULT_DATA_DIR, load_cameras, load_cells


def test_every_layer_feature_and_point_arrives_simplified() -> None:
    data = build_page_data()
    layers = orjson.loads(data.layers)
    for name, filename in (("counties", "counties.geojson"), ("townships", "townships_sample.geojson"),
                           ("rivers", "rivers.geojson")):
        source = json.loads((DEFAULT_DATA_DIR / filename).read_text())
        assert len(layers[name]["features"]) == len(source["features"])
        for ours, theirs in zip(layers[name]["features"], source["features"]):
            assert ours["properties"] == theirs["properties"]
            simplified, original = shape(ours["geometry"]), shape(theirs["geometry"])
            # simplified within its tolerance (0.004 deg) plus rounding, never a different place
            assert simplified.hausdorff_distance(original) < 0.0045
    assert len(layers["cells"]) == len(load_cells())
    assert len(orjson.loads(data.cameras)) == len(load_cameras())
    assert len(data.layers) < len(json.dumps(layers)) * 1.01  # compact encoding, not pretty-printed


def test_a_projected_layer_is_refused() -> None:
    layer = {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:3857"}}, "features": []}
    with pytest.raises(GatewayError, match="layer rivers must be WGS84.*EPSG:3857"):
        simplify_layer(layer, 0.001, "rivers")
