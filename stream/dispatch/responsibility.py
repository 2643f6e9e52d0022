"""The responsibility list (权责清单): which department answers for which item, in which county, by when.

One CSV row per item (the bundled Heihe sample has 225; the format is in
docs/dispatch.md). The list is read once at start-up and refused whole when a
row is wrong, with a message naming the file, the line, the item and the field:
an unknown department, a duplicate item or service code, a deadline that is not
an ISO 8601 duration, a hazard the incident path does not know, a county of the
layer set with no department for the item's category.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from stream.dispatch.duration import parse_duration
from stream.errors import ConfigError
from stream.schemas import Hazard

DATA_DIR = Path(__file__).resolve().parent / "data"
BUNDLED_LIST = DATA_DIR / "responsibilities.csv"
DEPARTMENTS_CSV = Path(__file__).resolve().parents[1] / "ingest" / "data" / "departments.csv"
DEPARTMENT_COLUMN = "department_"
"""Prefix of the per-county department columns: ``department_<county code>``."""
COLUMNS = ("item_code", "category", "name_zh", "name_en", "service_codes", "hazard", "accept_within",
           "resolve_within", "escalation_contact")
#: Hazards a request can be evidence of (the incident path's own hazards, camera and source faults, are not).
REQUEST_HAZARDS = (Hazard.FLOOD, Hazard.FIRE, Hazard.PUBLIC_SAFETY)
_ITEM_CODE = re.compile(r"^[A-Z]{2,5}-\d{3}$")
_SERVICE_CODE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


class ListRefused(ConfigError):
    """A responsibility list that cannot be used; names the file, line, item and field."""

    def __init__(self, name: str, line: int, field: str, value: str, reason: str, item: str = "") -> None:
        self.line, self.field, self.value = line, field, value
        where = f"{name} line {line}" + (f" (item {item})" if item else "")
        super().__init__(f"{where}, field {field}: {reason} (value {value!r})")


@dataclass(frozen=True)
class Item:
    """One responsibility item."""

    code: str
    category: str
    name_zh: str
    name_en: str
    service_codes: tuple[str, ...]
    """Open311 service codes this item answers; each code belongs to exactly one item."""
    departments: Mapping[str, str]
    """County code -> responsible department id (stream/ingest/data/departments.csv)."""
    accept_within: timedelta
    resolve_within: timedelta
    escalation_contact: str
    """Department told at every escalation step from the county level up."""
    hazard: Hazard | None
    """Flood, fire or public safety: the request is also evidence for the incident path."""


@dataclass(frozen=True)
class ResponsibilityList:
    items: tuple[Item, ...]
    counties: tuple[str, ...]
    source: str = BUNDLED_LIST.name
    departments: frozenset[str] = frozenset()
    """Every department the list was checked against (a re-route may name any of them)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_code", {i.code: i for i in self.items})
        object.__setattr__(self, "_by_service", {c: i for i in self.items for c in i.service_codes})

    def item(self, code: str) -> Item | None:
        return self._by_code.get(code)  # type: ignore[attr-defined,no-any-return]

    def for_service(self, service_code: str) -> Item | None:
        return self._by_service.get(service_code)  # type: ignore[attr-defined,no-any-return]

    @property
    def service_codes(self) -> tuple[str, ...]:
        return tuple(c for i in self.items for c in i.service_codes)


def read_departments(path: Path = DEPARTMENTS_CSV) -> dict[str, tuple[str, str]]:
    """Department id -> (English name, Chinese name)."""
    with path.open(encoding="utf-8", newline="") as f:
        return {row["department_id"]: (row["name"], row["name_zh"]) for row in csv.DictReader(f)}


def layer_counties(manifest: Path | None = None) -> tuple[str, ...]:
    """County codes of a GIS layer set (None: the bundled Heihe sample), in code order."""
    from gis.layers import DEFAULT_MANIFEST, read_layer, read_manifest

    spec = next(s for s in read_manifest(manifest or DEFAULT_MANIFEST).layers if s.role == "county")
    return tuple(sorted(str(code) for code in read_layer(spec)[spec.id_field]))


