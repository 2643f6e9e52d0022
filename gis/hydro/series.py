"""Reading ``time,value`` CSV files for the hydrology commands.

The first column is an ISO 8601 time (``2021-07-12T08:00:00+08:00``) or a
plain number of hours (textbook tables); the second is the value, in any unit.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from gis.hydro.errors import InvalidSeries

#: Where plain-hour times are counted from (only their differences matter).
HOURS_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    """The time exactly as written in the file (echoed in outputs)."""
    time: datetime
    value: float
    line: int = 0
    """Line number in the file (comments and the header count), for messages that name rows."""


def read_series(path: Path, value_column: str | None = None) -> list[Row]:
    """Rows of a CSV whose header starts ``time,<value>``; ``#`` lines are comments.

    ``value_column`` checks the second column's name; further columns are ignored.
    """
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            numbered = [(reader.line_num, r) for r in reader if not (r and r[0].lstrip().startswith("#"))]
    except OSError as exc:
        raise InvalidSeries(f"cannot read {str(path)!r}: {exc.strerror}") from None
    rows = [r for _, r in numbered]
    if not rows or len(rows[0]) < 2:
        raise InvalidSeries(f"{path}: expected a header 'time,{value_column or 'value'}', got {rows[:1]!r}")
    header = [h.strip().lower() for h in rows[0]]
    if header[0] != "time" or (value_column is not None and header[1] != value_column):
        raise InvalidSeries(f"{path}: expected columns 'time,{value_column or '<value>'}', got {','.join(header)!r}")
    out: list[Row] = []
    for number, row in numbered[1:]:
        if not row or not "".join(row).strip():
            continue
        label = row[0].strip()
        try:
            value = float(row[1])
        except (IndexError, ValueError):
            raise InvalidSeries(f"{path}:{number}: {header[1]!r} is not a number: {row[1:2]!r}") from None
        if not math.isfinite(value):  # nan/inf parse as floats but no crest, route or fit means anything on them
            raise InvalidSeries(f"{path}:{number}: {header[1]!r} is not a finite number: {row[1]!r}")
        out.append(Row(label, parse_time(label, where=f"{path}:{number}"), value, number))
    if len({r.time.tzinfo is None for r in out}) > 1:
        raise InvalidSeries(f"{path}: mixes times with and without a UTC offset")
    return out


def parse_time(text: str, where: str = "time") -> datetime:
    try:
        return HOURS_EPOCH + timedelta(hours=float(text))
    except OverflowError:  # inf, or more hours than a datetime holds
        raise InvalidSeries(f"{where}: time in hours is out of range: {text!r}") from None
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidSeries(f"{where}: time is neither ISO 8601 nor hours: {text!r}") from None


def uniform_step_h(rows: list[Row], where: str) -> float:
    """The one time step of an equally spaced, increasing series, in hours."""
    if len(rows) < 2:
        raise InvalidSeries(f"{where}: need at least 2 rows, got {len(rows)}")
    steps = [(b.time - a.time).total_seconds() / 3600 for a, b in zip(rows, rows[1:])]
    first = steps[0]
    for i, s in enumerate(steps):
        if s <= 0 or abs(s - first) > 1e-6:
            raise InvalidSeries(
                f"{where}: times must be equally spaced and increasing; step {i + 1} "
                f"({rows[i].label!r} -> {rows[i + 1].label!r}) is {s:g} h, the first is {first:g} h"
            )
    return first
