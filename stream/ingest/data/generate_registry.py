"""Regenerate the SAMPLE source registry (sources.csv): 53 departments, 1,389 data categories.

The seed article says Heihe's centre takes in data from 53 departments in 1,389
categories; it does not list them. This script writes a reproducible sample of
that size: the seven feeds the simulators produce (real to Amur: sensors, weather
stations, river gauges) plus generated categories spread over the 29 domains and
their departments. Run: ``python stream/ingest/data/generate_registry.py`` (same output
every time).
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOTAL_CATEGORIES = 1389
SEED = 1389

COLUMNS = ["source_id", "category", "department_id", "dimension", "domain", "schema", "kind",
           "unit", "min", "max", "cadence_s", "required", "sample"]

# The feeds `amur sim feeds` produces; every one is watched from the worker's start.
FEEDS = [
    ("forestry.smoke-sensors", "forest smoke sensor readings", "forestry", "forest_grassland",
     "sensor_reading", "smoke", "%obs/m", 0, 100, 10),
    ("urban-management.smoke-sensors", "city smoke sensor readings", "urban-management", "municipal_facilities",
     "sensor_reading", "smoke", "%obs/m", 0, 100, 10),
    ("meteorology.temperature-sensors", "temperature sensor readings", "meteorology", "meteorology",
     "sensor_reading", "temperature", "degC", -55, 85, 10),
    ("meteorology.rain-sensors", "rain gauge readings (mm since previous)", "meteorology", "meteorology",
     "sensor_reading", "rain", "mm", 0, 50, 10),
    ("water-affairs.water-level-sensors", "riverside water level sensor readings", "water-affairs",
     "water_supply_drainage", "sensor_reading", "water_level", "m", 0, 30, 10),
    ("meteorology.weather-stations", "automatic weather station observations", "meteorology",
     "meteorology", "weather_observation", "", "degC", -55, 45, 60),
    ("hydrology.river-gauges", "river gauge stages", "hydrology", "water_environment_hydrology",
     "water_level", "", "m", -5, 40, 900),
]

# (kind, unit, min, max) templates for generated categories
TEMPLATES = [
    ("other", "count", 0, 1_000_000), ("other", "%", 0, 100), ("other", "index", 0, 500),
    ("other", "kWh", 0, 10_000_000), ("other", "m3", 0, 10_000_000), ("other", "CNY", 0, 1e12),
    ("air_quality", "ug/m3", 0, 2000), ("humidity", "%", 0, 100), ("wind", "m/s", 0, 75),
    ("temperature", "degC", -55, 85),
]
CADENCES = [60, 300, 900, 3600, 21600, 86400]


def generate() -> list[dict[str, object]]:
    rng = random.Random(SEED)
    taxonomy = json.loads((HERE / "taxonomy.json").read_text(encoding="utf-8"))["dimensions"]
    dimension_of = {d: dim for dim, domains in taxonomy.items() for d in domains}
    with (HERE / "departments.csv").open(encoding="utf-8") as fh:
        departments = list(csv.DictReader(fh))
    owners: dict[str, list[str]] = {d: [] for d in dimension_of}
    for dept in departments:
        for domain in dept["domains"].split(";"):
            owners[domain].append(dept["department_id"])
    rows: list[dict[str, object]] = []
    for sid, name, dept, domain, schema, kind, unit, lo, hi, cadence in FEEDS:
        rows.append(dict(zip(COLUMNS, [sid, name, dept, dimension_of[domain], domain, schema, kind,
                                       unit, lo, hi, cadence, "true", "false"])))
    domains = sorted(dimension_of)
    counters: dict[str, int] = {}
    for i in range(TOTAL_CATEGORIES - len(FEEDS)):
        domain = domains[i % len(domains)]
        dept = owners[domain][(i // len(domains)) % len(owners[domain])]
        n = counters[dept] = counters.get(dept, 0) + 1
        kind, unit, lo, hi = rng.choice(TEMPLATES)
        rows.append(dict(zip(COLUMNS, [
            f"{dept}.{domain}.{n:03d}", f"{domain.replace('_', ' ')} indicator {n} (sample)", dept,
            dimension_of[domain], domain, "sensor_reading", kind, unit, lo, hi, rng.choice(CADENCES),
            "false", "true"])))
    return rows


def main() -> None:
    with (HERE / "sources.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(generate())


if __name__ == "__main__":
    main()
