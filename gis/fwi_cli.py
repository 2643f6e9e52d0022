"""``amur fwi INPUT.csv``: the daily FWI System over a station's weather file.

Input columns ``date,temp,rh,wind,rain`` (ISO date; °C, %, km/h, mm over 24 h),
one row per consecutive day. Output: the same rows and columns as CSV on
stdout, with ``ffmc,dmc,dc,isi,bui,fwi,danger`` appended (one decimal; danger
is the EFFIS class). A bad row (unparsable, RH outside 0..100, negative rain or
wind, a repeated day) or a missing day is an error naming the line, unless
``--skip-bad``: then it is reported on stderr, a bad row is left out, and the
moisture codes carry over to the next good day (also across a missing day).
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Iterable, TextIO

import click

from gis import fwi as F
from gis.errors import WeatherInputError

REQUIRED = ("date", "temp", "rh", "wind", "rain")
OUTPUT = ("ffmc", "dmc", "dc", "isi", "bui", "fwi", "danger")


@dataclass(frozen=True)
class WeatherDay:
    line: int
    day: date
    temp: float
    rh: float
    wind: float
    rain: float


def parse_row(line: int, row: dict[str, str]) -> WeatherDay:
    """One CSV row -> a validated day; raises WeatherInputError naming line, field and value."""
    try:
        day = date.fromisoformat(row["date"].strip())
    except (ValueError, AttributeError):
        raise WeatherInputError(f"line {line}: field 'date' = {row.get('date')!r} is not an ISO date") from None
    values: dict[str, float] = {}
    for name in REQUIRED[1:]:
        try:
            values[name] = float(row[name])
        except (TypeError, ValueError):
            raise WeatherInputError(f"line {line}: field {name!r} = {row.get(name)!r} is not a number") from None
    if not 0.0 <= values["rh"] <= 100.0:
        raise WeatherInputError(f"line {line}: field 'rh' = {values['rh']} outside 0..100 %")
    for name in ("rain", "wind"):
        if values[name] < 0.0:
            raise WeatherInputError(f"line {line}: field {name!r} = {values[name]} is negative")
    return WeatherDay(line, day, values["temp"], values["rh"], values["wind"], values["rain"])


@dataclass(frozen=True)
class FwiRow:
    row: dict[str, str]
    values: F.FwiDay
    danger: F.DangerClass


def run(rows: Iterable[tuple[int, dict[str, str]]], ffmc0: float = F.FFMC_START, dmc0: float = F.DMC_START,
        dc0: float = F.DC_START, skip_bad: bool = False) -> tuple[list[FwiRow], list[str]]:
    """Carry the three codes day to day; returns the computed rows and the skipped-row reasons."""
    out: list[FwiRow] = []
    skipped: list[str] = []
    codes = (ffmc0, dmc0, dc0)
    previous: date | None = None
    for line, row in rows:
        try:
            day = parse_row(line, row)
            if previous is not None and day.day <= previous:
                raise WeatherInputError(f"line {line}: field 'date' = {day.day.isoformat()} repeats or goes back "
                                        f"from {previous.isoformat()}")
        except WeatherInputError as exc:
            if not skip_bad:
                raise
            skipped.append(str(exc))
            continue
        if previous is not None and day.day != previous + timedelta(days=1):
            gap = WeatherInputError(f"line {line}: field 'date' = {day.day.isoformat()} leaves days missing "
                                    f"after {previous.isoformat()}")
            if not skip_bad:
                raise gap
            skipped.append(f"{gap} (codes carried over the gap)")
        values = F.fwi_day(day.temp, day.rh, day.wind, day.rain, day.day.month, *codes)
        codes = (float(values.ffmc), float(values.dmc), float(values.dc))
        out.append(FwiRow(row, values, F.danger_class(float(values.fwi))))
        previous = day.day
    return out, skipped


def write(rows: list[FwiRow], fieldnames: list[str], stream: TextIO) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow([*fieldnames, *OUTPUT])
    for r in rows:
        v = r.values
        numbers = [f"{float(x):.1f}" for x in (v.ffmc, v.dmc, v.dc, v.isi, v.bui, v.fwi)]
        writer.writerow([r.row[k] for k in fieldnames] + numbers + [r.danger.value])


@click.command(name="fwi", help="The daily FWI System over a station's weather file.\n\n"
                               "INPUT: CSV with date,temp,rh,wind,rain ('-' for stdin), one row per consecutive day. "
                               "Prints the rows as CSV with ffmc,dmc,dc,isi,bui,fwi,danger appended.")
@click.argument("input_", metavar="INPUT",
                type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path))
@click.option("--ffmc0", type=float, default=F.FFMC_START, show_default=True, help="FFMC carried into the first day")
@click.option("--dmc0", type=float, default=F.DMC_START, show_default=True, help="DMC carried into the first day")
@click.option("--dc0", type=float, default=F.DC_START, show_default=True, help="DC carried into the first day")
@click.option("--skip-bad", is_flag=True, help="report bad rows on stderr and go on")
def command(input_: Path, ffmc0: float, dmc0: float, dc0: float, skip_bad: bool) -> int:
    fh = sys.stdin if str(input_) == "-" else input_.open(newline="", encoding="utf-8")
    try:
        reader = csv.DictReader(fh)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            print(f"amur fwi: {input_}: missing columns {missing}", file=sys.stderr)
            return 2
        numbered = ((reader.line_num, row) for row in reader)
        try:
            rows, skipped = run(numbered, ffmc0, dmc0, dc0, skip_bad)
        except WeatherInputError as exc:
            print(f"amur fwi: {input_}: {exc}", file=sys.stderr)
            return 1
        for reason in skipped:
            print(f"amur fwi: skipped {reason}", file=sys.stderr)
        write(rows, list(reader.fieldnames or []), sys.stdout)
    finally:
        if fh is not sys.stdin:
            fh.close()
    return 0