def load_list(path: Path | None = None, *, departments: Collection[str] | None = None,
              counties: Sequence[str] | None = None, manifest: Path | None = None) -> ResponsibilityList:
    """Read and check a list (None: the bundled sample) against known departments and the counties given, else
    those of the layer set ``manifest`` (None: the bundled Heihe sample)."""
    path = path or BUNDLED_LIST
    try:
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            header = tuple(reader.fieldnames or ())
            rows = list(enumerate(reader, start=2))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"responsibility list {path}: cannot be read ({exc})") from None
    known = set(read_departments()) if departments is None else set(departments)
    counties = tuple(counties) if counties is not None else layer_counties(manifest)
    return parse_list(path.name, header, rows, known, counties)


def parse_list(name: str, header: Sequence[str], rows: Sequence[tuple[int, Mapping[str, str | None]]],
               departments: Collection[str], counties: Sequence[str]) -> ResponsibilityList:
    """The checked list from CSV rows (line number, row); the first problem found is raised."""
    missing = [c for c in (*COLUMNS, *(DEPARTMENT_COLUMN + c for c in counties)) if c not in header]
    if missing:
        raise ListRefused(name, 1, missing[0], "", "column missing from the header")
    for column in header:
        if column.startswith(DEPARTMENT_COLUMN) and column.removeprefix(DEPARTMENT_COLUMN) not in counties:
            raise ListRefused(name, 1, column, column, f"not a county of the layer set ({', '.join(counties)})")
    items: list[Item] = []
    codes: dict[str, int] = {}
    services: dict[str, str] = {}
    for line, row in rows:
        item = _parse_row(name, line, {k: (v or "").strip() for k, v in row.items() if k}, departments, counties)
        if item.code in codes:
            raise ListRefused(name, line, "item_code", item.code, f"duplicate: already on line {codes[item.code]}",
                              item.code)
        for code in item.service_codes:
            if code in services:
                raise ListRefused(name, line, "service_codes", code,
                                  f"duplicate service code: item {services[code]} already answers it", item.code)
            services[code] = item.code
        codes[item.code] = line
        items.append(item)
    if not items:
        raise ListRefused(name, 1, "item_code", "", "the list has no items")
    return ResponsibilityList(tuple(items), tuple(counties), name, frozenset(departments))


def _parse_row(name: str, line: int, row: Mapping[str, str], departments: Collection[str],
               counties: Sequence[str]) -> Item:
    code = row["item_code"]

    def refuse(field: str, reason: str) -> ListRefused:
        return ListRefused(name, line, field, row.get(field, ""), reason, code)

    if not _ITEM_CODE.match(code):
        raise refuse("item_code", "not an item code like FLD-001 (2-5 capitals, a hyphen, 3 digits)")
    for field in ("category", "name_zh", "name_en"):
        if not row[field]:
            raise refuse(field, "empty")
    service_codes = tuple(c.strip() for c in row["service_codes"].split(";") if c.strip())
    if not service_codes:
        raise refuse("service_codes", "empty: every item answers at least one Open311 service code")
    bad = [c for c in service_codes if not _SERVICE_CODE.match(c)]
    if bad:
        raise ListRefused(name, line, "service_codes", bad[0], "not a service code (lower case, digits, _)", code)
    by_county: dict[str, str] = {}
    for county in counties:
        field = DEPARTMENT_COLUMN + county
        department = row[field]
        if not department:
            raise refuse(field, f"county {county} has no department for category {row['category']!r}")
        if department not in departments:
            raise refuse(field, "unknown department (not in departments.csv)")
        by_county[county] = department
    deadlines = []
    for field in ("accept_within", "resolve_within"):
        try:
            deadlines.append(parse_duration(row[field]))
        except ValueError as exc:
            raise refuse(field, str(exc)) from None
    if deadlines[1] < deadlines[0]:
        raise refuse("resolve_within", f"shorter than accept_within {row['accept_within']}")
    if row["escalation_contact"] not in departments:
        raise refuse("escalation_contact", "unknown department (not in departments.csv)")
    hazard = None
    if row["hazard"]:
        try:
            hazard = Hazard(row["hazard"])
        except ValueError:
            hazard = None
        if hazard not in REQUEST_HAZARDS:
            raise refuse("hazard", f"not one of {', '.join(h.value for h in REQUEST_HAZARDS)} (or empty)")
    return Item(code, row["category"], row["name_zh"], row["name_en"], service_codes, by_county,
                deadlines[0], deadlines[1], row["escalation_contact"], hazard)
