"""Test helper for ingest tests: small registry files derived from the bundled sample."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from stream.ingest.registry import BUNDLED_SOURCES


def write_sources(folder: Path, pick: Callable[[list[dict[str, str]]], list[dict[str, str]]]) -> Path:
    """Write ``folder/sources.csv`` with the bundled rows that ``pick`` returns (edited as it likes)."""
    with BUNDLED_SOURCES.open(encoding="utf-8") as fh:
        rows = pick(list(csv.DictReader(fh)))
    path = folder / "sources.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path
