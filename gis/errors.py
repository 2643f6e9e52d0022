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


class WeatherInputError(GisError, ValueError):
    """Weather that cannot feed the FWI System (RH outside 0..100, negative rain, a gap)."""


class ModelInputError(GisError, ValueError):
    """Inputs that do not fit the grid model (wrong length, bad thresholds, unknown fuel type)."""
