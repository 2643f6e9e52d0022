"""The gateway's exceptions: each names what was refused and why."""

from __future__ import annotations

from stream.errors import AmurError


class GatewayError(AmurError):
    """Root of the command view's errors."""


class AuthError(GatewayError):
    """A token that is missing, malformed, badly signed, expired or out of bounds."""


class ProtocolError(GatewayError):
    """A client message that is not valid JSON or not a known message."""


class CommandRefused(GatewayError):
    """An operator command refused at the gateway; ``code`` is machine-readable."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)
