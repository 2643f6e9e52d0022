"""Errors of the simulated fleet; each message names the field and the value received."""

from __future__ import annotations


class FleetError(Exception):
    """Root of every error :mod:`vision.fleet` raises on purpose."""


class InvalidEventRequest(FleetError):
    """A control request that cannot be scripted (unknown kind, no cameras, bad times)."""


class UnknownCamera(FleetError):
    """A camera id the fleet does not serve."""
