"""``amur gis check [MANIFEST]``: load a layer set, validate it and print what it holds."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from gis import registry as R
from gis.errors import GisError
from gis.layers import (
    DEFAULT_MANIFEST,
    LayerSet,
    grid_model,
    hierarchy_problems,
    load_layer_set,
)

_REGISTRIES = (("gauges", R.load_gauges, "gauge_id"), ("stations", R.load_stations, "station_id"),
               ("sensors", R.load_sensors, "sensor_id"), ("cameras", R.load_cameras, "camera_id"),
               ("facilities", R.load_facilities, "facility_id"))


def registry_problems(layers: LayerSet, data_dir: Path, limit: int = 5) -> tuple[list[str], list[str]]:
    """Load the registries found next to the manifest; (summary lines, rows placed in unknown cells)."""
    cells = set(layers["cell"].screen[layers["cell"].spec.id_field].astype(str)) if "cell" in layers.layers else None
    lines: list[str] = []
    problems: list[str] = []
    for name, loader, id_field in _REGISTRIES:
        try:
            rows = loader(data_dir)
        except GisError as exc:
            if "not found" in str(exc):
                continue
            raise
        lines.append(f"  registry {name:<10} {len(rows):>6} rows")
        if cells is not None:
            stray = [r for r in rows if getattr(r, "cell_code", None) is not None and r.cell_code not in cells]
            problems += [f"{name}: {getattr(r, id_field)} is in unknown cell {r.cell_code!r}" for r in stray[:limit]]
    return lines, problems


@click.command(name="check", help="Load a layer set, validate it and print what it holds.\n\n"
                                  "MANIFEST: layer-set manifest (default: the bundled Heihe sample).")
@click.argument("manifest", required=False, default=DEFAULT_MANIFEST,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
def check_command(manifest: Path) -> int:
    started = time.perf_counter()
    data_dir = R.data_dir_for(manifest)
    try:
        layers = load_layer_set(manifest)
        print(f"layer set {layers.manifest.name!r} ({manifest}), CRS {layers.crs.to_string()}")
        for role, layer in layers.layers.items():
            minx, miny, maxx, maxy = layer.screen.total_bounds
            print(f"  {role:<12} {len(layer.screen):>7} features  {layer.spec.file.name:<30} "
                  f"lon {minx:.3f}..{maxx:.3f} lat {miny:.3f}..{maxy:.3f}")
        problems = hierarchy_problems(layers)
        lines, stray = registry_problems(layers, data_dir)
        problems += stray
        if "cell" in layers.layers:
            facilities = [(f.kind, f.cell_code) for f in R.load_facilities(data_dir)] \
                if (data_dir / "facilities_sample.csv").exists() else []
            model = grid_model(layers, facilities)
            print(f"  grid model: {model.size} cells, {len(model.gauge_ids)} controlling gauges, "
                  f"{int(model.population.sum())} people")
        print("\n".join(lines))
    except GisError as exc:
        print(f"amur gis check: {exc}", file=sys.stderr)
        return 1
    for p in problems:
        print(f"  problem: {p}", file=sys.stderr)
    print(f"{'FAILED' if problems else 'ok'} in {time.perf_counter() - started:.1f} s")
    return 1 if problems else 0
