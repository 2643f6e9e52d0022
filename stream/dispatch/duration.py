"""ISO 8601 durations (``PT30M``, ``P1DT12H``, ``P2W``) as the responsibility list writes its deadlines.

Only exact units are taken: weeks, days, hours, minutes, seconds. Years and
months are refused (a month is not a fixed time), and so is a zero duration.
"""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(text: str) -> timedelta:
    """``text`` as a positive :class:`timedelta`; :class:`ValueError` saying what is wrong."""
    match = _DURATION.match(text.strip())
    if not match:
        hint = " (years and months are not fixed lengths: use days)" if re.match(r"^P\d+[YM]", text.strip()) else ""
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as PT30M, PT2H or P1D{hint}")
    parts = {name: float(value) for name, value in match.groupdict().items() if value}
    duration = timedelta(**parts)
    if duration <= timedelta(0):
        raise ValueError(f"{text!r} is zero: a deadline must be later than the request")
    return duration


def format_duration(duration: timedelta) -> str:
    """The shortest ISO 8601 form of a positive whole-second duration (``P1DT2H``, ``PT15M``)."""
    seconds = int(duration.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    time = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    return "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "") if days or time else "PT0S"
