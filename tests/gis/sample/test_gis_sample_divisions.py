"""Voronoi partitions and clipped grid squares of the sample generator."""

import numpy as np
import shapely

from gis.sample.divisions import Division, cells, random_points_in, voronoi_split


def test_voronoi_split_tiles_its_parent():
    parent = shapely.Polygon([(0, 0), (10_000, 0), (10_000, 6_000), (3_000, 9_000), (0, 6_000)])
    seeds = random_points_in(parent, 7, np.random.default_rng(1))
    pieces = voronoi_split(parent, seeds)
    assert len(pieces) == 7
    union = shapely.union_all([g for _, g in pieces])
    assert abs(union.area - parent.area) < 1e-6 * parent.area
    assert sum(g.area for _, g in pieces) == __import__("pytest").approx(parent.area, rel=1e-9)


def test_cells_are_squares_clipped_to_villages_and_numbered_within_them():
    a = Division("231102001001", "231102001", "a", "a", shapely.box(0, 0, 3000, 4000), (1, 1), False)
    b = Division("231102001002", "231102001", "b", "b", shapely.box(3000, 0, 5000, 4000), (4000, 1), False)
    got = cells([a, b])
    by_village = {v: [c for c in got if c.village_code == v] for v in (a.code, b.code)}
    assert len(by_village[a.code]) == 4  # 2 km squares over 3 km x 4 km: 2 full + 2 halves
    assert len(by_village[b.code]) == 4  # the other halves and the next column
    assert [c.code for c in by_village[a.code]] == [f"{a.code}{i:03d}" for i in range(1, 5)]
    assert sum(c.geometry.area for c in got) == 5000 * 4000
    assert by_village[a.code][0].geometry.bounds[3] == 4000  # numbered north-west first
