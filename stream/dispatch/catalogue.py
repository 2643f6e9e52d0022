"""The Open311 service list, generated from the responsibility list (one service per service code).

``stream/ingest/data/open311_services.csv`` is this module's output for the
bundled list, for GeoReport clients and readers; the ingest adapter builds its
catalogue from the list itself at start-up, so a changed list needs no code
change. Regenerate the CSV after editing the bundled list::

    python -m stream.dispatch.catalogue > stream/ingest/data/open311_services.csv
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from stream.dispatch.duration import format_duration
from stream.dispatch.responsibility import Item, ResponsibilityList, load_list
from stream.schemas import Hazard

SERVICES_CSV = Path(__file__).resolve().parents[1] / "ingest" / "data" / "open311_services.csv"
COLUMNS = ("service_code", "service_name", "service_name_zh", "group", "item_code", "department", "departments",
           "hazard", "accept_within", "resolve_within", "keywords", "description")


@dataclass(frozen=True)
class Service:
    """One GeoReport service: a service code of an item."""

    service_code: str
    item: Item
    seat_county: str
    """The county whose department the service names first (the list's first county: Aihui, the city seat)."""

    @property
    def department(self) -> str:
        return self.item.departments[self.seat_county]

    @property
    def hazard(self) -> Hazard | None:
        return self.item.hazard

    @property
    def description(self) -> str:
        return (f"{self.item.name_en} ({self.item.name_zh}); accepted within "
                f"{format_duration(self.item.accept_within)}, resolved within "
                f"{format_duration(self.item.resolve_within)}")


def services(responsibilities: ResponsibilityList) -> dict[str, Service]:
    """Service code -> service, in list order."""
    seat = responsibilities.counties[0]
    return {code: Service(code, item, seat) for item in responsibilities.items for code in item.service_codes}


def row(service: Service) -> dict[str, str]:
    item = service.item
    return {"service_code": service.service_code, "service_name": item.name_en, "service_name_zh": item.name_zh,
            "group": item.category, "item_code": item.code, "department": service.department,
            "departments": ";".join(f"{county}={dept}" for county, dept in item.departments.items()),
            "hazard": item.hazard.value if item.hazard else "",
            "accept_within": format_duration(item.accept_within),
            "resolve_within": format_duration(item.resolve_within), "keywords": item.name_zh,
            "description": service.description}


def services_csv(responsibilities: ResponsibilityList) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(row(s) for s in services(responsibilities).values())
    return out.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    """``[list.csv]``: print the services CSV of a list (default: the bundled one)."""
    args = list(sys.argv[1:] if argv is None else argv)
    sys.stdout.write(services_csv(load_list(Path(args[0]) if args else None)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
