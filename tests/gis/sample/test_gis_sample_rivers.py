"""Sample river lines and gauge placement."""

import numpy as np
import shapely

from gis.sample.gauges import gauge_rows
from gis.sample.rivers import _on_line, build_rivers, tributary_line


def test_tributary_line_passes_through_its_gauges():
    anchors = [(0.0, 0.0), (20_000.0, 5_000.0), (50_000.0, 0.0)]
    line = tributary_line(anchors, np.random.default_rng(3))
    for a in anchors:
        assert line.distance(shapely.Point(a)) < 1e-6
    assert line.length > 50_000  # meanders


def test_gauges_snap_to_the_main_line_with_growing_chainage():
    main = shapely.LineString([(600_000, 5_650_000), (650_000, 5_550_000), (700_000, 5_450_000)])
    rows = [r for r in gauge_rows() if r.spec.river == "heilongjiang"]
    rivers, positions, chainage = build_rivers(main, gauge_rows(), np.random.default_rng(1))
    snapped = [r.spec.gauge_id for r in rows if r.spec.gauge_id in chainage]
    values = [chainage[g] for g in snapped]
    assert values == sorted(values)
    for g in snapped:
        assert main.distance(shapely.Point(positions[g])) < 1e-6
    assert not _on_line(main, (100_000, 100_000))
