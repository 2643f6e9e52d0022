"""``amur gis check [MANIFEST]``: load a layer set, validate it and print what it holds."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from gis import registry as R
from gis.errors import GisError
from gis.layers import DEFAULT_MANIFEST, grid_model, hierarchy_problems, load_layer_set


def check_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="amur gis check", description=__doc__.splitlines()[0])
    parser.add_argument("manifest", nargs="?", type=Path, default=DEFAULT_MANIFEST,
                        help="layer-set manifest (default: the bundled Heihe sample)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        layers = load_layer_set(args.manifest)
    except GisError as exc:
        print(f"amur gis check: {exc}", file=sys.stderr)
        return 1
    print(f"layer set {layers.manifest.name!r} ({args.manifest}), CRS {layers.crs.to_string()}")
    for role, layer in layers.layers.items():
        minx, miny, maxx, maxy = layer.screen.total_bounds
        print(f"  {role:<12} {len(layer.screen):>7} features  {layer.spec.file.name:<30} "
              f"lon {minx:.3f}..{maxx:.3f} lat {miny:.3f}..{maxy:.3f}")
    problems = hierarchy_problems(layers)
    for p in problems:
        print(f"  problem: {p}", file=sys.stderr)
    data_dir = args.manifest.resolve().parent
    facilities: list[tuple[str, str]] = []
    try:
        if (data_dir / "facilities_sample.csv").exists():
            facilities = [(f.kind, f.cell_code) for f in R.load_facilities(data_dir)]
        if "cell" in layers.layers:
            model = grid_model(layers, facilities)
            print(f"  grid model: {model.size} cells, {len(model.gauge_ids)} controlling gauges, "
                  f"{int(model.population.sum())} people")
        for name, loader in (("gauges", R.load_gauges), ("stations", R.load_stations), ("sensors", R.load_sensors),
                             ("cameras", R.load_cameras)):
            try:
                print(f"  registry {name:<9} {len(loader(data_dir)):>6} rows")
            except GisError as exc:
                if "not found" not in str(exc):
                    raise
    except GisError as exc:
        print(f"amur gis check: {exc}", file=sys.stderr)
        return 1
    print(f"{'FAILED' if problems else 'ok'} in {time.perf_counter() - started:.1f} s")
    return 1 if problems else 0
