"""Errors of the GB/T 28181 layer; each message names the field and the value received."""

from __future__ import annotations


class Gb28181Error(Exception):
    """Root of every error :mod:`vision.gb28181` raises on purpose."""


class SipRefused(Gb28181Error):
    """A SIP message that is malformed or hostile; the server refuses it and counts it by ``reason``."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


class ManscdpError(Gb28181Error):
    """A MANSCDP XML body that does not parse or lacks a required field."""


class DigestError(Gb28181Error):
    """An Authorization header that is not a well-formed Digest answer."""
