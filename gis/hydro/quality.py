"""What is wrong with a gauge record before any crest is looked for in it.

:func:`check_series` names, by file row, the faults that would otherwise invent
or hide a crest:

- **duplicate time** — two readings at one time (which one is the stage?);
- **out of order** — a time before the previous row's;
- **gap** — no reading for longer than ``max_gap_steps`` typical steps (a crest
  can pass unseen; joining the ends would draw a rise or fall nobody observed);
- **unit change** — the level jumps by a factor near 100 or 1000 and stays there
  (centimetres where metres were, or millimetres);
- **stuck sensor** — the same value for at least ``stuck`` while the stage had
  moved by ``stuck_moves`` typical changes in as long before or after it, and
  the run is not simply the flat top or bottom of a wave (at the start or end of
  the record, where that cannot be told, it must last four times as long).

The typical step is the median time between rows; the typical change the median
of the non-zero changes between rows (for a stuck sensor, of the rows around it). :func:`require_clean` raises
:class:`InvalidSeries` listing every problem, so a bad file gives no crests.
"""

from __future__ import annotations

import enum
import statistics
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from gis.hydro.errors import InvalidSeries
from gis.hydro.series import Row


class ProblemKind(enum.StrEnum):
    DUPLICATE_TIME = "duplicate time"
    OUT_OF_ORDER = "out of order"
    GAP = "gap"
    UNIT_CHANGE = "unit change"
    STUCK = "stuck sensor"


@dataclass(frozen=True, slots=True)
class SeriesProblem:
    kind: ProblemKind
    first_line: int
    last_line: int
    detail: str

    def __str__(self) -> str:
        rows = f"row {self.first_line}" if self.first_line == self.last_line else \
            f"rows {self.first_line}-{self.last_line}"
        return f"{rows}: {self.kind.value}: {self.detail}"


@dataclass(frozen=True, slots=True)
class QualityParams:
    max_gap_steps: float = 4.0
    """A step longer than this many typical steps is a gap."""
    stuck: timedelta = timedelta(hours=6)
    """A value held this long may be a stuck sensor."""
    stuck_moves: float = 10.0
    """... if the stage moved by this many typical changes in as long before or after."""


#: Factors between two units of one length (cm vs m, mm vs m), with the tolerance of a real jump.
_UNIT_FACTORS = {100.0: "x100 (metres to centimetres?)", 1000.0: "x1000 (metres to millimetres?)",
                 0.01: "/100 (centimetres to metres?)", 0.001: "/1000 (millimetres to metres?)"}


def check_series(rows: Sequence[Row], params: QualityParams = QualityParams()) -> tuple[SeriesProblem, ...]:
    """Every problem of a record, in file order (an empty tuple: the record can be used)."""
    if len(rows) < 3:
        return ()
    problems = _order(rows) + _gaps(rows, params) + _unit_changes(rows) + _stuck(rows, params)
    return tuple(sorted(problems, key=lambda p: (p.first_line, p.last_line)))


def require_clean(rows: Sequence[Row], where: str, params: QualityParams = QualityParams()) -> None:
    """Raise :class:`InvalidSeries` naming every problem's rows, if there is any."""
    problems = check_series(rows, params)
    if problems:
        lines = "\n".join(f"  {p}" for p in problems)
        raise InvalidSeries(f"{where}: {len(problems)} problem(s), no crest is looked for in it:\n{lines}")


# --------------------------------------------------------------------------- checks


def _order(rows: Sequence[Row]) -> list[SeriesProblem]:
    out: list[SeriesProblem] = []
    seen: dict[datetime, Row] = {}
    for prev, row in zip(rows, rows[1:]):
        if row.time < prev.time:
            out.append(SeriesProblem(ProblemKind.OUT_OF_ORDER, row.line, row.line,
                                     f"time {row.label} is before row {prev.line}'s {prev.label}"))
    for row in rows:
        first = seen.setdefault(row.time, row)
        if first is not row:
            out.append(SeriesProblem(ProblemKind.DUPLICATE_TIME, first.line, row.line,
                                     f"two readings at {row.label} ({first.value:g} and {row.value:g})"))
    return out


