"""Exceptions of the hydrology library; each message names the field and the value."""

from __future__ import annotations

from gis.errors import GisError


class HydroError(GisError):
    """Root of every error :mod:`gis.hydro` raises on purpose."""


class InvalidSeries(HydroError):
    """A time series that cannot be used (too short, unordered, not numeric)."""


class UnstableRouting(HydroError):
    """Muskingum parameters outside 2KX <= dt <= 2K(1-X) (or otherwise invalid)."""


class HydroConfigError(HydroError):
    """Hydrology configuration (rating curves, reaches, gauges) that cannot work."""
