"""Errors of the camera clients; each message names the field and the value received."""

from __future__ import annotations


class SourceError(Exception):
    """Root of every error :mod:`vision.sources` raises on purpose."""


class UnsupportedProtocol(SourceError):
    """A camera whose protocol no client here speaks."""


class StreamUnavailable(SourceError):
    """An RTSP stream or video file that cannot be opened or gives no keyframe."""


class CredentialsError(SourceError):
    """A camera credentials table that cannot be read (the message names the line, never the password)."""
