"""The source registry: which department feeds what, in which unit, range and cadence.

The registry is data (``stream/ingest/data/``), not code: ``taxonomy.json`` holds the six
analysis dimensions and their 29 domains, ``departments.csv`` the departments and
``sources.csv`` one row per data category (= one registered source). A city
swaps in its own files (``AMUR_INGEST_REGISTRY`` points at a sources CSV, next to
which ``departments.csv`` and ``taxonomy.json`` are looked up first). Loading
checks every row against the taxonomy and the departments and refuses the file
with an error that names the row, the field and the value.
"""

from __future__ import annotations

import csv
import enum
import json
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from stream.errors import AmurError
from stream.schemas import SensorKind

DATA_DIR = Path(__file__).resolve().parent / "data"
BUNDLED_SOURCES = DATA_DIR / "sources.csv"


class RegistryError(AmurError):
    """A registry file that cannot be used; names the file, row, field and value."""


class SourceSchema(enum.StrEnum):
    """Which wire event a source sends (the ``type`` tag of :mod:`stream.schemas`)."""

    SENSOR_READING = "sensor_reading"
    WEATHER_OBSERVATION = "weather_observation"
    WATER_LEVEL = "water_level"


@dataclass(frozen=True, slots=True)
class Department:
    department_id: str
    name: str
    name_zh: str


@dataclass(frozen=True, slots=True)
class Source:
    """One registered data category and the source that feeds it."""

    source_id: str
    category: str
    department_id: str
    dimension: str
    domain: str
    schema: SourceSchema
    kind: SensorKind | None
    """The sensor kind a ``sensor_reading`` source sends; None for other schemas."""
    unit: str
    min_value: float
    max_value: float
    cadence_s: float
    required: bool
    """Watched from the worker's start; other sources are watched once first seen."""
    sample: bool
    """A generated sample category (no real feed behind it)."""


@dataclass(frozen=True)
class Registry:
    dimensions: dict[str, tuple[str, ...]]
    departments: dict[str, Department]
    sources: dict[str, Source]

    def source(self, source_id: str) -> Source | None:
        return self.sources.get(source_id)

    def counts(self) -> dict[str, int]:
        domains = sum(len(d) for d in self.dimensions.values())
        return {"dimensions": len(self.dimensions), "domains": domains,
                "departments": len(self.departments), "sources": len(self.sources)}

    def sources_per_dimension(self) -> dict[str, int]:
        return dict(Counter(s.dimension for s in self.sources.values()))


def load_registry(sources_csv: Path | None = None) -> Registry:
    """Load and check a registry (default: the bundled sample)."""
    sources_csv = sources_csv or BUNDLED_SOURCES
    folder = sources_csv.parent
    dimensions = _load_taxonomy(_beside(folder, "taxonomy.json"))
    departments = _load_departments(_beside(folder, "departments.csv"))
    domain_dimension = {dom: dim for dim, doms in dimensions.items() for dom in doms}
    sources: dict[str, Source] = {}
    for row_no, row in _read_csv(sources_csv):
        source = _parse_source(row, where=f"{sources_csv.name} row {row_no}")
        if source.source_id in sources:
            raise _error(sources_csv.name, row_no, "source_id", source.source_id, "is registered twice")
        if source.department_id not in departments:
            raise _error(sources_csv.name, row_no, "department_id", source.department_id, "is not a department")
        if domain_dimension.get(source.domain) != source.dimension:
            raise _error(sources_csv.name, row_no, "domain", source.domain,
                         f"is not a domain of dimension {source.dimension!r}")
        sources[source.source_id] = source
    return Registry(dimensions=dimensions, departments=departments, sources=sources)


def _beside(folder: Path, name: str) -> Path:
    own = folder / name
    return own if own.is_file() else DATA_DIR / name


def _load_taxonomy(path: Path) -> dict[str, tuple[str, ...]]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))["dimensions"]
    except (OSError, ValueError, KeyError) as exc:
        raise RegistryError(f"{path}: cannot read the taxonomy ({exc})") from None
    dimensions = {str(dim): tuple(str(d) for d in doms) for dim, doms in raw.items()}
    seen = Counter(d for doms in dimensions.values() for d in doms)
    twice = sorted(d for d, n in seen.items() if n > 1)
    if twice:
        raise RegistryError(f"{path.name}: domain {twice[0]!r} belongs to more than one dimension")
    return dimensions


def _load_departments(path: Path) -> dict[str, Department]:
    departments: dict[str, Department] = {}
    for row_no, row in _read_csv(path):
        dept = Department(row["department_id"], row["name"], row.get("name_zh") or "")
        if not dept.department_id or dept.department_id in departments:
            raise _error(path.name, row_no, "department_id", dept.department_id, "is empty or repeated")
        departments[dept.department_id] = dept
    return departments


def _read_csv(path: Path) -> list[tuple[int, dict[str, str]]]:
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            return [(i, row) for i, row in enumerate(csv.DictReader(fh), start=2)]
    except OSError as exc:
        raise RegistryError(f"cannot read registry file {path} ({exc.strerror})") from None


def _parse_source(row: dict[str, str], *, where: str) -> Source:
    def field(name: str) -> str:
        value = row.get(name)
        if value is None:
            raise RegistryError(f"{where}: column {name!r} is missing")
        return value.strip()

    def number(name: str) -> float:
        text = field(name)
        try:
            value = float(text)
        except ValueError:
            raise RegistryError(f"{where}: {name}={text!r} is not a number") from None
        if not math.isfinite(value):
            raise RegistryError(f"{where}: {name}={text!r} is not finite")
        return value

    source_id = field("source_id")
    if not source_id or len(source_id) > 128 or not source_id.isprintable():
        raise RegistryError(f"{where}: source_id={source_id!r} must have 1..128 printable characters")
    try:
        schema = SourceSchema(field("schema"))
    except ValueError:
        raise RegistryError(f"{where}: schema={field('schema')!r} is not one of "
                            f"{[s.value for s in SourceSchema]}") from None
    kind: SensorKind | None = None
    if schema is SourceSchema.SENSOR_READING:
        try:
            kind = SensorKind(field("kind"))
        except ValueError:
            raise RegistryError(f"{where}: kind={field('kind')!r} is not a sensor kind") from None
    low, high, cadence = number("min"), number("max"), number("cadence_s")
    if low >= high:
        raise RegistryError(f"{where}: min={low} must be below max={high}")
    if cadence <= 0:
        raise RegistryError(f"{where}: cadence_s={cadence} must be positive")
    return Source(source_id=source_id, category=field("category"), department_id=field("department_id"),
                  dimension=field("dimension"), domain=field("domain"), schema=schema, kind=kind,
                  unit=field("unit"), min_value=low, max_value=high, cadence_s=cadence,
                  required=field("required").lower() == "true", sample=field("sample").lower() == "true")


def _error(file: str, row: int, field: str, value: str, problem: str) -> RegistryError:
    return RegistryError(f"{file} row {row}: {field}={value!r} {problem}")
