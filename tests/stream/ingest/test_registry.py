"""The source registry: the bundled sample's size, its feeds, reproducibility and refusals."""

from __future__ import annotations

import csv
import importlib.util
import shutil
from pathlib import Path

import pytest

from stream.ingest.registry import (
    BUNDLED_SOURCES,
    DATA_DIR,
    RegistryError,
    SourceSchema,
    load_registry,
)
from stream.schemas import SensorKind
from tests.helpers.ingest import write_sources


def test_bundled_sample_has_the_centres_counts() -> None:
    # Seed article (../shared/seed/000_7f18f35e1455d77c.txt, line 15): "接入了53个部门、1389类…数据",
    # analysed along "6个维度和29个细分领域".
    registry = load_registry()
    assert registry.counts() == {"dimensions": 6, "domains": 29, "departments": 53, "sources": 1389}
    assert set(registry.dimensions) == {"infrastructure", "government_services", "economy", "culture",
                                        "ecology_environment", "livelihood"}
    assert sum(registry.sources_per_dimension().values()) == 1389
    assert {s.department_id for s in registry.sources.values()} == set(registry.departments)


def test_the_simulated_feeds_are_registered_and_watched() -> None:
    registry = load_registry()
    kinds = {s.kind for s in registry.sources.values() if s.schema is SourceSchema.SENSOR_READING and not s.sample}
    assert kinds == {SensorKind.SMOKE, SensorKind.TEMPERATURE, SensorKind.RAIN, SensorKind.WATER_LEVEL}
    gauges = registry.source("hydrology.river-gauges")
    weather = registry.source("meteorology.weather-stations")
    assert gauges is not None and gauges.schema is SourceSchema.WATER_LEVEL and gauges.required
    assert weather is not None and weather.cadence_s == 60 and weather.required
    assert all(s.sample and not s.required for s in registry.sources.values() if s.department_id == "audit")


def test_generator_reproduces_the_shipped_file() -> None:
    spec = importlib.util.spec_from_file_location("generate_registry", DATA_DIR / "generate_registry.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with BUNDLED_SOURCES.open(encoding="utf-8") as fh:
        shipped = list(csv.DictReader(fh))
    assert [{k: str(v) for k, v in row.items()} for row in module.generate()] == shipped


def _write(tmp_path: Path, edit: dict[str, str], row: int = 0) -> Path:
    def pick(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        rows = rows[:10]
        rows[row].update(edit)
        return rows

    return write_sources(tmp_path, pick)


@pytest.mark.parametrize(("edit", "message"), [
    ({"domain": "tourism"}, "sources.csv row 2: domain='tourism' is not a domain of dimension"),
    ({"department_id": "ministry-of-magic"}, "department_id='ministry-of-magic' is not a department"),
    ({"source_id": "meteorology.temperature-sensors"}, "source_id='meteorology.temperature-sensors' is registered twice"),
    ({"min": "5", "max": "5"}, "min=5.0 must be below max=5.0"),
    ({"max": "lots"}, "max='lots' is not a number"),
    ({"schema": "telepathy"}, "schema='telepathy' is not one of"),
    ({"kind": "vibes"}, "kind='vibes' is not a sensor kind"),
    ({"cadence_s": "0"}, "cadence_s=0.0 must be positive"),
    ({"source_id": "bad\x1fid"}, "must have 1..128 printable characters"),
])
def test_a_bad_row_is_refused_naming_row_field_and_value(tmp_path: Path, edit: dict[str, str], message: str) -> None:
    with pytest.raises(RegistryError, match=message.replace("(", r"\(")):
        load_registry(_write(tmp_path, edit))


def test_a_city_can_ship_its_own_taxonomy_and_departments(tmp_path: Path) -> None:
    path = _write(tmp_path, {})
    shutil.copy(DATA_DIR / "taxonomy.json", tmp_path / "taxonomy.json")
    (tmp_path / "departments.csv").write_text("department_id,name,name_zh,domains\nforestry,F,F,forest_grassland\n",
                                              encoding="utf-8")
    with pytest.raises(RegistryError, match="department_id='urban-management' is not a department"):
        load_registry(path)


def test_missing_file_is_a_registry_error(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="cannot read registry file"):
        load_registry(tmp_path / "nope.csv")