def _typical_step(rows: Sequence[Row]) -> timedelta | None:
    steps = [b.time - a.time for a, b in zip(rows, rows[1:]) if b.time > a.time]
    return statistics.median(steps) if steps else None


def _typical_change(rows: Sequence[Row]) -> float:
    changes = [abs(b.value - a.value) for a, b in zip(rows, rows[1:]) if b.value != a.value]
    return statistics.median(changes) if changes else 0.0


def _gaps(rows: Sequence[Row], params: QualityParams) -> list[SeriesProblem]:
    typical = _typical_step(rows)
    if typical is None:
        return []
    out = []
    for prev, row in zip(rows, rows[1:]):
        if row.time - prev.time > typical * params.max_gap_steps:
            out.append(SeriesProblem(ProblemKind.GAP, prev.line, row.line,
                                     f"no reading for {_span(row.time - prev.time)} ({prev.label} to {row.label}); "
                                     f"the typical step is {_span(typical)}"))
    return out


def _unit_changes(rows: Sequence[Row]) -> list[SeriesProblem]:
    values = [r.value for r in rows]
    jump = 10 * _typical_change(rows)
    out = []
    i = 1
    while i < len(rows):
        a, b = values[i - 1], values[i]
        factor = _unit_factor(a, b)
        if factor is not None and abs(b - a) > jump:
            before = statistics.median(values[max(0, i - 3):i])
            after = statistics.median(values[i:i + 3])
            if _unit_factor(before, after) == factor:
                out.append(SeriesProblem(ProblemKind.UNIT_CHANGE, rows[i - 1].line, rows[i].line,
                                         f"the stage jumps from {a:g} to {b:g}, {_UNIT_FACTORS[factor]}, and stays there"))
                i += 3
                continue
        i += 1
    return out


def _unit_factor(a: float, b: float) -> float | None:
    if a <= 0 or b <= 0:
        return None
    ratio = b / a
    for factor in _UNIT_FACTORS:
        if factor / 2 <= ratio <= factor * 2:
            return factor
    return None


def _stuck(rows: Sequence[Row], params: QualityParams) -> list[SeriesProblem]:
    times = [r.time for r in rows]
    out = []
    start = 0
    while start < len(rows):
        end = start
        while end + 1 < len(rows) and rows[end + 1].value == rows[start].value:
            end += 1
        span = rows[end].time - rows[start].time
        at_edge = start == 0 or end == len(rows) - 1  # a record may end on a long flat tail: be surer there
        long_enough = span >= (4 * params.stuck if at_edge else params.stuck)
        if end > start and long_enough and not _turning(rows, start, end):
            reach = max(24, 2 * (end - start))  # the typical change here, not in a part of the file in other units
            threshold = params.stuck_moves * _typical_change(rows[max(0, start - reach):end + reach])
            value = rows[start].value
            moved = max(abs(value - _value_at(rows, times, rows[start].time - span)),
                        abs(_value_at(rows, times, rows[end].time + span) - value))
            if threshold > 0 and moved >= threshold:
                out.append(SeriesProblem(ProblemKind.STUCK, rows[start].line, rows[end].line,
                                         f"the same value {value:g} for {_span(span)} ({rows[start].label} to "
                                         f"{rows[end].label}) while the stage moved {moved:g} in as long beside it"))
        start = end + 1
    return out


def _turning(rows: Sequence[Row], start: int, end: int) -> bool:
    """The run is the flat top or bottom of a wave (lower, or higher, on both sides)."""
    if start == 0 or end == len(rows) - 1:
        return False
    before, value, after = rows[start - 1].value, rows[start].value, rows[end + 1].value
    return (before < value and after < value) or (before > value and after > value)


def _value_at(rows: Sequence[Row], times: list[datetime], at: datetime) -> float:
    """The reading nearest ``at`` inside the record (clamped to its ends)."""
    i = min(max(bisect_left(times, at), 0), len(rows) - 1)
    return rows[i].value


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"
