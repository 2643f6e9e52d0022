"""Layer sets: GeoPackage / GeoJSON / Shapefile layers described by one manifest.

A manifest (YAML) lists layers with their role, file (and GeoPackage layer),
id field and required attributes, optionally joined to a CSV attribute table.
Loading refuses a layer without a CRS, a layer whose CRS differs from the
others', missing attributes and duplicate ids -- each error names the layer.
Layers are reprojected once, to UTM 52N for metric work and to WGS84 for the
screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import geopandas as gpd
import pandas as pd
import shapely
import yaml
from pyproj import CRS

from gis.crs import METRIC, WGS84
from gis.errors import LayerError, ManifestError
from gis.grid import GridModel

ROLES = ("city", "county", "township", "village", "cell", "river", "camera_view")
DEFAULT_MANIFEST = Path(__file__).resolve().parent / "data" / "heihe" / "manifest.yaml"


@dataclass(frozen=True)
class LayerSpec:
    role: str
    file: Path
    id_field: str
    required: tuple[str, ...] = ()
    layer: str | None = None
    table: Path | None = None
    table_id: str | None = None

    @property
    def label(self) -> str:
        where = self.file.name + (f":{self.layer}" if self.layer else "")
        return f"layer {self.role!r} ({where})"


@dataclass(frozen=True)
class Manifest:
    name: str
    path: Path
    layers: tuple[LayerSpec, ...]


def read_manifest(path: Path) -> Manifest:
    """Parse and check a manifest; file paths are resolved against its directory."""
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"manifest {path} not found") from None
    except yaml.YAMLError as exc:
        raise ManifestError(f"manifest {path}: not valid YAML: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("layers"), list) or not doc["layers"]:
        raise ManifestError(f"manifest {path}: needs a non-empty 'layers' list")
    base = Path(path).resolve().parent
    specs = []
    for n, entry in enumerate(doc["layers"], start=1):
        if not isinstance(entry, dict):
            raise ManifestError(f"manifest {path}: layer #{n} is not a mapping")
        for key in ("role", "file", "id_field"):
            if not entry.get(key):
                raise ManifestError(f"manifest {path}: layer #{n} lacks {key!r}")
        if entry["role"] not in ROLES:
            raise ManifestError(f"manifest {path}: layer #{n} role {entry['role']!r} not one of {ROLES}")
        table = entry.get("table")
        specs.append(LayerSpec(
            role=entry["role"], file=base / entry["file"], id_field=entry["id_field"],
            required=tuple(entry.get("required") or ()), layer=entry.get("layer"),
            table=base / table if table else None, table_id=entry.get("table_id") or entry["id_field"],
        ))
    roles = [s.role for s in specs]
    dupes = sorted({r for r in roles if roles.count(r) > 1})
    if dupes:
        raise ManifestError(f"manifest {path}: roles {dupes} appear more than once")
    return Manifest(str(doc.get("name") or Path(path).stem), Path(path), tuple(specs))


@dataclass(frozen=True, eq=False)
class Layer:
    spec: LayerSpec
    source_crs: CRS
    metric: gpd.GeoDataFrame = field(repr=False)
    """Reprojected to UTM 52N (EPSG:32652): distances and areas in metres."""
    screen: gpd.GeoDataFrame = field(repr=False)
    """Reprojected to WGS84 lon/lat for the map."""


@dataclass(frozen=True, eq=False)
class LayerSet:
    manifest: Manifest
    crs: CRS
    layers: dict[str, Layer]

    def __getitem__(self, role: str) -> Layer:
        try:
            return self.layers[role]
        except KeyError:
            raise LayerError(f"layer set {self.manifest.name!r} has no {role!r} layer (has {sorted(self.layers)})") from None


def read_layer(spec: LayerSpec) -> gpd.GeoDataFrame:
    """One layer as found on disk (CRS required, not changed), attribute table joined, attributes checked."""
    if not spec.file.exists():
        raise LayerError(f"{spec.label}: file {spec.file} not found")
    try:
        gdf = gpd.read_file(spec.file, layer=spec.layer, engine="pyogrio")
    except Exception as exc:  # pyogrio raises its own DataSourceError/DataLayerError family
        raise LayerError(f"{spec.label}: cannot be read: {exc}") from None
    if gdf.crs is None:
        raise LayerError(f"{spec.label} has no CRS; define one (e.g. a .prj or the GeoPackage SRS)")
    if spec.table is not None:
        if not spec.table.exists():
            raise LayerError(f"{spec.label}: attribute table {spec.table} not found")
        table = pd.read_csv(spec.table, dtype=str, keep_default_na=False)
        if spec.table_id not in table.columns:
            raise LayerError(f"{spec.label}: attribute table {spec.table.name} lacks {spec.table_id!r}")
        table = table.drop(columns=[c for c in table.columns if c in gdf.columns and c != spec.table_id])
        gdf = gdf.merge(table, left_on=spec.id_field, right_on=spec.table_id, how="left", validate="one_to_one")
    missing = [a for a in (spec.id_field, *spec.required) if a not in gdf.columns]
    if missing:
        have = [c for c in gdf.columns if c != "geometry"]
        raise LayerError(f"{spec.label}: missing required attributes {missing} (has {have})")
    ids = gdf[spec.id_field]
    if ids.isna().any() or ids.duplicated().any():
        dup = ids[ids.duplicated()].astype(str).head(3).tolist()
        raise LayerError(f"{spec.label}: id field {spec.id_field!r} has empty or duplicate values {dup}")
    return gdf


def load_layer_set(manifest_path: Path | None = None) -> LayerSet:
    """Load every layer of a manifest (default: the bundled Heihe sample) and reproject once."""
    manifest = read_manifest(manifest_path or DEFAULT_MANIFEST)
    raw: dict[str, gpd.GeoDataFrame] = {}
    reference: tuple[str, CRS] | None = None
    for spec in manifest.layers:
        gdf = read_layer(spec)
        if reference is None:
            reference = (spec.label, gdf.crs)
        elif not gdf.crs.equals(reference[1]):
            raise LayerError(f"{spec.label} is in {gdf.crs.to_string()} but {reference[0]} is in "
                             f"{reference[1].to_string()}; a layer set must share one CRS")
        raw[spec.role] = gdf
    assert reference is not None
    layers = {
        spec.role: Layer(spec, raw[spec.role].crs, raw[spec.role].to_crs(METRIC), raw[spec.role].to_crs(WGS84))
        for spec in manifest.layers
    }
    return LayerSet(manifest, reference[1], layers)


_PARENT_ROLE = {"county": "city", "township": "county", "village": "township", "cell": "village"}


def hierarchy_problems(layers: LayerSet, parent_field: str = "parent_code", limit: int = 20) -> list[str]:
    """Units whose parent is missing from the level above, or whose code does not extend it."""
    problems: list[str] = []
    for role, parent_role in _PARENT_ROLE.items():
        if role not in layers.layers or parent_role not in layers.layers:
            continue
        child, parent = layers[role], layers[parent_role]
        if parent_field not in child.screen.columns:
            continue
        ids = child.screen[child.spec.id_field].astype(str)
        parents = child.screen[parent_field].astype(str)
        known = set(parent.screen[parent.spec.id_field].astype(str))
        prefix = 4 if parent_role == "city" else None
        for code, up in zip(ids, parents):
            if up not in known:
                problems.append(f"{child.spec.label}: {code} has unknown parent {up!r}")
            elif not code.startswith(up[:prefix] if prefix else up):
                problems.append(f"{child.spec.label}: code {code} does not extend its parent {up}")
            if len(problems) >= limit:
                return problems
    return problems


def grid_model(layers: LayerSet, facilities: Sequence[tuple[str, str]] = ()) -> GridModel:
    """A :class:`~gis.grid.GridModel` from the ``cell`` layer's attributes."""
    cells = layers["cell"]
    df = cells.screen
    label = cells.spec.label

    def numeric(name: str, allow_empty: bool = False) -> pd.Series:
        raw = df[name].astype(str)
        values = pd.to_numeric(df[name], errors="coerce")
        bad = values.isna() & ~((raw == "") & allow_empty)
        if bad.any():
            raise LayerError(f"{label}: attribute {name!r} has non-numeric value {raw[bad].iloc[0]!r}")
        return values

    rep = shapely.point_on_surface(df.geometry.values)
    urban = df["urban"].astype(str).str.lower().isin(("1", "true"))
    gauge = [g if isinstance(g, str) and g else None for g in df["gauge_id"]]
    stage = numeric("inundation_stage_m", allow_empty=True)
    return GridModel.from_columns(
        df[cells.spec.id_field].astype(str).tolist(), shapely.get_x(rep), shapely.get_y(rep),
        numeric("population").to_numpy(), urban.to_numpy(), numeric("forest_frac").to_numpy(),
        df["fuel_type"].astype(str).tolist(), gauge, [None if pd.isna(s) else float(s) for s in stage],
        facilities,
    )
