"""Exceptions raised by :mod:`gis`; every message names the layer, field or value at fault."""

from __future__ import annotations


class GisError(Exception):
    """Root of every error the GIS library raises on purpose."""


class LayerError(GisError):
    """A layer cannot be used: missing file, no CRS, CRS mismatch, missing attributes."""


class ManifestError(GisError):
    """A layer-set manifest is malformed."""


class RegistryError(GisError):
    """A registry file (gauges, stations, sensors, cameras ...) has a bad row."""


class WeatherInputError(GisError):
    """A daily weather row cannot feed the FWI System (RH > 100, negative rain, a gap)."""
