"""The real boundaries: GCJ-02 -> WGS84 and the border river derived from the shared boundary."""

import shapely

from gis.registry import DEFAULT_DATA_DIR
from gis.sample.boundaries import COUNTIES, load_real_boundaries, shared_line


def test_shared_line_is_the_common_edge():
    a = shapely.box(0, 0, 10, 10)
    b = shapely.Polygon([(10, 2), (20, 2), (20, 8), (10, 8)])
    line = shared_line(a, b, eps=1e-9)
    assert abs(line.length - 6) < 1e-6 and line.distance(shapely.Point(10, 5)) == 0


def test_real_boundaries_are_converted_and_consistent():
    real = load_real_boundaries(DEFAULT_DATA_DIR / "source")
    assert set(real.counties) == set(COUNTIES)
    union = shapely.union_all(list(real.counties.values()))
    assert abs(union.area - real.city.area) < 0.01 * real.city.area  # counties tile the city
    # WGS84 sits south-west of GCJ-02 around Heihe by a few hundred metres
    assert real.city.bounds[0] < 124.748 and real.city.bounds[1] < 47.586
    assert 3.0 < real.heilongjiang.length < 4.5  # degrees, ~ 360 km of frontage
