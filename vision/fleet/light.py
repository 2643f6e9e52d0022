"""Daylight on the virtual clock: the sun's elevation and what it does to a frame's brightness.

Solar elevation uses the textbook approximation (declination
delta = -23.44 deg * cos(360/365 * (N + 10)), hour angle from local solar time
= UTC + lon/15 h; sin(e) = sin(lat) sin(delta) + cos(lat) cos(delta) cos(h)),
good to about a degree, which is plenty for lighting a synthetic scene.
Brightness ramps through civil twilight (-6 deg) to full day at +10 deg.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

CIVIL_TWILIGHT_DEG = -6.0
FULL_DAY_DEG = 10.0
NIGHT_LEVEL = 0.18
"""Brightness of a lit city scene at night relative to day (street lamps, sky glow)."""


def solar_elevation_deg(at: datetime, lon: float, lat: float) -> float:
    """Sun's elevation above the horizon at ``at`` (tz-aware) seen from lon/lat, degrees."""
    if at.tzinfo is None:
        raise ValueError(f"at: time without a zone: {at.isoformat()}")
    utc = at.timestamp()
    day_of_year = datetime.fromtimestamp(utc, timezone.utc).timetuple().tm_yday
    declination = math.radians(-23.44 * math.cos(math.radians(360.0 / 365.0 * (day_of_year + 10))))
    utc_hours = (utc % 86400.0) / 3600.0
    hour_angle = math.radians(15.0 * (utc_hours + lon / 15.0 - 12.0))
    phi = math.radians(lat)
    sin_e = math.sin(phi) * math.sin(declination) + math.cos(phi) * math.cos(declination) * math.cos(hour_angle)
    return math.degrees(math.asin(max(-1.0, min(1.0, sin_e))))


def daylight(elevation_deg: float) -> float:
    """0 at night, 1 in full day, a smooth ramp through twilight."""
    t = (elevation_deg - CIVIL_TWILIGHT_DEG) / (FULL_DAY_DEG - CIVIL_TWILIGHT_DEG)
    t = min(1.0, max(0.0, t))
    return t * t * (3 - 2 * t)


def brightness(elevation_deg: float) -> float:
    """Multiplier applied to a day-lit scene: NIGHT_LEVEL at night, 1 by day."""
    return NIGHT_LEVEL + (1.0 - NIGHT_LEVEL) * daylight(elevation_deg)
