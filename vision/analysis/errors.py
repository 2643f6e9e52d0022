"""Errors raised by the frame analysis; each message names the field and value received."""

from __future__ import annotations


class AnalysisError(Exception):
    """Root of every error :mod:`vision.analysis` raises on purpose."""


class UndecodableFrame(AnalysisError):
    """Bytes or a file that do not decode to an image."""


class InvalidConfig(AnalysisError):
    """An analysis setting outside its bounds."""


class ModelError(AnalysisError):
    """A classifier file that is missing, unreadable or does not match the features."""


class DatasetError(AnalysisError):
    """The labelled image set is missing or malformed."""
